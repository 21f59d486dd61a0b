"""Grids of the units of one community: oversized units alone, each barrier-free region
planned on its own, and a region without a plan merged across a barrier with its neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from gridplan.grids.reasons import Reason, shortfall, unit_over_max
from gridplan.grids.search import (
    candidate_ks,
    plan_graph,
    violation,
    whole_grids_possible,
)
from gridplan.grids.unitgraph import UnitGraph

__all__ = ["UnitPlan", "plan_units"]


@dataclass
class UnitPlan:
    """Grids of a set of units.

    Attributes
    ----------
    labels : ndarray of int
        Grid number per unit, 0..k-1.
    reasons : list of Reason or None
        Per grid (in label order): why it is outside the band, None when it is in.
    crossing : list of bool
        Per grid: it straddles a barrier.
    failed : list of bool
        Per grid: its part had no plan in the band although its total allows one (splitting
        estates may help).
    mergeable : bool
        A part without a plan could be merged across a barrier (only set when merging is off).
    """

    labels: np.ndarray
    reasons: list[Reason | None]
    crossing: list[bool]
    failed: list[bool]
    mergeable: bool = False


class _Regions:
    """Barrier-free components of the units, joined across barriers as planning requires."""

    def __init__(self, g: UnitGraph, rest: np.ndarray) -> None:
        _, comp = connected_components(g.adjacency(g.same_zone, lengths=False), directed=False)
        self.comp = np.where(rest, comp, -1)
        self.ids = np.unique(self.comp[self.comp >= 0])
        self.group = {int(c): int(c) for c in self.ids}
        # lengths of barrier-crossing boundaries between components
        self.cross_len: dict = {}
        x = ~g.same_zone
        for a, b, ln in zip(self.comp[g.i[x]], self.comp[g.j[x]], g.length[x]):
            if a != b:
                key = (int(min(a, b)), int(max(a, b)))
                self.cross_len[key] = self.cross_len.get(key, 0.0) + float(ln)

    def find(self, c: int) -> int:
        group = self.group
        while group[c] != c:
            group[c] = group[group[c]]
            c = group[c]
        return c

    def roots(self) -> list[int]:
        return sorted({self.find(int(c)) for c in self.ids})

    def members(self, r: int) -> np.ndarray:
        return np.flatnonzero(np.isin(self.comp, [c for c in self.ids if self.find(int(c)) == r]))

    def neighbour_of(self, r: int) -> int | None:
        """The region sharing most barrier-crossing boundary with region ``r``."""
        best = None
        for (a, b), ln in sorted(self.cross_len.items()):
            ra, rb = self.find(a), self.find(b)
            if ra != rb and r in (ra, rb) and (best is None or ln > best[0]):
                best = (ln, rb if ra == r else ra)
        return None if best is None else best[1]


def _plan_region(g: UnitGraph, idx: np.ndarray, lo: int, hi: int, seed: int, target: float | None) -> tuple:
    sub = g.subset(idx)
    total = int(sub.weights.sum())
    ks = candidate_ks(total, lo, hi, len(idx), target)
    lab, info = plan_graph(sub.search_graph(), lo, hi, seed=seed, ks=ks)
    return idx, lab, info, total


def plan_units(
    g: UnitGraph,
    lo: int,
    hi: int,
    seed: int,
    *,
    target: float | None = None,
    whole_total: int = -1,
    merge: bool = True,
) -> UnitPlan:
    """Grid label per unit and a reason per grid, handling oversized units, barriers and
    detached parts before the balanced partition.

    A region that cannot be planned on its own is merged across a barrier with the neighbour it
    shares most boundary with, and planned again (the report counts crossings).

    Parameters
    ----------
    g : UnitGraph
        The units to plan.
    lo, hi : int
        The band.
    seed : int
    target : float, optional
        Households per grid to aim at (default: the middle of the band).
    whole_total : int
        Households of the whole community when ``g`` is all of it, else -1.
    merge : bool
        Merge regions without a plan across barriers (else only report that it is possible).

    Returns
    -------
    UnitPlan
    """
    plan = UnitPlan(np.full(g.n, -1, dtype=np.int64), [], [], [])
    for u in np.flatnonzero(g.weights > hi):
        plan.labels[u] = len(plan.reasons)
        plan.reasons.append(unit_over_max(g.weights[u], hi))
        plan.crossing.append(False)
        plan.failed.append(False)
    rest = g.weights <= hi
    g = g.with_edges(rest[g.i] & rest[g.j])
    regions = _Regions(g, rest)
    results: dict = {}
    while True:
        roots = regions.roots()
        for r in roots:
            if r not in results:
                results[r] = _plan_region(g, regions.members(r), lo, hi, seed, target)
        # one flag per grid lives in plan.failed; these are the regions without a plan
        failed_roots = [r for r in roots if results[r][2]["violation"] > 0]
        if not merge:
            plan.mergeable = any(regions.neighbour_of(r) is not None for r in failed_roots)
            break
        if not _merge_one(regions, results, failed_roots):
            break
    for r in sorted(results):
        _add_region(plan, g, regions.comp, results[r], lo, hi, whole_total)
    return plan


def _merge_one(regions: _Regions, results: dict, failed_roots: list[int]) -> bool:
    """Merge the smallest region without a plan into its neighbour; False when none can."""
    for r in sorted(failed_roots, key=lambda r: (results[r][3], r)):
        other = regions.neighbour_of(r)
        if other is not None:
            regions.group[other] = r
            results.pop(r), results.pop(other)
            return True
    return False


def _add_region(
    plan: UnitPlan, g: UnitGraph, comp: np.ndarray, result: tuple, lo: int, hi: int, whole_total: int
) -> None:
    """Append the grids of one planned region to ``plan``."""
    idx, lab, info, total = result
    gw = np.bincount(lab, weights=g.weights[idx]).astype(np.int64)
    plan.labels[idx] = lab + len(plan.reasons)
    zones_of = comp[idx]
    refinable = info["violation"] > 0 and total >= lo and whole_grids_possible(total, lo, hi)
    plan.failed += [bool(refinable)] * len(gw)
    for k in range(len(gw)):
        if violation(gw[k : k + 1], lo, hi)[0] == 0:
            plan.reasons.append(None)
        else:
            plan.reasons.append(
                shortfall(
                    total,
                    lo,
                    hi,
                    units=len(idx),
                    community=total if total == whole_total else None,
                    proven=bool(info.get("proven_infeasible")),
                )
            )
        plan.crossing.append(len(np.unique(zones_of[lab == k])) > 1)
