"""Siting solvers against brute-force enumeration on small random instances.

The brute force is independent of the solvers: itertools.combinations over candidates, covered
weight by numpy, and for the capacitated problem the households served by a max-flow in NetworkX.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.siting import solvers as S


def _instance(rng, n_max=22, m_max=9):
    n, m = int(rng.integers(4, n_max)), int(rng.integers(3, m_max))
    A = rng.random((n, m)) < rng.uniform(0.1, 0.5)
    w = rng.integers(1, 60, n).astype(float)
    return A, w


def _covered(A, w, cols) -> float:
    cols = list(cols)
    return float(w[A[:, cols].any(axis=1)].sum()) if cols else 0.0


def _brute_mclp(A, w, k) -> float:
    m = A.shape[1]
    return max(_covered(A, w, c) for c in itertools.combinations(range(m), min(k, m)))


def _flow(A, w, cap, cols) -> float:
    """Households the open columns can serve: max flow source -> rows -> columns -> sink."""
    G = nx.DiGraph()
    G.add_node("s")
    G.add_node("t")
    for i in range(len(w)):
        G.add_edge("s", ("r", i), capacity=float(w[i]))
        for j in cols:
            if A[i, j]:
                G.add_edge(("r", i), ("c", j))  # no capacity attribute = unlimited
    for j in cols:
        if np.isfinite(cap[j]):
            G.add_edge(("c", j), "t", capacity=float(cap[j]))
        else:
            G.add_edge(("c", j), "t")
    return float(nx.maximum_flow_value(G, "s", "t"))


@pytest.mark.parametrize("seed", range(4))
def test_mclp_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        A, w = _instance(rng)
        k = int(rng.integers(1, 4))
        best = _brute_mclp(A, w, k)
        r = S.max_cover(sp.csr_array(A), w, k, time_limit=10)
        assert r.objective == pytest.approx(best)
        assert r.status == "optimal" and r.gap == 0.0 and r.bound == pytest.approx(best)
        assert len(r.sites) <= k and len(set(r.sites.tolist())) == len(r.sites)
        # the claim is true of the sites as returned, and the ranked gains add up to it
        assert _covered(A, w, r.sites) == pytest.approx(best)
        assert r.gains.sum() == pytest.approx(best)
        assert np.all(np.diff(r.gains) <= 1e-9)  # ranked by marginal gain, best first


def test_greedy_bound_brackets_the_optimum():
    rng = np.random.default_rng(11)
    worse = 0
    for _ in range(60):
        A, w = _instance(rng, n_max=30, m_max=10)
        k = int(rng.integers(1, 4))
        best = _brute_mclp(A, w, k)
        r = S.max_cover(sp.csr_array(A), w, k, method="greedy")
        assert r.method == "greedy"
        assert r.objective <= best + 1e-9 <= r.bound + 1e-9
        assert r.objective >= (1 - 1 / np.e) * best - 1e-9
        assert r.gap == pytest.approx((r.bound - r.objective) / r.bound if r.bound else 0.0)
        assert (r.status == "optimal") == (r.gap == 0.0)
        worse += r.objective < best - 1e-9
    # the instances are hard enough for greedy to miss sometimes (else this test proves little)
    assert worse > 0


@pytest.mark.parametrize("seed", range(3))
def test_lscp_equals_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(20):
        A, w = _instance(rng)
        reachable = float(w[A.any(axis=1)].sum())
        need = float(np.floor(rng.uniform(0.3, 1.0) * reachable))
        m = A.shape[1]
        p = next(
            p
            for p in range(m + 1)
            if any(_covered(A, w, c) >= need for c in itertools.combinations(range(m), p))
        )
        most = max(_covered(A, w, c) for c in itertools.combinations(range(m), p))
        r = S.min_cover(sp.csr_array(A), w, need, time_limit=10)
        assert r.objective == p and len(r.sites) == p and r.status == "optimal"
        assert _covered(A, w, r.sites) >= need
        # among the fewest sites, the ones covering the most
        assert r.details["covered"] == pytest.approx(most)


def test_lscp_unreachable_target_says_so():
    A = sp.csr_array(np.array([[1, 0], [0, 0], [0, 1]], dtype=bool))
    with pytest.raises(ValueError, match="cover"):
        S.min_cover(A, np.array([5.0, 10.0, 5.0]), need=15.0)


@pytest.mark.parametrize("seed", range(3))
def test_capacitated_equals_brute_force(seed):
    rng = np.random.default_rng(200 + seed)
    for _ in range(12):
        A, w = _instance(rng, n_max=16, m_max=8)
        m = A.shape[1]
        n_fixed = int(rng.integers(0, 3))
        fixed = np.zeros(m, dtype=bool)
        fixed[:n_fixed] = True
        cap = rng.integers(10, 120, m).astype(float)
        if n_fixed and rng.random() < 0.3:
            cap[0] = np.inf  # an existing centre of unknown floor area
        k = int(rng.integers(1, 3))
        base_cols = list(range(n_fixed))
        baseline = _flow(A, w, cap, base_cols)
        best = max(
            _flow(A, w, cap, base_cols + list(c))
            for kk in range(k + 1)
            for c in itertools.combinations(range(n_fixed, m), kk)
        )
        r = S.max_cover_capacitated(sp.csr_array(A), w, cap, k, fixed=fixed, time_limit=10)
        assert r.objective == pytest.approx(best - baseline)
        assert r.details["baseline"] == pytest.approx(baseline)
        assert r.status == "optimal"
        assert not set(r.sites.tolist()) & set(base_cols) and len(r.sites) <= k
        assert _flow(A, w, cap, base_cols + r.sites.tolist()) == pytest.approx(best)
        assert r.gains.sum() == pytest.approx(best - baseline)


def test_capacity_limits_what_a_small_room_covers():
    # one candidate reaches everybody but can serve 50 of 300 households
    A = sp.csr_array(np.ones((3, 2), dtype=bool))
    w = np.array([100.0, 100.0, 100.0])
    r = S.max_cover_capacitated(A, w, np.array([50.0, 120.0]), 1)
    assert r.objective == 120 and r.sites.tolist() == [1]
    r2 = S.max_cover_capacitated(A, w, np.array([50.0, 120.0]), 2)
    assert r2.objective == 170 and r2.gains.tolist() == [120.0, 50.0]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(st.lists(st.booleans(), min_size=5, max_size=5), min_size=1, max_size=14),
    weights=st.lists(st.integers(0, 30), min_size=14, max_size=14),
    dup=st.integers(0, 4),
)
def test_reduction_keeps_every_optimum(cells, weights, dup):
    A = np.array(cells, dtype=bool)
    A = np.hstack([A, A[:, [dup]]])  # a duplicate candidate, always dominated
    A = np.vstack([A, A[:1]])  # a duplicate demand row, always merged
    w = np.array(weights[: A.shape[0] - 1] + [weights[0]], dtype=float)
    red = S.reduce_cover(sp.csr_array(A), w)
    R = red.A.toarray()
    # every live row maps to a group with the same coverage set; weights add up
    live = (w > 0) & A.any(axis=1)
    assert np.array_equal(red.groups >= 0, live)
    assert np.array_equal(A[live][:, red.cols], R[red.groups[live]])
    assert red.w.sum() == pytest.approx(w[live].sum())
    assert len(np.unique(R, axis=0)) == R.shape[0]  # no two groups alike
    assert R.shape[1] <= 5
    for k in range(1, 4):
        full = _brute_mclp(A, w, k)
        reduced = (
            max(_covered(R, red.w, c) for c in itertools.combinations(range(R.shape[1]), min(k, R.shape[1])))
            if R.shape[1]
            else 0.0
        )
        assert reduced == pytest.approx(full)


def test_same_input_same_answer():
    rng = np.random.default_rng(7)
    A = sp.random_array((400, 60), density=0.05, rng=rng).astype(bool)
    w = rng.integers(1, 40, 400).astype(float)
    a = S.max_cover(A, w, 5)
    b = S.max_cover(A.copy(), w.copy(), 5)
    assert a.sites.tolist() == b.sites.tolist() and a.gains.tolist() == b.gains.tolist()


def test_lagrangian_bound_and_fixing_are_sound():
    """The Lagrangian bound is never below the optimum, and reduced-cost fixing never removes a
    column of any solution better than the incumbent (checked on every such solution)."""
    rng = np.random.default_rng(31)
    checked = 0
    for _ in range(40):
        A, w = _instance(rng, n_max=26, m_max=9)
        k = int(rng.integers(1, 4))
        red = S.reduce_cover(sp.csr_array(A), w, dominated=False)
        R, wr = red.A, red.w
        m = R.shape[1]
        if m <= k:
            continue
        g = S.greedy_max_cover(R, wr, k=k)
        lower = float(g.gains.sum())
        bound, lam = S._lagrangian(R, wr, k, lower, g.lam, deadline=float("inf"), integral=True)
        Rd = R.toarray()
        best = _brute_mclp(Rd, wr, k)
        assert best <= bound + 1e-6 <= g.upper + 1e-6
        keep = S._fixing_keep(R, wr, k, lam, lower, integral=True)
        for c in itertools.combinations(range(m), k):
            if _covered(Rd, wr, c) >= lower + 1:
                assert keep[list(c)].all()
                checked += 1
    assert checked > 0


def test_no_time_for_the_milp_still_gives_a_valid_gap():
    rng = np.random.default_rng(41)
    for _ in range(20):
        A, w = _instance(rng, n_max=30, m_max=9)
        k = int(rng.integers(1, 4))
        best = _brute_mclp(A, w, k)
        r = S.max_cover(sp.csr_array(A), w, k, time_limit=0.0)
        assert r.objective <= best + 1e-9 <= r.bound + 1e-9
        assert (r.status == "optimal") == (r.objective == best and r.bound == best)


def test_capacitated_without_milp_time_keeps_a_valid_bound():
    rng = np.random.default_rng(51)
    for _ in range(10):
        A, w = _instance(rng, n_max=16, m_max=8)
        m = A.shape[1]
        fixed = np.zeros(m, dtype=bool)
        fixed[0] = True
        cap = rng.integers(10, 120, m).astype(float)
        baseline = _flow(A, w, cap, [0])
        best = max(_flow(A, w, cap, [0] + list(c)) for c in itertools.combinations(range(1, m), 2))
        r = S.max_cover_capacitated(sp.csr_array(A), w, cap, 2, fixed=fixed, time_limit=0.0)
        assert r.objective <= best - baseline + 1e-6 <= r.bound + 1e-6
        assert _flow(A, w, cap, [0] + r.sites.tolist()) == pytest.approx(baseline + r.objective)
