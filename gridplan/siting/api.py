"""Where to open new party-mass centres (党群服务中心) and stations (党群服务站).

Candidate sites are walking-network nodes on a regular lattice over the households, a user's own
candidate sites (empty plots, ground floors for rent), or both. Existing facilities stay where they
are; their coverage is the baseline. Demand is households, by default only the uncovered ones.

- ``add=K``: maximal covering (MCLP): the K new sites that cover the most households;
- ``target_share=0.95``: partial set covering (LSCP): the fewest new sites that bring the share of
  ALL households within reach (existing coverage counted) to the target;
- ``capacity=True``: a site of A m² serves at most A / 30 x 100 households (the floor-area norm),
  so a small room cannot "cover" a whole community;
- ``kind="station"`` with ``grids``: "中心+站点": stations (with their own shorter walk, 10 minutes
  by default) for the grids that no centre covers at all.

The coverage matrix (households x candidates within the walking cutoff) comes from
:meth:`gridplan.network.graph.WalkNetwork.reach_matrix` (batched multi-source Dijkstra with exact edge
snapping, the same distances :func:`gridplan.access.coverage.coverage` uses; :mod:`.matrix`);
candidates are built in :mod:`.candidates`; the solvers are in :mod:`gridplan.siting.solvers`
(instance reduction, greedy with a submodular bound, HiGHS MILP under a time limit; the
optimality gap is always reported, "optimal" only when proven), on arrays only; the output tables
in :mod:`.tables`.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from gridplan.errors import GridplanWarning, InputError, format_rows
from gridplan.io.checks import check_points, household_counts
from gridplan.io.projection import to_wgs84
from gridplan.network.graph import WalkNetwork
from gridplan.network.load import load_network
from gridplan.norms import (
    DEFAULT_NORMS,
    NEW_SITE_AREA_M2,
    SITING_SPACING_M,
    SITING_TIME_LIMIT_S,
    Norms,
    walk_metres,
)
from gridplan.siting import solvers as _solvers
from gridplan.siting.candidates import candidate_sites, floor_areas
from gridplan.siting.instance import (
    build_candidates,
    build_demand,
    check_goal,
    existing_facilities,
    polygon_key,
    walk_circle,
)
from gridplan.siting.matrix import reach_matrix
from gridplan.siting.tables import (
    candidate_report,
    coverage_after_table,
    first_new_site,
    households_after,
    jsonable,
    run_counts,
    sites_table,
    solver_report,
)

__all__ = ["SitingResult", "candidate_sites", "reach_matrix", "site", "write_siting"]


@dataclass
class SitingResult:
    """Result of :func:`site`.

    Attributes
    ----------
    sites : GeoDataFrame
        Recommended sites, EPSG:4326, best first: ``rank``, ``candidate_id``, ``source``
        (``network_node`` or ``user``), ``name``, ``kind``, ``households_gained``,
        ``cumulative_households_covered``, ``cumulative_share_covered``, ``area_m2``,
        ``capacity_households`` (capacitated runs), point geometry.
    report : dict
        JSON-serialisable: objective, bound, gap, status, method, times, sizes, parameters.
    coverage_after : DataFrame
        Per ``level`` (all, community, grid) and ``id``: ``households``,
        ``households_covered_before``, ``households_covered_after``, ``share_before``,
        ``share_after`` (counted over the eligible households).
    households : GeoDataFrame
        The input households (same rows and order) with ``eligible``, ``demand``,
        ``covered_before``, ``covered_after`` and ``new_site`` (candidate_id of the first-ranked
        new site reaching the household). In capacitated runs these flags say who is within
        reach; how many are served within capacity is in :attr:`report`.
    candidates : GeoDataFrame
        Every candidate considered (EPSG:4326): ``candidate_id``, ``source``, ``off_network``.
    """

    sites: gpd.GeoDataFrame
    report: dict
    coverage_after: pd.DataFrame
    households: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame = field(repr=False, default=None)

    def summary_text(self) -> str:
        """A short human-readable report (English and Chinese)."""
        r = self.report
        lines = [
            (
                f"{r['problem']} for {r['kind']} ({r['minutes']:g} min at {r['speed_kmh']:g} km/h = "
                f"{r['cutoff_m']:.0f} m): {len(self.sites)} new site(s)"
            ),
            (
                f"  households eligible {r['households_eligible']}, covered before "
                f"{r['households_covered_before']} ({r['share_before']:.1%}), after "
                f"{r['households_covered_after']} ({r['share_after']:.1%})"
            ),
            (
                f"  solver: {r['method']}, {r['status']}, objective {r['objective']:g}, bound "
                f"{r['bound']:g}, gap {r['gap']:.2%}, {r['times_s'].get('total', 0):.1f} s"
            ),
        ]
        if r.get("note"):
            lines.append(f"  note: {r['note']}")
        for row in self.sites.itertuples():
            lines.append(
                f"  #{row.rank} {row.candidate_id}: +{row.households_gained:g} households, "
                f"cumulative {row.cumulative_share_covered:.1%}"
            )
        lines.append(
            f"  新增站点 {len(self.sites)} 处，覆盖率 {r['share_before']:.1%} → "
            f"{r['share_after']:.1%}（最优性差距 {r['gap']:.2%}）"
        )
        return "\n".join(lines)


def site(
    households: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    network,
    *,
    add: int | None = None,
    target_share: float | None = None,
    kind: str = "community_centre",
    minutes: float | None = None,
    speed_kmh: float | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    spacing_m: float = SITING_SPACING_M,
    demand: str = "uncovered",
    capacity: bool = False,
    time_limit: float = SITING_TIME_LIMIT_S,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    network_nodes: bool | None = None,
    max_snap_m: float | None = None,
    new_site_area_m2: float = NEW_SITE_AREA_M2,
    centre_minutes: float | None = None,
    norms: Norms = DEFAULT_NORMS,
) -> SitingResult:
    """Recommend new centre or station sites.

    Parameters
    ----------
    households : GeoDataFrame
        Points; ``households`` (int >= 1, default 1 per row); optional ``community_id``,
        ``grid_id``.
    facilities : GeoDataFrame or None
        Existing facilities (``facility_id``, ``kind``, optional ``area_m2``); fixed.
    network : WalkNetwork or anything :func:`gridplan.network.load.load_network` accepts
    add : int, optional
        Number of new sites (maximal covering). Exactly one of ``add``/``target_share``.
    target_share : float, optional
        Share (0-1] of all eligible households to have within reach, existing coverage counted
        (fewest new sites).
    kind : {"community_centre", "station", "street_centre"}
        What to site. Centres are measured against existing street and community centres;
        stations against every existing facility, with the station walk.
    minutes : float, optional
        Walking minutes of the service circle; default ``norms.walk_minutes`` (15) for centres
        and ``norms.station_walk_minutes`` (10) for stations. A value given here always wins
        over ``norms``.
    speed_kmh : float, optional
        Walking speed; default ``norms.walk_speed_kmh``.
    candidates : GeoDataFrame of points, optional
        User candidate sites (``candidate_id``, ``name``, ``area_m2`` optional).
    spacing_m : float
        Lattice spacing of network-node candidates.
    demand : {"uncovered", "all"}
        ``uncovered``: households no existing facility reaches (existing coverage is the
        baseline). ``all``: ignore existing facilities (green-field siting). With ``capacity``
        existing facilities are always in the model with their capacities.
    capacity : bool
        Capacitated covering (with ``add`` only): capacities from ``area_m2`` by the floor-area
        norm; new network-node sites get ``new_site_area_m2``; existing facilities without an
        area are treated as unlimited (and reported).
    time_limit : float
        Seconds for the exact solver; the best answer and its certified gap are returned.
    grids : GeoDataFrame, optional
        Grid polygons (``grid_id``). With ``kind="station"`` the eligible households are those of
        grids that no centre covers at all ("中心+站点"); otherwise grids only add rows to
        :attr:`SitingResult.coverage_after`.
    communities : GeoDataFrame, optional
        Community polygons (``community_id``), joined to households without ``community_id``
        for the per-community rows of :attr:`SitingResult.coverage_after`.
    seed : int
        Tie-break between equally good candidates. ``0`` keeps the candidates' own order
        (lattice nodes by node number, then user sites in file order): the first of equals wins.
        Another seed shuffles that order reproducibly, which can show an alternative plan of the
        same quality. The solvers are deterministic: the same seed gives the same sites.
    network_nodes : bool, optional
        Use lattice network nodes as candidates (default: yes, unless only user candidates are
        wanted: pass False).
    max_snap_m : float, optional
        Households and sites farther than this from every walkway are off the network: never
        covered, reported. Default ``norms.max_snap_m``.
    new_site_area_m2 : float
        Floor area of a new site without one (capacitated model).
    centre_minutes : float, optional
        Walk that defines "covered by a centre" when selecting station grids; default
        ``norms.walk_minutes``.
    norms : Norms
        The service circle and snapping distance when not given above;
        ``centre_households_capacity`` for capacities.

    Returns
    -------
    SitingResult
    """
    t0 = time.perf_counter()
    check_goal(add, target_share, kind, demand, capacity, seed)
    minutes, speed_kmh, max_snap_m, centre_minutes = walk_circle(
        kind, minutes, speed_kmh, max_snap_m, centre_minutes, norms
    )
    cutoff = walk_metres(minutes, speed_kmh)
    check_points(households, "households")
    weights = household_counts(households, "households")
    fac = existing_facilities(facilities)
    net = network if isinstance(network, WalkNetwork) else load_network(network)

    # ---- who counts: the eligible households, those covered already, the demand
    centre_cutoff = walk_metres(centre_minutes, speed_kmh)
    d = build_demand(
        net, households, weights, fac, grids, kind, cutoff, centre_cutoff, max_snap_m, demand, capacity
    )
    times = {"baseline": time.perf_counter() - t0}
    rows = d.rows

    # ---- candidates and the coverage matrix (demand rows x candidates)
    t1 = time.perf_counter()
    cands, cand_snap = build_candidates(
        net, d.hh_metric, rows, d.eligible & ~d.off, candidates, network_nodes, spacing_m, max_snap_m
    )
    cand_off = cand_snap["off_network"].to_numpy()
    t2 = time.perf_counter()
    A = reach_matrix(net, d.hh_snap.iloc[rows], cand_snap, cutoff)
    times.update(candidates=t2 - t1, matrix=time.perf_counter() - t2)

    # ---- solve
    eligible_total = int(weights[d.eligible].sum())
    base_cov = int(weights[d.eligible & d.covered_before].sum())
    cand_area = floor_areas(cands, new_site_area_m2, "candidates")
    cap = (net, d.base_fac, d.fac_snap, d.hh_snap.iloc[rows], cutoff, cand_area, norms) if capacity else None
    w = weights[rows].astype(np.float64)
    sol, chosen, problem, extra = _solve(
        A, w, add, target_share, eligible_total, base_cov, time_limit, seed, cap
    )
    if capacity:
        base_cov = round(sol.details["baseline"])
    times["solve"] = sol.times.get("total", 0.0)
    gains = np.asarray(sol.gains, dtype=float)

    # ---- households after, the tables
    reached, new_site = first_new_site(A, chosen, rows, cands["candidate_id"].to_numpy(), len(households))
    after = d.covered_before | reached
    total_after = base_cov + float(gains.sum()) if capacity else int(weights[d.eligible & after].sum())
    sites = sites_table(cands, chosen, gains, base_cov, eligible_total, kind, cand_area, capacity, norms)
    out = households_after(households, d.eligible, d.is_demand, d.covered_before, after, new_site)
    comm = polygon_key(households, communities, d.hh_metric, "community_id")
    coverage_after = coverage_after_table(
        weights, d.eligible, d.covered_before, after, comm, d.grid_id, capacity, base_cov, total_after
    )

    times["total"] = time.perf_counter() - t0
    report = {
        "problem": problem,
        **_parameters(
            kind,
            minutes,
            speed_kmh,
            cutoff,
            add,
            target_share,
            demand,
            capacity,
            new_site_area_m2,
            seed,
            time_limit,
        ),
        **run_counts(weights, d.eligible, d.off, d.is_demand, base_cov, total_after, eligible_total),
        "station_grids": d.station_grids,
        "existing_facilities": [str(x) for x in d.base_fac["facility_id"]],
        "candidates": candidate_report(cands, cand_off, spacing_m),
        **solver_report(sol, add, chosen, times, extra),
    }
    candidates_out = to_wgs84(cands.assign(off_network=cand_off))
    return SitingResult(sites, jsonable(report), coverage_after, out, candidates_out)


def _parameters(
    kind, minutes, speed_kmh, cutoff, add, target_share, demand, capacity, new_site_area_m2, seed, time_limit
) -> dict:
    """The run's options, in report order."""
    return {
        "kind": kind,
        "minutes": minutes,
        "speed_kmh": float(speed_kmh),
        "cutoff_m": round(cutoff, 3),
        "add": None if add is None else int(add),
        "target_share": None if target_share is None else float(target_share),
        "demand": demand,
        "capacity": bool(capacity),
        "new_site_area_m2": float(new_site_area_m2) if capacity else None,
        "seed": int(seed),
        "time_limit_s": float(time_limit),
    }


