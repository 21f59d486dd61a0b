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
snapping, the same distances :func:`gridplan.access.coverage.coverage` uses); the solvers are in
:mod:`gridplan.siting.solvers` (instance reduction, greedy with a submodular bound, HiGHS MILP under a
time limit; the optimality gap is always reported, "optimal" only when proven).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from gridplan.siting import solvers as _solvers
from gridplan.io.join import polygon_ids
from gridplan.errors import GridplanWarning, InputError, format_rows
from gridplan.io.projection import to_wgs84
from gridplan.norms import (
    CENTRE_KINDS, DEFAULT_NORMS, FACILITY_KINDS, MAX_SNAP_M, NEW_SITE_AREA_M2, SITING_SPACING_M,
    SITING_TIME_LIMIT_S, STATION_WALK_MINUTES, WALK_MINUTES, WALK_SPEED_KMH, Norms, walk_metres)

__all__ = ["SitingResult", "site", "candidate_sites", "reach_matrix", "write_siting", "demo_sites"]

log = logging.getLogger(__name__)

#: Same tolerance as gridplan.access.coverage.COVER_TOL_M: a household exactly on the threshold is
#: covered in both modules, so the gain claimed here is the gain coverage() measures.
COVER_TOL_M = 1e-6

SITE_KINDS = ("community_centre", "station", "street_centre")


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
            f"{r['problem']} for {r['kind']} ({r['minutes']:g} min at {r['speed_kmh']:g} km/h = "
            f"{r['cutoff_m']:.0f} m): {len(self.sites)} new site(s)",
            f"  households eligible {r['households_eligible']}, covered before "
            f"{r['households_covered_before']} ({r['share_before']:.1%}), after "
            f"{r['households_covered_after']} ({r['share_after']:.1%})",
            f"  solver: {r['method']}, {r['status']}, objective {r['objective']:g}, bound "
            f"{r['bound']:g}, gap {r['gap']:.2%}, {r['times_s'].get('total', 0):.1f} s",
        ]
        if r.get("note"):
            lines.append(f"  note: {r['note']}")
        for row in self.sites.itertuples():
            lines.append(f"  #{row.rank} {row.candidate_id}: +{row.households_gained:g} households, "
                         f"cumulative {row.cumulative_share_covered:.1%}")
        lines.append(f"  新增站点 {len(self.sites)} 处，覆盖率 {r['share_before']:.1%} → "
                     f"{r['share_after']:.1%}（最优性差距 {r['gap']:.2%}）")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def _household_weights(households: gpd.GeoDataFrame) -> np.ndarray:
    if not isinstance(households, gpd.GeoDataFrame) or households.crs is None:
        raise InputError("households must be a GeoDataFrame with a CRS", file="households",
                         fix="read them with gridplan.read_households",
                         message_zh="住户数据必须是带坐标参考系的 GeoDataFrame")
    missing = households.geometry.isna() | households.geometry.is_empty
    if missing.any():
        raise InputError("rows without a location", file="households",
                         rows=np.flatnonzero(missing.to_numpy()).tolist(),
                         fix="give every row a point (or lon/lat)", message_zh="有行缺少坐标")
    if "households" not in households.columns:
        return np.ones(len(households), dtype=np.int64)
    num = pd.to_numeric(households["households"], errors="coerce")
    bad = num.isna() | (num < 1) | (num != np.floor(num))
    if bad.any():
        raise InputError("households must be a whole number >= 1", file="households",
                         column="households", rows=np.flatnonzero(bad.to_numpy()).tolist(),
                         fix="correct these rows, or drop the column to count one household per row",
                         message_zh="户数必须是不小于 1 的整数")
    return num.to_numpy(dtype=np.int64)


