"""The grid search's array kernels against the plain sparse-matrix forms they replace, and the
exact search against the set-based enumeration it was written from (same answer, same budget)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.grids.exact import BudgetExceeded, bits, exact_parts, whole_grids_possible
from gridplan.grids.search import (
    Graph,
    _components_within,
    _shared,
    _subgraph,
    plan_graph,
)


def _random_graph(seed: int, n: int = 60) -> tuple[Graph, nx.Graph]:
    """A connected small-world graph with random boundary lengths, weights and shapes."""
    rng = np.random.default_rng(seed)
    g = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    i, j = np.array(list(g.edges())).T
    ln = rng.uniform(1.0, 200.0, len(i))
    adj = sparse.csr_matrix((np.r_[ln, ln], (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    w = rng.integers(20, 160, n)
    return Graph(w, adj, rng.uniform(100, 900, n), rng.uniform(40, 140, n)), g


@pytest.mark.parametrize("seed", range(6))
def test_shared_boundaries_equal_the_sparse_product_bit_for_bit(seed):
    g, _ = _random_graph(seed)
    labels = np.random.default_rng(seed).integers(0, 7, g.n)
    k = int(labels.max()) + 1
    onehot = sparse.csr_matrix((np.ones(g.n), (np.arange(g.n), labels)), shape=(g.n, k))
    coo = (g.adj @ onehot).tocsr().tocoo()
    order = np.lexsort((coo.col, coo.row))
    unit, grid, length = _shared(g, labels, k)
    np.testing.assert_array_equal(unit, coo.row[order])
    np.testing.assert_array_equal(grid, coo.col[order])
    assert length.tobytes() == coo.data[order].tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_subgraph_and_within_grid_components_equal_scipy_slicing(seed):
    g, _ = _random_graph(seed)
    rng = np.random.default_rng(100 + seed)
    idx = np.flatnonzero(rng.random(g.n) < 0.6)
    sub = _subgraph(g, idx)
    want = g.adj[idx][:, idx].tocsr()
    want.sort_indices()
    np.testing.assert_array_equal(sub.adj.indptr, want.indptr)
    np.testing.assert_array_equal(sub.adj.indices, want.indices)
    assert sub.adj.data.tobytes() == want.data.tobytes()

    labels = rng.integers(0, 5, g.n)
    coo = g.adj.tocoo()
    keep = labels[coo.row] == labels[coo.col]
    m = sparse.csr_matrix((np.ones(keep.sum()), (coo.row[keep], coo.col[keep])), shape=g.adj.shape)
    np.testing.assert_array_equal(_components_within(g, labels), connected_components(m, directed=False)[1])


def _set_search(w: list[int], nbs: list[set], lo: int, hi: int, budget: int, steps: list[int]):
    """The enumeration with Python sets, as first written: include/exclude growth of connected
    sets from a peripheral root, components of the rest solved independently, memoised.
    ``steps[0]`` counts the sets extended."""
    counter = steps
    memo: dict = {}

    def components(nodes: frozenset) -> list[frozenset]:
        left, out = set(nodes), []
        while left:
            start = min(left)
            comp, stack = {start}, [start]
            while stack:
                for y in nbs[stack.pop()]:
                    if y in left and y not in comp:
                        comp.add(y)
                        stack.append(y)
            left -= comp
            out.append(frozenset(comp))
        return sorted(out, key=min)

    def solve(region: frozenset):
        if region in memo:
            return memo[region]
        total = sum(w[x] for x in region)
        if not whole_grids_possible(total, lo, hi) or any(w[x] > hi for x in region):
            memo[region] = None
            return None
        if lo <= total <= hi:
            memo[region] = [region]
            return memo[region]
        root = min(region, key=lambda x: (len(nbs[x] & region), x))
        result = None

        def extend(sset, weight, frontier, forbidden):
            nonlocal result
            counter[0] += 1
            if counter[0] > budget:
                raise BudgetExceeded
            if weight >= lo:
                parts = [sset]
                for comp in components(region - sset):
                    sub = solve(comp)
                    if sub is None:
                        parts = None
                        break
                    parts = parts + sub
                if parts is not None:
                    result = parts
                    return True
            forb = set(forbidden)
            for i, v in enumerate(frontier):
                if weight + w[v] <= hi:
                    more = sorted((nbs[v] & region) - sset - forb - set(frontier))
                    if extend(sset | {v}, weight + w[v], frontier[i + 1 :] + more, forb):
                        return True
                forb.add(v)
            return False

        extend(frozenset([root]), w[root], sorted(nbs[root] & region), {root})
        memo[region] = result
        return result

    return solve(frozenset(range(len(w))))


@pytest.mark.parametrize("seed", range(16))
def test_exact_search_is_the_set_enumeration(seed):
    """Same first partition found, and the budget runs out at the same step: with as many steps
    as the set enumeration takes both finish, with one fewer both give up."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 18))
    g = nx.connected_watts_strogatz_graph(n, 3, 0.4, seed=seed)
    w = [int(x) for x in rng.integers(30, 220, n)]
    lo, hi = 300, 500
    nbs = [set(g.neighbors(x)) for x in range(n)]
    steps = [0]
    want = _set_search(w, nbs, lo, hi, 10**9, steps)
    nb = [sum(1 << v for v in a) for a in nbs]
    got = exact_parts(w, nb, lo, hi, steps[0])
    assert (got is None) == (want is None)
    if want is not None:
        assert [bits(p) for p in got] == [sorted(p) for p in want]
    with pytest.raises(BudgetExceeded):
        exact_parts(w, nb, lo, hi, steps[0] - 1)


def test_remembered_plans_are_copies():
    g, _ = _random_graph(3, n=40)
    labels, info = plan_graph(g, 300, 500, seed=1)
    labels[:] = -1
    info["k"] = -1
    again, info2 = plan_graph(g, 300, 500, seed=1)
    assert again.min() == 0 and info2["k"] == int(again.max()) + 1
