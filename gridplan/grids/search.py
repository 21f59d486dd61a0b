"""Balanced contiguous partition of a small weighted adjacency graph (the units of one community).

The initial split is METIS (pymetis, contiguous k-way with vertex weights = households and edge
weights = shared boundary length). The repair and local search after it are written by hand: no
well-kept library partitions a graph under hard lower *and* upper weight bounds with hard
contiguity (METIS only balances approximately, spopt's max-p only has a floor). Moves are
evaluated in vectorised rounds (sums over the adjacency's edge arrays give every unit's shared
boundary with every grid) and applied greedily, at most one move per grid per round, each checked by a BFS inside the
donor grid so that no grid is ever disconnected. Small regions the local search leaves outside
the band go to the exact search (:mod:`gridplan.grids.exact`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pymetis
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.grids.exact import BudgetExceeded, bits, exact_parts, whole_grids_possible

__all__ = ["Graph", "plan_graph", "violation", "whole_grids_possible"]

_FOUR_PI = 4.0 * math.pi


@dataclass
class Graph:
    """Units of one planning region: weights, symmetric boundary-length adjacency, geometry sums."""

    weights: np.ndarray  # int64 households per unit
    adj: sparse.csr_matrix  # symmetric, data = shared boundary length (m) > 0
    area: np.ndarray  # unit cell area (m2)
    perim: np.ndarray  # unit cell perimeter (m)
    neighbours: list = field(default_factory=list)
    #: row of every stored entry of ``adj`` (its column is ``adj.indices``): the searches work on
    #: these edge arrays rather than build small sparse matrices in their loops
    rows: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.int64)
        self.adj = sparse.csr_matrix(self.adj)
        self.adj.sort_indices()
        ip, ix = self.adj.indptr, self.adj.indices
        # Python lists: the searches walk them unit by unit
        bounds, cols = ip.tolist(), ix.tolist()
        self.neighbours = [cols[bounds[i] : bounds[i + 1]] for i in range(len(self.weights))]
        self.rows = np.repeat(np.arange(len(self.weights)), np.diff(ip))

    @property
    def n(self) -> int:
        return len(self.weights)


def violation(w: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Households outside the band per grid.

    Parameters
    ----------
    w : ndarray of int
        Households per grid.
    lo, hi : int
        The band.

    Returns
    -------
    ndarray of int64
        Households below ``lo`` or above ``hi``; 0 for an empty grid, which simply disappears.
    """
    w = np.asarray(w, dtype=np.int64)
    v = np.maximum(lo - w, 0) + np.maximum(w - hi, 0)
    return np.where(w == 0, 0, v)


def _pp(area, perim):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perim > 0, _FOUR_PI * area / np.maximum(perim, 1e-12) ** 2, 0.0)