def _facility_frame(facilities) -> gpd.GeoDataFrame:
    if facilities is None or len(facilities) == 0:
        return gpd.GeoDataFrame({"facility_id": pd.Series([], dtype=object),
                                 "kind": pd.Series([], dtype=object)}, geometry=[],
                                crs="EPSG:4326")
    for col in ("facility_id", "kind"):
        if col not in facilities.columns:
            raise InputError("required column missing", file="facilities", column=col,
                             fix=f"add it, or map it with --map {col}=YOUR_COLUMN",
                             message_zh="缺少必需的列")
    out = facilities.copy()
    out["facility_id"] = out["facility_id"].astype(str)
    out["kind"] = out["kind"].astype(str)
    unknown = ~out["kind"].isin(FACILITY_KINDS)
    if unknown.any():
        raise InputError(f"kind must be one of {', '.join(FACILITY_KINDS)}", file="facilities",
                         column="kind", rows=np.flatnonzero(unknown.to_numpy()).tolist(),
                         fix="correct the kind of these rows", message_zh="设施类型不正确")
    return out


def _areas(frame: pd.DataFrame, default: float, file: str) -> np.ndarray:
    """Floor areas (m²); missing -> ``default`` (NaN default = unknown)."""
    if "area_m2" not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    a = pd.to_numeric(frame["area_m2"], errors="coerce").to_numpy(dtype=float)
    bad = np.isfinite(a) & (a <= 0)
    if bad.any():
        raise InputError("area_m2 must be positive", file=file, column="area_m2",
                         rows=np.flatnonzero(bad).tolist(), fix="correct or blank these areas",
                         message_zh="面积必须为正数")
    return np.where(np.isfinite(a), a, default)


# --------------------------------------------------------------------------------------------
# candidates and the coverage matrix
# --------------------------------------------------------------------------------------------


def candidate_sites(network, area, *, spacing_m: float = SITING_SPACING_M,
                    candidates: gpd.GeoDataFrame | None = None,
                    network_nodes: bool = True) -> gpd.GeoDataFrame:
    """Candidate sites: network nodes on a lattice over ``area``, user sites, or both.

    Parameters
    ----------
    network : WalkNetwork
    area : shapely geometry or GeoDataFrame/GeoSeries
        Where candidates may stand (e.g. the convex hull of the households); a geometry is taken
        to be in the network's metric CRS.
    spacing_m : float
        Lattice spacing; each lattice point inside ``area`` picks its nearest network node
        (KD-tree), duplicates removed.
    candidates : GeoDataFrame of points, optional
        The user's sites: optional ``candidate_id``, ``name``, ``area_m2``.
    network_nodes : bool
        Include the lattice nodes.

    Returns
    -------
    GeoDataFrame
        In the network's CRS: ``candidate_id``, ``source`` (network_node/user), ``name``,
        ``area_m2`` (NaN when unknown), point geometry.
    """
    if spacing_m <= 0:
        raise InputError("spacing must be positive", fix="e.g. --spacing 150",
                         message_zh="候选点间距必须为正数")
    parts = []
    if network_nodes and network.n_nodes:
        if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
            area = shapely.union_all(area.to_crs(network.crs).geometry.values.to_numpy())
        xmin, ymin, xmax, ymax = area.bounds
        # Lattice anchored on multiples of the spacing, so a bigger area keeps the same points.
        xs = np.arange(math.floor(xmin / spacing_m), math.ceil(xmax / spacing_m) + 1) * spacing_m
        ys = np.arange(math.floor(ymin / spacing_m), math.ceil(ymax / spacing_m) + 1) * spacing_m
        gx, gy = np.meshgrid(xs, ys)
        gx, gy = gx.ravel(), gy.ravel()
        inside = shapely.contains_xy(area, gx, gy) | shapely.intersects_xy(area, gx, gy)
        _, node = cKDTree(network.node_xy).query(np.column_stack([gx[inside], gy[inside]]))
        node = np.unique(node)
        xy = network.node_xy[node]
        parts.append(gpd.GeoDataFrame(
            {"candidate_id": [f"N{n}" for n in node], "source": "network_node", "name": None,
             "area_m2": np.nan}, geometry=shapely.points(xy), crs=network.crs))
    if candidates is not None and len(candidates):
        user = candidates.to_crs(network.crs)
        if "candidate_id" in user.columns:
            ids = user["candidate_id"].astype(str)
            dup = ids.duplicated(keep=False)
            if dup.any():
                raise InputError("candidate_id values are not unique", file="candidates",
                                 column="candidate_id", rows=np.flatnonzero(dup.to_numpy()).tolist(),
                                 fix="give every candidate site its own id",
                                 message_zh="candidate_id 有重复")
        else:
            ids = pd.Series([f"U{i + 1:03d}" for i in range(len(user))], index=user.index)
        bad = user.geometry.isna() | user.geometry.is_empty
        if bad.any():
            raise InputError("candidate sites without a location", file="candidates",
                             rows=np.flatnonzero(bad.to_numpy()).tolist(),
                             fix="give every candidate a point", message_zh="候选点缺少坐标")
        geom = user.geometry.values.to_numpy()
        geom = np.where(shapely.get_type_id(geom) == 0, geom, shapely.point_on_surface(geom))
        parts.append(gpd.GeoDataFrame(
            {"candidate_id": ids.to_numpy(dtype=object), "source": "user",
             "name": user["name"].astype(object).to_numpy() if "name" in user.columns else None,
             "area_m2": _areas(user, np.nan, "candidates")},
            geometry=geom, crs=network.crs))
    if not parts:
        return gpd.GeoDataFrame({"candidate_id": [], "source": [], "name": [], "area_m2": []},
                                geometry=[], crs=network.crs)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=network.crs)