def _solve(A, w, add, target_share, eligible_total, base_cov, time_limit, seed, capacitated):
    """Solve the instance; ``chosen`` in candidate columns, best first.

    ``seed`` > 0 hands the solvers the candidates in a shuffled order: they break ties by the
    first column, so equally good candidates change places while the objective stays the same.
    """
    order = np.random.default_rng(int(seed)).permutation(A.shape[1]) if seed else np.arange(A.shape[1])
    if seed:
        A = sparse.csr_array(A[:, order])
    extra: dict = {}
    if capacitated is not None:
        net, base_fac, fac_snap, dem_snap, cutoff, cand_area, norms = capacitated
        sol, fac_cap = _solve_capacitated(
            net, base_fac, fac_snap, dem_snap, A, w, cutoff, cand_area[order], int(add), time_limit, norms
        )
        extra["existing_capacity_households"] = {
            str(f): (None if not np.isfinite(c) else float(c))
            for f, c in zip(base_fac["facility_id"], fac_cap)
        }
        problem = "capacitated maximal covering"
    elif add is not None:
        sol = _solvers.max_cover(A, w, int(add), time_limit=time_limit)
        problem = "maximal covering (MCLP)"
    else:
        need = math.ceil(target_share * eligible_total - 1e-9) - base_cov
        try:
            sol = _solvers.min_cover(A, w, max(float(need), 0.0), time_limit=time_limit)
        except ValueError:
            reachable = _solvers.covered_weight(A, w, np.arange(A.shape[1]))
            best = (base_cov + reachable) / eligible_total if eligible_total else 0.0
            raise InputError(
                f"the target share {target_share:.1%} cannot be reached: even every candidate "
                f"together reaches {best:.1%} of the households",
                fix="lower --target-share, add candidate sites (--candidates) or a smaller "
                "--spacing, or check households off the network",
                message_zh=f"无法达到目标覆盖率 {target_share:.1%}：全部候选点最多达到 {best:.1%}",
                fix_zh="请降低 --target-share，或增加候选点、减小 --spacing",
            ) from None
        problem = "partial set covering (LSCP)"
    return sol, order[np.asarray(sol.sites, dtype=np.int64)], problem, extra


