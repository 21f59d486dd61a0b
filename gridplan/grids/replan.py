"""Replanning a community from its previous grids, moving as few households as possible.

Each unit starts in the previous grid that held most of its households; new units join a
neighbour; a unit over the maximum is a grid of its own, as in a fresh plan. Only what the
changes broke is repaired, and the result replaces the fresh plan only when it is as good.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.grids.reasons import Reason, shortfall, unit_over_max
from gridplan.grids.regions import UnitPlan
from gridplan.grids.search import (
    Graph,
    _relabel,
    _repair,
    candidate_ks,
    join_longest_edge,
    make_contiguous,
    plan_graph,
    violation,
    whole_grids_possible,
)
from gridplan.grids.unitgraph import UnitGraph

__all__ = ["Previous", "replan"]


@dataclass(frozen=True)
class Previous:
    """The previous plan of a community's households.

    Attributes
    ----------
    grid : ndarray of object
        Previous grid_id per household row (None where unknown).
    unit : ndarray of int
        Free unit per household row (-1 for households in kept grids).
    households : ndarray of int
        Households per row.
    unchanged : bool
        The community's households are exactly those of its previous grids.
    """

    grid: np.ndarray
    unit: np.ndarray
    households: np.ndarray
    unchanged: bool = False


@dataclass(frozen=True)
class _Start:
    """The free units as the repair sees them: adjacency without oversized units, components."""

    g: UnitGraph
    adj: sparse.csr_matrix
    comp: np.ndarray  # connected component of every unit (grids never span two)
    zone_comp: np.ndarray  # barrier-free component of every unit
    over: np.ndarray
    init: np.ndarray  # previous grid number per unit, -1 for new units
    lo: int
    hi: int
    seed: int

    def sub(self, idx: np.ndarray) -> Graph:
        return Graph(self.g.weights[idx], self.adj[idx][:, idx], self.g.area[idx], self.g.perim[idx])

    def v_of(self, out: np.ndarray) -> int:
        return int(
            violation(np.bincount(out, weights=self.g.weights).astype(np.int64), self.lo, self.hi).sum()
        )


def _initial(previous: Previous, nf: int) -> np.ndarray:
    """Previous grid number per free unit: the grid holding most of its households (-1: new)."""
    prev = np.asarray(previous.grid, dtype=object)
    votes: dict = {}
    for r in range(len(prev)):
        p = prev[r]
        u = previous.unit[r]
        if u >= 0 and isinstance(p, str):
            votes[(u, p)] = votes.get((u, p), 0) + int(previous.households[r])
    best: dict = {}
    for (u, p), _ in sorted(votes.items(), key=lambda t: (t[0][0], -t[1], t[0][1])):
        best.setdefault(u, p)
    number = {p: k for k, p in enumerate(sorted(set(best.values())))}
    init = np.full(nf, -1, dtype=np.int64)
    for u, p in best.items():
        init[u] = number[p]
    return init


def replan(
    fresh: UnitPlan, g: UnitGraph, previous: Previous, lo: int, hi: int, seed: int, whole_total: int
) -> tuple[UnitPlan, bool]:
    """Start from the previous grids instead of METIS and repair only what the changes broke.

    A community whose households did not change keeps its previous grids as they are. The
    result replaces the fresh plan when it meets the bounds, or when it is no further outside
    them than the fresh plan and that one cannot be improved by splitting estates (few
    households move); otherwise the fresh plan stands.

    Parameters
    ----------
    fresh : UnitPlan
        The fresh plan of the free units.
    g : UnitGraph
        The free units.
    previous : Previous
    lo, hi, seed : int
    whole_total : int
        Households of the whole community when all of it is free, else -1.

    Returns
    -------
    plan : UnitPlan
        ``fresh`` itself, or the repaired plan (no grid flagged for estate splitting).
    moved : bool
        The repaired plan was taken.
    """
    init = _initial(previous, g.n)
    if (init < 0).all():
        return fresh, False
    over = g.weights > hi
    # oversized units stand alone (no edges), as in a fresh plan; the rest is repaired per
    # connected component so that grids never span components
    em = ~over[g.i] & ~over[g.j]
    adj = g.adjacency(em)
    _, comp = connected_components(adj, directed=False)
    _, zone_comp = connected_components(g.adjacency(em & g.same_zone, lengths=False), directed=False)
    st = _Start(g, adj, comp, zone_comp, over, init, lo, hi, seed)
    out = _best_repair(st, fresh, previous.unchanged)
    if out is None:
        return fresh, False
    return UnitPlan(
        out, *_reasons(st, out, whole_total), [False] * (int(out.max()) + 1), fresh.mergeable
    ), True


def _best_repair(st: _Start, fresh: UnitPlan, unchanged: bool) -> np.ndarray | None:
    """The repaired labels to take instead of the fresh plan, or None."""
    fresh_v = st.v_of(fresh.labels)
    out, v = None, None
    if unchanged:
        out = _assemble(st, repair=False)
        v = st.v_of(out)
    if out is None or v > 0:
        rep = _assemble(st, repair=True)
        rv = st.v_of(rep)
        if out is None or rv < v:
            out, v = rep, rv
    if v > fresh_v or (v > 0 and any(fresh.failed)):
        loc = _local_fresh(st, out)
        lv = st.v_of(loc)
        if lv < v:
            out, v = loc, lv
    if v > 0 and (v > fresh_v or any(fresh.failed)):
        # a repaired plan further outside the bounds, or one that splitting estates might
        # still fix, is no use: the fresh plan (and the estate refinement that follows) decides
        return None
    w = st.g.weights
    if v == fresh_v and _moved(fresh.labels, st.init, w) < _moved(out, st.init, w):
        return None  # as good, and the fresh plan happens to move fewer
    return out


def _assemble(st: _Start, repair: bool) -> np.ndarray:
    """Previous grids per component, made contiguous (and repaired towards the band)."""
    out = np.full(st.g.n, -1, dtype=np.int64)
    base = 0
    for c in np.unique(st.comp):
        idx = np.flatnonzero(st.comp == c)
        sub = st.sub(idx)
        start = st.init[idx].copy()
        if st.over[idx].all() or (start < 0).all():
            start[:] = 0
        start = make_contiguous(sub, _fill_orphans(sub, start))
        if repair:
            start = _repair(sub, start, st.lo, st.hi, st.seed, 4 * len(idx) + 20).labels
        lab_c = _relabel(start)
        out[idx] = lab_c + base
        base += lab_c.max() + 1
    return out


def _bad_grids(st: _Start, o: np.ndarray) -> list[int]:
    """Grids outside the band, but for a lone unit over the maximum (nothing to repair)."""
    gw = np.bincount(o, weights=st.g.weights).astype(np.int64)
    cnt = np.bincount(o)
    return [
        int(k) for k in np.flatnonzero(violation(gw, st.lo, st.hi) > 0) if not (cnt[k] == 1 and gw[k] > st.hi)
    ]


def _local_fresh(st: _Start, out: np.ndarray) -> np.ndarray:
    """Plan afresh only around the grids still outside the bounds: the grid, then it with its
    neighbouring grids, ring by ring, until that region has a plan within the bounds (the rest
    of the community keeps its grids)."""
    out = out.copy()
    coo = st.adj.tocoo()
    wf, lo, hi = st.g.weights, st.lo, st.hi
    tried: set = set()
    for _ in range(4 * st.g.n + 4):
        bad = [k for k in _bad_grids(st, out) if k not in tried]
        if not bad:
            break
        region = {bad[0]}
        while True:
            idx = np.flatnonzero(np.isin(out, sorted(region)))
            t = int(wf[idx].sum())
            if whole_grids_possible(t, lo, hi):
                lab_s, info = plan_graph(
                    st.sub(idx), lo, hi, seed=st.seed, ks=candidate_ks(t, lo, hi, len(idx))
                )
                if info["violation"] == 0:
                    out[idx] = out.max() + 1 + lab_s
                    out = _relabel(out)
                    break
            inr = np.isin(out[coo.row], sorted(region))
            ring = set(np.unique(out[coo.col[inr]]).tolist()) - region
            if not ring:
                tried |= region
                break
            region |= ring
    return out


def _reasons(st: _Start, out: np.ndarray, whole_total: int) -> tuple[list[Reason | None], list[bool]]:
    """Reason and barrier crossing per grid of a repaired plan."""
    wf, lo, hi = st.g.weights, st.lo, st.hi
    gw = np.bincount(out, weights=wf).astype(np.int64)
    total = int(wf.sum())
    ctot = np.bincount(st.comp, weights=wf).astype(np.int64)
    reasons: list[Reason | None] = []
    crossing: list[bool] = []
    for k in range(len(gw)):
        members = np.flatnonzero(out == k)
        t = int(ctot[st.comp[members[0]]])
        if violation(gw[k : k + 1], lo, hi)[0] == 0:
            reasons.append(None)
        elif gw[k] > hi and len(members) == 1:
            reasons.append(unit_over_max(gw[k], hi))
        else:
            reasons.append(shortfall(t, lo, hi, community=total if total == whole_total else None))
        crossing.append(bool(len(np.unique(st.zone_comp[members])) > 1))
    return reasons, crossing


def _moved(labels: np.ndarray, init: np.ndarray, w: np.ndarray) -> int:
    """Households of previously planned units not in the grid that continues their previous
    grid (new grids matched one-to-one to previous ones by shared households, largest first)."""
    had = init >= 0
    share: dict = {}
    for a, b, x in zip(labels[had].tolist(), init[had].tolist(), w[had].tolist()):
        share[(a, b)] = share.get((a, b), 0) + x
    used_a, used_b, kept = set(), set(), 0
    for (a, b), x in sorted(share.items(), key=lambda t: (-t[1], t[0])):
        if a not in used_a and b not in used_b:
            used_a.add(a), used_b.add(b)
            kept += x
    return int(w[had].sum()) - kept


def _fill_orphans(g: Graph, start: np.ndarray) -> np.ndarray:
    """Units without a previous grid join the neighbouring grid with the longest shared edge."""
    lab = start.copy()
    while (lab < 0).any():
        un = np.flatnonzero(lab < 0)
        if not join_longest_edge(g, lab, un):
            lab[un[0]] = lab.max() + 1
    return lab