def reach_matrix(network, households_snap: pd.DataFrame, sites_snap: pd.DataFrame,
                 cutoff_m: float) -> sparse.csr_array:
    """Boolean households x sites matrix: the site is within ``cutoff_m`` walking.

    The adapter to :meth:`gridplan.network.graph.WalkNetwork.reach_matrix` (batched multi-source
    Dijkstra, exact edge snapping, access legs walked): the same distance definition as
    :func:`gridplan.access.coverage.coverage`, with the same tolerance at the threshold.
    """
    if len(households_snap) == 0 or len(sites_snap) == 0:
        return sparse.csr_array((len(households_snap), len(sites_snap)), dtype=bool)
    D = network.reach_matrix(sites_snap, households_snap, cutoff_m + COVER_TOL_M)
    D = sparse.csr_array(D)
    A = sparse.csr_array((D.data <= cutoff_m + COVER_TOL_M, D.indices, D.indptr), shape=D.shape)
    A.eliminate_zeros()
    return A


# --------------------------------------------------------------------------------------------
# the siting run
# --------------------------------------------------------------------------------------------


def site(households: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None, network, *,
         add: int | None = None, target_share: float | None = None,
         kind: str = "community_centre", minutes: float | None = None,
         speed_kmh: float = WALK_SPEED_KMH, candidates: gpd.GeoDataFrame | None = None,
         spacing_m: float = SITING_SPACING_M, demand: str = "uncovered", capacity: bool = False,
         time_limit: float = SITING_TIME_LIMIT_S, grids: gpd.GeoDataFrame | None = None,
         communities: gpd.GeoDataFrame | None = None, seed: int = 0, network_nodes: bool | None = None, max_snap_m: float = MAX_SNAP_M,
         new_site_area_m2: float = NEW_SITE_AREA_M2, centre_minutes: float = WALK_MINUTES,
         norms: Norms = DEFAULT_NORMS) -> SitingResult:
    """Recommend new centre or station sites.

    Parameters
    ----------
    households : GeoDataFrame
        Points; ``households`` (int >= 1, default 1 per row); optional ``community_id``,
        ``grid_id``.
    facilities : GeoDataFrame or None
        Existing facilities (``facility_id``, ``kind``, optional ``area_m2``); fixed.
    network : WalkNetwork or anything :func:`gridplan.network.graph.load_network` accepts
    add : int, optional
        Number of new sites (maximal covering). Exactly one of ``add``/``target_share``.
    target_share : float, optional
        Share (0-1] of all eligible households to have within reach, existing coverage counted
        (fewest new sites).
    kind : {"community_centre", "station", "street_centre"}
        What to site. Centres are measured against existing street and community centres;
        stations against every existing facility, with the station walk.
    minutes : float, optional
        Walking minutes of the service circle; default 15 for centres and
        :data:`~gridplan.norms.STATION_WALK_MINUTES` for stations.
    speed_kmh : float
        Walking speed.
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
        Recorded for reproducibility; the solvers are deterministic (fixed tie-breaks).
    network_nodes : bool, optional
        Use lattice network nodes as candidates (default: yes, unless only user candidates are
        wanted: pass False).
    max_snap_m : float
        Households and sites farther than this from every walkway are off the network: never
        covered, reported.
    new_site_area_m2 : float
        Floor area of a new site without one (capacitated model).
    centre_minutes : float
        Walk that defines "covered by a centre" when selecting station grids.
    norms : Norms
        ``centre_households_capacity`` for capacities.

    Returns
    -------
    SitingResult
    """
    from gridplan.network.graph import WalkNetwork, load_network

    t0 = time.perf_counter()
    if (add is None) == (target_share is None):
        raise InputError("give exactly one of --add K or --target-share SHARE",
                         fix="e.g. --add 3 (best 3 new sites) or --target-share 0.95",
                         message_zh="请只指定 --add 或 --target-share 其中之一")
    if add is not None and (int(add) != add or add < 1):
        raise InputError(f"--add must be a whole number >= 1, not {add}", fix="e.g. --add 3",
                         message_zh="--add 必须是不小于 1 的整数")
    if target_share is not None and not 0 < target_share <= 1:
        raise InputError(f"--target-share must be in (0, 1], not {target_share}",
                         fix="e.g. --target-share 0.95", message_zh="--target-share 必须在 0 到 1 之间")
    if kind not in SITE_KINDS:
        raise InputError(f"kind must be one of {', '.join(SITE_KINDS)}",
                         fix="e.g. --kind community_centre", message_zh="选址类型不正确")
    if demand not in ("uncovered", "all"):
        raise InputError("demand must be 'uncovered' or 'all'", fix="e.g. --demand uncovered",
                         message_zh="需求必须是 uncovered 或 all")
    if capacity and add is None:
        raise InputError("--capacity works with --add only",
                         fix="use --add K with --capacity, or drop --capacity",
                         message_zh="--capacity 只能与 --add 同时使用")
    minutes = float(minutes if minutes is not None else (
        STATION_WALK_MINUTES if kind == "station" else WALK_MINUTES))
    if minutes <= 0 or speed_kmh <= 0:
        raise InputError("minutes and speed must be positive", fix="e.g. --minutes 15 --speed-kmh 4",
                         message_zh="分钟数和步行速度必须为正数")
    cutoff = walk_metres(minutes, speed_kmh)
    weights = _household_weights(households)
    fac = _facility_frame(facilities)
    net = network if isinstance(network, WalkNetwork) else load_network(network)
    times: dict[str, float] = {}

    # ---- baseline: existing facilities of the kinds that count
    base_kinds = tuple(FACILITY_KINDS) if kind == "station" else tuple(CENTRE_KINDS)
    base_fac = fac[fac["kind"].isin(base_kinds)].reset_index(drop=True)
    hh_snap = net.snap(households, max_snap_m=max_snap_m)
    off = hh_snap["off_network"].to_numpy()
    fac_snap = net.snap(base_fac, max_snap_m=max_snap_m) if len(base_fac) else None
    covered_before = _covered(net, fac_snap, hh_snap, cutoff) if demand == "uncovered" or capacity \
        else np.zeros(len(households), dtype=bool)
    times["baseline"] = time.perf_counter() - t0

    # ---- eligible households (the universe the shares count over)
    hh_metric = households.geometry.to_crs(net.crs)
    grid_id = None
    if "grid_id" in households.columns:
        grid_id = households["grid_id"].astype(object).where(households["grid_id"].notna(), None) \
            .map(lambda x: None if x is None else str(x)).to_numpy()
    elif grids is not None and "grid_id" in grids.columns:
        grid_id = polygon_ids(hh_metric, grids, "grid_id")
    eligible = np.ones(len(households), dtype=bool)
    station_grids = None
    if kind == "station" and grids is not None:
        if grid_id is None:
            raise InputError("grids have no grid_id column", file="grids", column="grid_id",
                             fix="pass grid polygons from gridplan partition (grids.geojson)",
                             message_zh="网格数据缺少 grid_id 列")
        centres = fac[fac["kind"].isin(CENTRE_KINDS)].reset_index(drop=True)
        by_centre = _covered(net, net.snap(centres, max_snap_m=max_snap_m) if len(centres) else None,
                             hh_snap, walk_metres(centre_minutes, speed_kmh))
        g = pd.Series(grid_id, dtype=object)
        per_grid = pd.DataFrame({"g": g, "c": weights * by_centre}).dropna(subset=["g"]) \
            .groupby("g", sort=True)["c"].sum()
        station_grids = sorted(per_grid.index[per_grid == 0].tolist())
        eligible = g.isin(station_grids).to_numpy()
    # ---- demand rows: eligible, on the network, and (by default) not yet covered
    is_demand = eligible & ~off & ~(covered_before if not capacity else np.zeros_like(off))
    demand_rows = np.flatnonzero(is_demand)

    # ---- candidates
    t1 = time.perf_counter()
    use_nodes = True if network_nodes is None else bool(network_nodes)
    if not use_nodes and (candidates is None or len(candidates) == 0):
        raise InputError("no candidate sites: network nodes are off and no candidate file given",
                         fix="pass --candidates FILE, or allow network-node candidates",
                         message_zh="没有候选点")
    # Candidates go where the demand is; with no demand, near the households the network
    # reaches. Off-network points never widen the area: one stray point far away would
    # stretch the candidate lattice over the whole box between them.
    area_rows = demand_rows if demand_rows.size else np.flatnonzero(eligible & ~off)
    area = shapely.convex_hull(shapely.multipoints(
        shapely.get_coordinates(hh_metric.values.to_numpy()[area_rows]))).buffer(spacing_m) \
        if area_rows.size else shapely.Polygon()
    cands = candidate_sites(net, area, spacing_m=spacing_m, candidates=candidates,
                            network_nodes=use_nodes and not area.is_empty)
    cand_snap = net.snap(cands, max_snap_m=max_snap_m)
    cand_off = cand_snap["off_network"].to_numpy()
    if cand_off.any():
        warnings.warn(f"{int(cand_off.sum())} candidate site(s) more than {max_snap_m:g} m from "
                      f"any walkway cannot reach anyone: "
                      f"{format_rows(cands['candidate_id'][cand_off].tolist())}", GridplanWarning,
                      stacklevel=2)
    times["candidates"] = time.perf_counter() - t1

    # ---- coverage matrix (demand rows x candidates)
    t2 = time.perf_counter()
    A = reach_matrix(net, hh_snap.iloc[demand_rows], cand_snap, cutoff)
    times["matrix"] = time.perf_counter() - t2
    w = weights[demand_rows].astype(np.float64)

    # ---- solve
    eligible_total = int(weights[eligible].sum())
    base_cov = int(weights[eligible & covered_before].sum())
    cand_area = np.where(np.isfinite(cands["area_m2"].to_numpy(dtype=float)),
                         cands["area_m2"].to_numpy(dtype=float), new_site_area_m2)
    extra: dict = {}
    if capacity:
        sol, A_fac, fac_cap = _solve_capacitated(net, base_fac, fac_snap, hh_snap, demand_rows, A, w,
                                                 cutoff, cand_area, int(add), time_limit, norms)
        extra["existing_capacity_households"] = {
            str(f): (None if not np.isfinite(c) else float(c))
            for f, c in zip(base_fac["facility_id"], fac_cap)}
        base_cov = int(round(sol.details["baseline"]))
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
                fix_zh="请降低 --target-share，或增加候选点、减小 --spacing") from None
        problem = "partial set covering (LSCP)"
    times["solve"] = sol.times.get("total", 0.0)
    chosen = np.asarray(sol.sites, dtype=np.int64)
    gains = np.asarray(sol.gains, dtype=float)

    # ---- households after
    covered_after = covered_before.copy()
    new_site = np.full(len(households), None, dtype=object)
    if chosen.size:
        sub = sparse.csc_array(A[:, chosen])
        # first-ranked new site reaching each demand row
        hit_rows, hit_cols = sub.tocoo().coords
        order = np.lexsort((hit_cols, hit_rows))
        hit_rows, hit_cols = hit_rows[order], hit_cols[order]
        first = np.r_[True, hit_rows[1:] != hit_rows[:-1]] if hit_rows.size else np.zeros(0, bool)
        rows_hit = demand_rows[hit_rows[first]]
        covered_after[rows_hit] = True
        new_site[rows_hit] = cands["candidate_id"].to_numpy()[chosen[hit_cols[first]]]
    total_after = base_cov + float(gains.sum())
    if not capacity:
        total_after = int(weights[eligible & covered_after].sum())

    # ---- sites table
    sel = cands.iloc[chosen]
    cum = base_cov + np.cumsum(gains)
    sites = gpd.GeoDataFrame({
        "rank": np.arange(1, chosen.size + 1, dtype=np.int64),
        "candidate_id": sel["candidate_id"].to_numpy(dtype=object),
        "source": sel["source"].to_numpy(dtype=object),
        "name": sel["name"].to_numpy(dtype=object),
        "kind": kind,
        "households_gained": np.round(gains).astype(np.int64) if _solvers._integral(gains) else gains,
        "cumulative_households_covered": np.round(cum, 6),
        "cumulative_share_covered": np.round(cum / eligible_total, 6) if eligible_total
        else np.zeros(chosen.size),
        "area_m2": cand_area[chosen] if capacity else sel["area_m2"].to_numpy(dtype=float),
        "capacity_households": np.floor([norms.centre_households_capacity(a) for a in cand_area[chosen]])
        if capacity else np.full(chosen.size, np.nan),
    }, geometry=sel.geometry.values, crs=net.crs)
    sites = to_wgs84(sites)

    out = households.copy()
    out["eligible"] = eligible
    out["demand"] = is_demand
    out["covered_before"] = covered_before
    out["covered_after"] = covered_after
    out["new_site"] = pd.array(new_site, dtype=object)
    comm = None
    if "community_id" in households.columns:
        comm = households["community_id"].astype(object).where(
            households["community_id"].notna(), None).map(
            lambda x: None if x is None else str(x)).to_numpy()
    elif communities is not None and "community_id" in communities.columns:
        comm = polygon_ids(hh_metric, communities, "community_id")
    coverage_after = _summary(weights, eligible, covered_before, covered_after, comm, grid_id,
                              capacity, base_cov, total_after)

    times["total"] = time.perf_counter() - t0
    report = {
        "problem": problem,
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
        "households_total": int(weights.sum()),
        "households_eligible": eligible_total,
        "households_off_network": int(weights[off].sum()),
        "households_demand": int(weights[is_demand].sum()),
        "households_covered_before": int(base_cov),
        "households_covered_after": int(round(total_after)),
        "share_before": round(base_cov / eligible_total, 6) if eligible_total else 0.0,
        "share_after": round(total_after / eligible_total, 6) if eligible_total else 0.0,
        "station_grids": station_grids,
        "existing_facilities": [str(x) for x in base_fac["facility_id"]],
        "candidates": {
            "network_node": int((cands["source"] == "network_node").sum()),
            "user": int((cands["source"] == "user").sum()),
            "off_network": [str(x) for x in cands["candidate_id"][cand_off]],
            "spacing_m": float(spacing_m),
        },
        "sites": int(chosen.size),
        "note": (f"only {chosen.size} new site(s) add coverage; more would gain nothing"
                 if add is not None and chosen.size < add else None),
        **{k: v for k, v in sol.as_dict().items() if k != "times_s"},
        "times_s": {**{k: round(v, 3) for k, v in times.items()},
                    **{f"solver_{k}": v for k, v in sol.as_dict()["times_s"].items()}},
        **extra,
        "gap_note": "gap = (bound - objective) / bound, bound proven by the LP relaxation, the "
                    "MILP dual bound or greedy submodularity; 'optimal' only when gap is 0",
    }
    if problem.startswith("partial"):
        report["objective_meaning"] = "number of new sites"
    else:
        report["objective_meaning"] = "households gained over the baseline"
    return SitingResult(sites=sites, report=_jsonable(report), coverage_after=coverage_after,
                        households=out, candidates=to_wgs84(cands.assign(off_network=cand_off)))