def _solve_capacitated(net, base_fac, fac_snap, dem_snap, A, w, cutoff, cand_area, k, time_limit, norms):
    """Capacitated covering with the existing facilities as open columns of their own."""
    fac_area = floor_areas(base_fac, np.nan, "facilities")
    fac_cap = np.array([norms.centre_households_capacity(a) if np.isfinite(a) else np.inf for a in fac_area])
    if np.isinf(fac_cap).any():
        warnings.warn(
            "existing facilities without area_m2 are treated as unlimited: "
            + format_rows(base_fac["facility_id"][np.isinf(fac_cap)].tolist()),
            GridplanWarning,
            stacklevel=4,
        )
    A_fac = (
        reach_matrix(net, dem_snap, fac_snap, cutoff)
        if fac_snap is not None
        else sparse.csr_array((len(dem_snap), 0), dtype=bool)
    )
    cand_cap = np.array([norms.centre_households_capacity(a) for a in cand_area])
    full = sparse.hstack([A_fac, A], format="csr")
    fixed = np.r_[np.ones(A_fac.shape[1], dtype=bool), np.zeros(A.shape[1], dtype=bool)]
    sol = _solvers.max_cover_capacitated(
        full, w, np.r_[fac_cap, cand_cap], k, fixed=fixed, time_limit=time_limit
    )
    sol.sites = sol.sites - A_fac.shape[1]
    return sol, fac_cap


def write_siting(result: SitingResult, folder) -> list[Path]:
    """Write ``sites.geojson``, ``coverage_after.csv`` and ``report.json`` to ``folder``,
    published together (nothing is replaced unless every file was written)."""
    from gridplan.io.atomic import atomic_outputs
    from gridplan.io.files import write, write_json

    with atomic_outputs(folder) as out:
        write(result.sites, out.path("sites.geojson"))
        result.coverage_after.to_csv(
            out.path("coverage_after.csv"), index=False, lineterminator="\n", encoding="utf-8-sig"
        )
        write_json(result.report, out.path("report.json"))
        return out.commit()