def candidate_ks(total: int, lo: int, hi: int, n: int, target: float | None = None) -> list[int]:
    """Grid counts to try, best first.

    Parameters
    ----------
    total : int
        Households H to divide.
    lo, hi : int
        The band.
    n : int
        Units (no more grids than units).
    target : float, optional
        Households per grid to aim at (default: the middle of the band).

    Returns
    -------
    list of int
        The feasible counts ceil(H/hi)..floor(H/lo) ordered by distance to H/target; when there
        is none, the count with the least unavoidable excess.
    """
    target = (lo + hi) / 2.0 if target is None else target
    kmin, kmax = max(1, math.ceil(total / hi)), max(1, total // lo) if lo > 0 else n
    kmax = min(kmax, n)
    ideal = total / target
    if kmin <= kmax:
        return sorted(range(kmin, kmax + 1), key=lambda k: (abs(k - ideal), k))
    cands = range(1, min(n, kmin) + 1)
    return sorted(cands, key=lambda k: (max(0, total - k * hi) + max(0, k * lo - total), k))[:1]


def _metis(g: Graph, k: int, seed: int) -> np.ndarray:
    if k <= 1 or g.n <= 1:
        return np.zeros(g.n, dtype=np.int64)
    if k >= g.n:
        return np.arange(g.n, dtype=np.int64)
    opts = pymetis.Options(contig=1, seed=int(seed), ufactor=30)
    ew = np.maximum(np.ceil(g.adj.data), 1).astype(np.int64)
    _, parts = pymetis.part_graph(
        k,
        pymetis.CSRAdjacency(g.adj.indptr, g.adj.indices),
        vweights=np.maximum(g.weights, 1),
        eweights=ew,
        options=opts,
    )
    return np.asarray(parts, dtype=np.int64)


def _components_within(g: Graph, labels: np.ndarray) -> np.ndarray:
    keep = labels[g.rows] == labels[g.adj.indices]
    indptr = np.zeros(g.n + 1, dtype=g.adj.indptr.dtype)
    np.cumsum(np.bincount(g.rows[keep], minlength=g.n), out=indptr[1:])
    sub = sparse.csr_matrix((np.ones(int(indptr[-1])), g.adj.indices[keep], indptr), shape=g.adj.shape)
    return connected_components(sub, directed=False)[1]


def _shared(g: Graph, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unit's shared boundary with every grid it borders, as (unit, grid, length) sorted
    by unit then grid: the non-zero entries of ``adj @ onehot(labels)``, summed in the same
    order as that sparse product (by neighbour), so the lengths are bit-identical."""
    key = g.rows * k + labels[g.adj.indices]
    uniq, inv = np.unique(key, return_inverse=True)
    s = np.bincount(inv.ravel(), weights=g.adj.data, minlength=len(uniq))
    nz = s != 0  # the product drops entries that sum to zero
    uniq, s = uniq[nz], s[nz]
    return uniq // k, uniq % k, s


def make_contiguous(g: Graph, labels: np.ndarray) -> np.ndarray:
    """Keep the heaviest connected piece of every grid; hand the other pieces to neighbours.

    Parameters
    ----------
    g : Graph
    labels : ndarray of int
        Grid per unit.

    Returns
    -------
    ndarray of int
        Labels whose grids are connected in ``g``.
    """
    labels = labels.copy()
    comp = _components_within(g, labels)
    ncomp = comp.max() + 1
    cw = np.bincount(comp, weights=g.weights + 1e-6, minlength=ncomp)  # +eps: empty units count
    clab = np.zeros(ncomp, dtype=np.int64)
    clab[comp] = labels
    # the main piece of a label: heaviest component, ties to the lowest component number
    order = np.lexsort((np.arange(ncomp), -cw, clab))
    first = np.ones(ncomp, dtype=bool)
    first[1:] = clab[order[1:]] != clab[order[:-1]]
    main = np.zeros(ncomp, dtype=bool)
    main[order[first]] = True
    orphan = ~main[comp]
    labels[orphan] = -1
    # Orphans join the adjacent grid they share most boundary with, wave by wave.
    while (labels < 0).any():
        un = np.flatnonzero(labels < 0)
        if not join_longest_edge(g, labels, un):
            # cannot happen on a connected graph; keep every unit assigned anyway
            labels[un] = labels.max() + 1 + np.arange(len(un))
            break
    return labels


def join_longest_edge(g: Graph, labels: np.ndarray, units: np.ndarray) -> bool:
    """One wave: each of ``units`` that borders a labelled unit takes the label it shares the
    longest boundary with (ties: the lowest label). Changes ``labels`` in place.

    Parameters
    ----------
    g : Graph
    labels : ndarray of int
        Grid per unit, -1 for none.
    units : ndarray of int
        The units to label.

    Returns
    -------
    bool
        False when none of ``units`` borders a labelled unit (nothing changed).
    """
    coo = g.adj[units].tocoo()
    nb_lab = labels[coo.col]
    ok = nb_lab >= 0
    if not ok.any():
        return False
    rows, labs, lens = units[coo.row[ok]], nb_lab[ok], coo.data[ok]
    order = np.lexsort((labs, -lens, rows))
    rows, labs = rows[order], labs[order]
    first = np.r_[True, rows[1:] != rows[:-1]]
    labels[rows[first]] = labs[first]
    return True


def _connected_without(g: Graph, labels: list[int], u: int, lab: int) -> bool:
    """Would grid ``lab`` stay connected if unit ``u`` left it? (BFS inside the grid)"""
    nbs = [v for v in g.neighbours[u] if labels[v] == lab]
    if len(nbs) <= 1:
        return True
    targets = set(nbs[1:])
    seen = {u, nbs[0]}
    stack = [nbs[0]]
    while stack:
        x = stack.pop()
        for y in g.neighbours[x]:
            if y not in seen and labels[y] == lab:
                if y in targets:
                    targets.discard(y)
                    if not targets:
                        return True
                seen.add(y)
                stack.append(y)
    return not targets


class _State:
    def __init__(self, g: Graph, labels: np.ndarray, lo: int, hi: int) -> None:
        self.g, self.lo, self.hi = g, lo, hi
        self.labels = _relabel(labels)
        self._last: tuple | None = None  # (labels, stats) of the last call

    def stats(self):
        g, lab = self.g, self.labels
        # a round that moves nothing is followed by a merge or split on the same labels
        if self._last is not None and np.array_equal(self._last[0], lab):
            return self._last[1]
        k = int(lab.max()) + 1
        shared = _shared(g, lab, k)  # unit x grid shared boundary length
        w = np.bincount(lab, weights=g.weights, minlength=k).astype(np.int64)
        cnt = np.bincount(lab, minlength=k)
        area = np.bincount(lab, weights=g.area, minlength=k)
        # each unit's boundary inside its own grid
        own = np.zeros(g.n)
        su, sb, sl = shared
        m = sb == lab[su]
        own[su[m]] = sl[m]
        perim = np.bincount(lab, weights=g.perim - own, minlength=k)
        out = k, shared, w, cnt, area, perim, own
        self._last = (lab.copy(), out)
        return out

    def round(self, phase: str) -> int:
        """One round of greedy non-conflicting moves; returns how many were applied."""
        g, lab, lo, hi = self.g, self.labels, self.lo, self.hi
        k, shared, w, cnt, area, perim, own = self.stats()
        u, b, s_ub = shared
        a = lab[u]
        m = b != a
        u, a, b, s_ub = u[m], a[m], b[m], s_ub[m]
        if len(u) == 0:
            return 0
        wu = g.weights[u]
        wa2, wb2 = w[a] - wu, w[b] + wu
        vw = violation(w, lo, hi)  # per grid, looked up (elementwise the same)
        va2, vb2 = violation(wa2, lo, hi), violation(wb2, lo, hi)
        dv = va2 + vb2 - vw[a] - vw[b]
        # the candidates by the bounds first: the shape figures only for them (same values)
        if phase == "bounds":
            sel = dv < 0
        else:
            sel = (dv <= 0) & (cnt[a] > 1) & (va2 == 0) & (vb2 == 0)
        idx = np.flatnonzero(sel)
        if len(idx) == 0:
            return 0
        u, a, b, s_ub, dv = u[idx], a[idx], b[idx], s_ub[idx], dv[idx]
        ppw = _pp(area, perim)
        pa2 = perim[a] - g.perim[u] + 2 * own[u]
        pb2 = perim[b] + g.perim[u] - 2 * s_ub
        dpp = _pp(area[a] - g.area[u], pa2) + _pp(area[b] + g.area[u], pb2) - ppw[a] - ppw[b]
        dpp = np.where(cnt[a] == 1, -1.0, dpp)  # emptying a grid is a merge: only for bounds
        if phase == "bounds":
            order = np.lexsort((u, b, -dpp, dv))
        else:
            order = np.flatnonzero(dpp > 1e-9)
            if len(order) == 0:
                return 0
            order = order[np.lexsort((u[order], b[order], -dpp[order]))]
        touched = [False] * k
        cnt_l, lab_l = cnt.tolist(), lab.tolist()
        moved = 0
        for ai, bi, ui in zip(a[order].tolist(), b[order].tolist(), u[order].tolist()):
            if touched[ai] or touched[bi]:
                continue
            if cnt_l[ai] > 1 and not _connected_without(g, lab_l, ui, ai):
                continue
            lab[ui] = lab_l[ui] = bi
            touched[ai] = touched[bi] = True
            moved += 1
        if moved and (np.bincount(lab, minlength=k) == 0).any():
            self.labels = _relabel(lab)
        return moved

    def merge_or_split(self, seed: int) -> bool:
        """Merge an under grid into a neighbour that has room, or split an over grid in two."""
        g, lab, lo, hi = self.g, self.labels, self.lo, self.hi
        k, shared, w, cnt, _, _, _ = self.stats()
        # merges: under grid a with neighbouring grid b, a + b <= hi
        a, b = lab[shared[0]], shared[1]
        m = (a != b) & (w[a] < lo) & (w[a] + w[b] <= hi)
        if m.any():
            pairs = np.unique(np.stack([a[m], b[m]], 1), axis=0)
            tot = w[pairs[:, 0]] + w[pairs[:, 1]]
            i = np.lexsort((pairs[:, 1], pairs[:, 0], -tot))[0]
            lab[lab == pairs[i, 1]] = pairs[i, 0]
            self.labels = _relabel(lab)
            return True
        # splits: over grid with room for two in-band halves
        over = np.flatnonzero((w > hi) & (w >= 2 * lo) & (cnt >= 2))
        for gi in over[np.argsort(-w[over], kind="stable")]:
            idx = np.flatnonzero(lab == gi)
            sub = _subgraph(g, idx)
            parts = make_contiguous(sub, _metis(sub, 2, seed))
            if parts.max() < 1:
                continue
            lab[idx[parts == 1]] = k
            self.labels = _relabel(lab)
            return True
        return False


def _subgraph(g: Graph, idx: np.ndarray) -> Graph:
    """Units ``idx`` (ascending) and the edges among them: ``g.adj[idx][:, idx]`` taken from the
    edge arrays (a monotone renumbering keeps every row's columns sorted)."""
    pos = np.full(g.n, -1, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    col = pos[g.adj.indices]
    keep = (pos[g.rows] >= 0) & (col >= 0)
    ip = g.adj.indptr.dtype
    indptr = np.zeros(len(idx) + 1, dtype=ip)
    np.cumsum(np.bincount(pos[g.rows[keep]], minlength=len(idx)), out=indptr[1:])
    adj = sparse.csr_matrix((g.adj.data[keep], col[keep].astype(ip), indptr), shape=(len(idx), len(idx)))
    return Graph(g.weights[idx], adj, g.area[idx], g.perim[idx])


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 numbered by first appearance: a canonical form for deterministic output."""
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inv.ravel()]


def _repair(g: Graph, labels: np.ndarray, lo: int, hi: int, seed: int, max_rounds: int) -> _State:
    st = _State(g, labels, lo, hi)
    for _ in range(max_rounds):
        w = np.bincount(st.labels, weights=g.weights).astype(np.int64)
        if violation(w, lo, hi).sum() == 0:
            break
        if st.round("bounds"):
            continue
        if not st.merge_or_split(seed):
            break
    return st


def plan_graph(
    g: Graph,
    lo: int,
    hi: int,
    *,
    seed: int = 0,
    ks: list[int] | None = None,
    max_tries: int = 4,
    compact_rounds: int = 30,
    exact_max_units: int = 80,
    exact_budget: int = 50_000,
) -> tuple[np.ndarray, dict]:
    """Partition a connected graph into contiguous grids with weights in [lo, hi].

    Parameters
    ----------
    g : Graph
        Connected units (a community zone).
    lo, hi : int
        Household bounds per grid.
    seed : int
        METIS seed; the result is a deterministic function of the inputs and the seed.
    ks : list of int, optional
        Grid counts to try, best first (default: :func:`candidate_ks`).

    Returns
    -------
    labels : ndarray of int
        Grid number per unit, 0..k-1, numbered by first unit.
    info : dict
        ``k``, ``violation`` (households outside the band, summed), ``tries``,
        ``proven_infeasible`` (an exhaustive search showed that no contiguous split exists).
    """
    total = int(g.weights.sum())
    if ks is None:
        ks = candidate_ks(total, lo, hi, g.n)
    params = (int(lo), int(hi), int(seed), tuple(int(k) for k in ks), max_tries, compact_rounds)
    key = (*_graph_key(g), *params, exact_max_units, exact_budget)
    if key not in _PLAN_MEMO:
        if len(_PLAN_MEMO) >= _MEMO_SIZE:
            _PLAN_MEMO.pop(next(iter(_PLAN_MEMO)))
        _PLAN_MEMO[key] = _plan_graph(
            g, lo, hi, seed, ks, max_tries, compact_rounds, exact_max_units, exact_budget
        )
    labels, info = _PLAN_MEMO[key]
    return labels.copy(), dict(info)


def _graph_key(g: Graph) -> tuple:
    """Everything about ``g`` that a plan depends on, as bytes."""
    arrays = (g.weights, g.adj.indptr, g.adj.indices, g.adj.data, g.area, g.perim)
    return tuple((a.dtype.str, a.tobytes()) for a in map(np.asarray, arrays))


def _plan_graph(
    g: Graph,
    lo: int,
    hi: int,
    seed: int,
    ks: list[int],
    max_tries: int,
    compact_rounds: int,
    exact_max_units: int,
    exact_budget: int,
) -> tuple[np.ndarray, dict]:
    best = None
    tries = 0
    for k in ks[:max_tries]:
        for s in (seed, seed + 1):
            tries += 1
            init = make_contiguous(g, _metis(g, k, s))
            st = _repair(g, init, lo, hi, s, max_rounds=4 * g.n + 20)
            w = np.bincount(st.labels, weights=g.weights).astype(np.int64)
            v = int(violation(w, lo, hi).sum())
            if best is None or v < best[0]:
                best = (v, st, k)
            if v == 0:
                break
        if best[0] == 0:
            break
    v, st, k = best
    proven = False
    if v > 0 and g.n <= exact_max_units:
        labels, proven = exact_partition(g, lo, hi, budget=exact_budget)
        if labels is not None:
            st = _State(g, labels, lo, hi)
            v, proven = 0, False
    for _ in range(compact_rounds):
        if not st.round("compact"):
            break
    labels = _relabel(st.labels)
    return labels, {"k": int(labels.max()) + 1, "violation": v, "tries": tries, "proven_infeasible": proven}


#: Plans and exact searches already made in this process: a community is planned several times
#: (estate refinements) and its regions often come back unchanged. The answer depends only on
#: the key; the oldest entries go first.
_PLAN_MEMO: dict = {}
_EXACT_MEMO: dict = {}
_MEMO_SIZE = 64


def exact_partition(g: Graph, lo: int, hi: int, budget: int = 100_000):
    """:func:`_exact_search`, remembered for the last few graphs (same graph, same answer)."""
    key = (
        g.weights.tobytes(),
        g.adj.indptr.tobytes(),
        g.adj.indices.tobytes(),
        int(lo),
        int(hi),
        int(budget),
    )
    if key not in _EXACT_MEMO:
        if len(_EXACT_MEMO) >= _MEMO_SIZE:
            _EXACT_MEMO.pop(next(iter(_EXACT_MEMO)))
        _EXACT_MEMO[key] = _exact_search(g, lo, hi, budget)
    labels, proven = _EXACT_MEMO[key]
    return (None if labels is None else labels.copy()), proven


def _exact_search(g: Graph, lo: int, hi: int, budget: int = 100_000):
    """:func:`gridplan.grids.exact.exact_parts` on ``g``, as grid labels.

    Returns
    -------
    labels : ndarray or None
        A partition meeting the bounds, or None.
    proven : bool
        True when the search finished: None then means no such partition exists.
    """
    w = [int(x) for x in g.weights]
    nb = [sum(1 << v for v in a) for a in g.neighbours]
    try:
        parts = exact_parts(w, nb, lo, hi, budget)
    except BudgetExceeded:
        return None, False
    if parts is None:
        return None, True
    labels = np.empty(g.n, dtype=np.int64)
    for i, p in enumerate(parts):
        labels[bits(p)] = i
    return _relabel(labels), True