def _covered(net, fac_snap, hh_snap, cutoff) -> np.ndarray:
    """Households within ``cutoff`` of an existing facility (one multi-source Dijkstra)."""
    if fac_snap is None or len(fac_snap) == 0:
        return np.zeros(len(hh_snap), dtype=bool)
    d = net.nearest(fac_snap, hh_snap)["dist_m"].to_numpy()
    return np.isfinite(d) & (d <= cutoff + COVER_TOL_M)


def _solve_capacitated(net, base_fac, fac_snap, hh_snap, demand_rows, A, w, cutoff, cand_area,
                       k, time_limit, norms):
    fac_area = _areas(base_fac, np.nan, "facilities")
    fac_cap = np.array([norms.centre_households_capacity(a) if np.isfinite(a) else np.inf
                        for a in fac_area])
    if np.isinf(fac_cap).any():
        warnings.warn("existing facilities without area_m2 are treated as unlimited: "
                      + format_rows(base_fac["facility_id"][np.isinf(fac_cap)].tolist()),
                      GridplanWarning, stacklevel=3)
    A_fac = reach_matrix(net, hh_snap.iloc[demand_rows], fac_snap, cutoff) if fac_snap is not None \
        else sparse.csr_array((len(demand_rows), 0), dtype=bool)
    cand_cap = np.array([norms.centre_households_capacity(a) for a in cand_area])
    full = sparse.hstack([A_fac, A], format="csr")
    fixed = np.r_[np.ones(A_fac.shape[1], dtype=bool), np.zeros(A.shape[1], dtype=bool)]
    sol = _solvers.max_cover_capacitated(full, w, np.r_[fac_cap, cand_cap], k, fixed=fixed,
                                         time_limit=time_limit)
    sol.sites = sol.sites - A_fac.shape[1]
    return sol, A_fac, fac_cap


def _summary(weights, eligible, before, after, comm, grid_id, capacity, base_cov, total_after):
    rows = []
    frame = pd.DataFrame({"h": weights * eligible, "b": weights * (eligible & before),
                          "a": weights * (eligible & after)})
    if capacity:
        # Capacitated "covered" is households served, not a per-household flag.
        rows.append({"level": "all", "id": "all", "households": int(frame["h"].sum()),
                     "households_covered_before": int(base_cov),
                     "households_covered_after": int(round(total_after))})
    else:
        rows.append({"level": "all", "id": "all", "households": int(frame["h"].sum()),
                     "households_covered_before": int(frame["b"].sum()),
                     "households_covered_after": int(frame["a"].sum())})
        for level, key in (("community", comm), ("grid", grid_id)):
            if key is None:
                continue
            g = frame.assign(k=key).dropna(subset=["k"]).groupby("k", sort=True).sum()
            g = g[g["h"] > 0]
            for ident, r in g.iterrows():
                rows.append({"level": level, "id": str(ident), "households": int(r["h"]),
                             "households_covered_before": int(r["b"]),
                             "households_covered_after": int(r["a"])})
    out = pd.DataFrame(rows, columns=["level", "id", "households", "households_covered_before",
                                      "households_covered_after"])
    h = out["households"].where(out["households"] > 0)
    out["share_before"] = (out["households_covered_before"] / h).round(6).fillna(0.0)
    out["share_after"] = (out["households_covered_after"] / h).round(6).fillna(0.0)
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not math.isfinite(v) else v
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


def write_siting(result: SitingResult, folder) -> list[Path]:
    """Write ``sites.geojson``, ``coverage_after.csv`` and ``report.json`` to ``folder``,
    published together (nothing is replaced unless every file was written)."""
    from gridplan.io.atomic import atomic_outputs
    from gridplan.io.files import write, write_json

    with atomic_outputs(folder) as out:
        write(result.sites, out.path("sites.geojson"))
        result.coverage_after.to_csv(out.path("coverage_after.csv"), index=False,
                                     lineterminator="\n", encoding="utf-8-sig")
        write_json(result.report, out.path("report.json"))
        return out.commit()


def demo_sites(sample: dict | None = None, *, add: int = 3, out=None, **kwargs) -> SitingResult:
    """The sample district's three best new community centres (for ``make demo``).

    Parameters
    ----------
    sample : dict, optional
        :func:`gridplan.datasets.sample.load_sample` output (loaded when omitted).
    add : int
        New sites.
    out : path, optional
        Folder to write the outputs to (:func:`write_siting`).
    """
    if sample is None:
        from gridplan.datasets.sample import load_sample

        sample = load_sample()
    result = site(sample["households"], sample["facilities"], sample["network"], add=add, **kwargs)
    if out is not None:
        write_siting(result, out)
    return result
