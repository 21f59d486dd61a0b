"""Balanced, contiguous, compact grids (网格) of 300-500 households inside every community.

>>> import gridplan as gp
>>> res = gp.partition(households, communities)            # doctest: +SKIP
>>> res.grids[["grid_id", "households", "status"]]          # doctest: +SKIP

Communities are independent: each is planned by :func:`gridplan.grids.community.plan_community`, a pure
function, in a process pool when ``n_jobs`` > 1 (same result as ``n_jobs=1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.grids.community import REASONS, plan_community
from gridplan.errors import InputError
from gridplan.io.projection import local_crs
from gridplan.norms import COMMUNITY_SNAP_M, GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

__all__ = ["partition", "PartitionResult", "REASONS"]

GRID_COLUMNS = ["grid_id", "community_id", "community_name", "street_id", "street_name",
                "households", "population", "n_buildings", "n_estates", "status", "reason",
                "area_m2", "compactness"]


@dataclass
class PartitionResult:
    """Grids, the household assignment, the units, micro-grids and the report of a partition.

    Attributes
    ----------
    grids : GeoDataFrame
        One row per grid (EPSG:4326), the contract fields (:data:`GRID_COLUMNS`).
    assignment : GeoDataFrame
        The households input with ``grid_id`` (and ``micro_grid_id``) added; same rows and order.
    units : GeoDataFrame
        Atomic units with ``unit_id``, ``community_id``, ``grid_id``, ``kind``, ``estate_id``,
        ``households`` and their cell polygon.
    micro_grids : GeoDataFrame or None
        Micro-grids (``micro_grid_id`` = ``<grid_id>-<MM>``) when ``micro_max`` was given.
    report : dict
        JSON-serialisable metrics, per community and in total.
    """

    grids: gpd.GeoDataFrame
    assignment: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    micro_grids: gpd.GeoDataFrame | None
    report: dict = field(default_factory=dict)


# --- input checks ------------------------------------------------------------------------------

def _check_households(hh: gpd.GeoDataFrame) -> np.ndarray:
    if not isinstance(hh, gpd.GeoDataFrame):
        raise InputError("households must be a GeoDataFrame of points", file="households",
                         fix="read them with gridplan.read_households")
    geom = hh.geometry.values
    bad = np.flatnonzero(shapely.is_missing(geom) | shapely.is_empty(geom)
                         | (shapely.get_type_id(geom) != 0))
    if len(bad):
        raise InputError("household rows without a point geometry", file="households", rows=bad,
                         fix="give every household row a point (lon/lat)",
                         message_zh="部分住户记录没有点坐标", fix_zh="为每条住户记录提供经纬度")
    if "households" not in hh.columns:
        return np.ones(len(hh), dtype=np.int64)
    col = pd.to_numeric(hh["households"], errors="coerce")
    vals = col.to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(vals) | (vals < 1) | (vals != np.round(vals)))
    if len(bad):
        raise InputError("households must be a whole number >= 1", file="households",
                         column="households", rows=bad,
                         fix="correct these rows or drop the column (then every row is one household)",
                         message_zh="户数必须是大于等于1的整数", fix_zh="修改这些行，或删除该列（每行按一户计）")
    return vals.astype(np.int64)


def _check_communities(comm: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "community_id" not in comm.columns:
        raise InputError("communities have no 'community_id' column", file="communities",
                         column="community_id",
                         fix="map a column to it, e.g. --map community_id=SQMC",
                         message_zh="社区图层缺少 community_id 列", fix_zh="用 --map community_id=列名 指定")
    ids = comm["community_id"].astype(str)
    dup = np.flatnonzero(ids.duplicated(keep=False).to_numpy())
    if len(dup):
        raise InputError("community_id values are not unique", file="communities",
                         column="community_id", rows=dup, fix="give every community its own id",
                         message_zh="community_id 有重复", fix_zh="为每个社区设置唯一编号")
    geom = comm.geometry.values
    bad = np.flatnonzero(shapely.is_missing(geom) | shapely.is_empty(geom)
                         | ~np.isin(shapely.get_type_id(geom), [3, 6]))
    if len(bad):
        raise InputError("community rows without a polygon", file="communities", rows=bad,
                         fix="give every community a boundary polygon")
    out = comm.copy()
    out["community_id"] = ids.to_numpy(object)
    return out


def _wgs84(metric: gpd.GeoSeries, given: gpd.GeoSeries | None):
    """The WGS-84 geometries: the input's own when it is in EPSG:4326 (no round trip)."""
    if given is not None and given.crs is not None and given.crs.equals("EPSG:4326"):
        return given.values
    return metric.to_crs(4326).values


def _community_of(hh_m: gpd.GeoDataFrame, comm_m: gpd.GeoDataFrame, hh_count: np.ndarray,
                  hh_wgs: gpd.GeoSeries | None = None) -> tuple[np.ndarray, int]:
    """Position (in ``comm_m``) of the community of every household row, and how many rows in
    gaps between communities were joined to the nearest one.

    The join itself is :func:`gridplan.io.validate._join_households`, so that partition, validate
    and coverage agree on every household (a given ``community_id`` wins; in an overlap the
    community whose representative point is nearest, ties to the lowest id).
    """
    from gridplan.io.validate import ValidationResult, _join_households

    ids = comm_m["community_id"].to_numpy(object)
    cols = {"households": hh_count}
    if "community_id" in hh_m.columns:
        given = hh_m["community_id"]
        cols["community_id"] = given.astype(object).where(given.notna(), None).map(
            lambda v: None if v is None else str(v)).to_numpy(object)
    hh4 = gpd.GeoDataFrame(cols, geometry=_wgs84(hh_m.geometry, hh_wgs), crs=4326)
    comm4 = gpd.GeoDataFrame({"community_id": ids}, geometry=comm_m.geometry.to_crs(4326).values,
                             crs=4326)
    checked = ValidationResult()
    _join_households(hh4, comm4, checked, {"households": "households",
                                           "communities": "communities"})
    if checked.frames.get("households") is None:
        bad = next(p for p in checked.problems if p.code == "unknown_community_id")
        raise InputError("community_id not found among the communities", file="households",
                         column="community_id", rows=bad.rows,
                         fix="use the ids of the communities file, or drop the column to "
                         "find communities by location",
                         message_zh="户点的 community_id 不在社区图层中",
                         fix_zh="请更正编号，或删除该列按位置匹配社区")
    joined = checked.frames["households"]["community_id"]
    pos = pd.Index(ids).get_indexer(joined.where(joined.notna(), None).to_numpy(object))
    miss = np.flatnonzero(pos < 0)
    if len(miss):
        pts = hh_m.geometry.values
        tree = shapely.STRtree(comm_m.geometry.values)
        mi, mc = tree.query_nearest(pts[miss], max_distance=COMMUNITY_SNAP_M, all_matches=False)
        pos[miss[mi]] = mc
        still = np.flatnonzero(pos < 0)
        if len(still):
            raise InputError(
                f"{len(still)} household rows lie outside every community (more than "
                f"{COMMUNITY_SNAP_M:g} m away)", file="households", rows=still,
                fix="check their coordinates (--coords gcj02/bd09 for Amap/Baidu points) or "
                "extend the community boundaries",
                message_zh=f"{len(still)} 条住户记录不在任何社区范围内",
                fix_zh="检查坐标系（高德/百度坐标请加 --coords gcj02/bd09）或补全社区边界")
    return pos, len(miss)


def _previous_ids(replan, hh_m: gpd.GeoDataFrame, crs) -> np.ndarray:
    """Previous grid_id per household: from a households file (same point) or a grids file."""
    prev = replan.to_crs(crs)
    if "grid_id" not in prev.columns:
        raise InputError("the replan file has no 'grid_id' column", file="replan", column="grid_id",
                         fix="pass the households.geojson or grids.geojson of a previous run")
    out = np.empty(len(hh_m), dtype=object)
    gt = shapely.get_type_id(prev.geometry.values)
    pts = hh_m.geometry.values
    if (gt == 0).all():
        tree = shapely.STRtree(prev.geometry.values)
        i, j = tree.query_nearest(pts, max_distance=1.0, all_matches=False)
        out[i] = prev["grid_id"].astype(str).to_numpy(object)[j]
    else:
        tree = shapely.STRtree(prev.geometry.values)
        i, j = tree.query(pts, predicate="intersects")
        order = np.lexsort((j, i))[::-1]
        out[i[order]] = prev["grid_id"].astype(str).to_numpy(object)[j[order]]
    return out


def _previous_totals(replan) -> dict | None:
    """Households per previous grid_id: summed over a households file, or the ``households``
    column of a grids file (None when a grids file has none: changes cannot be told apart)."""
    gt = shapely.get_type_id(replan.geometry.values)
    ids = replan["grid_id"].astype(str).to_numpy(object)
    if (gt == 0).all():
        w = (pd.to_numeric(replan["households"], errors="coerce").fillna(1).to_numpy(np.int64)
             if "households" in replan.columns else np.ones(len(replan), dtype=np.int64))
        return pd.Series(w).groupby(ids, sort=True).sum().astype(int).to_dict()
    if "households" not in replan.columns:
        return None
    return dict(zip(ids, pd.to_numeric(replan["households"], errors="coerce").fillna(-1)
                    .astype(int).tolist()))


def _unchanged(cid: str, prev: np.ndarray, hh: np.ndarray, totals: dict | None) -> bool:
    """Are the households of community ``cid`` exactly those of its previous grids (every one
    matched to a previous grid of ``cid``, the same households in every previous grid)?"""
    if totals is None or len(prev) == 0:
        return False
    own = f"{cid}-"
    if not all(isinstance(p, str) and p.startswith(own) for p in prev):
        return False
    now = pd.Series(hh).groupby(prev.astype(str), sort=True).sum().astype(int).to_dict()
    before = {g: t for g, t in totals.items() if g.startswith(own) and t != 0}
    return now == before


# --- the partition -----------------------------------------------------------------------------

def partition(households: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, *,
              buildings: gpd.GeoDataFrame | None = None, estates: gpd.GeoDataFrame | None = None,
              barriers: gpd.GeoDataFrame | None = None,
              min_households: int = GRID_MIN_HOUSEHOLDS, max_households: int = GRID_MAX_HOUSEHOLDS,
              micro_max: int | None = None, keep: gpd.GeoDataFrame | None = None,
              replan: gpd.GeoDataFrame | None = None, seed: int = 0,
              n_jobs: int | None = None, progress: bool = False,
              mapper: Callable[[Callable[[dict], dict], list[dict]], list[dict]] | None = None,
              ) -> PartitionResult:
    """Partition the households of every community into grids of ``min``-``max`` households.

    Grids are unions of atomic units (estates kept whole up to ``max_households``, larger ones
    split along building lines), contiguous, tile their community, respect barriers unless the
    community cannot be planned otherwise, and are as compact (Polsby-Popper) as the local search
    makes them. A grid that cannot meet the bounds gets ``status`` under/over and a ``reason``.

    Parameters
    ----------
    households : GeoDataFrame
        Points with ``households`` (default 1 per row), optional ``population``, ``building_id``,
        ``estate_id``, ``community_id`` (else found by location).
    communities : GeoDataFrame
        Polygons with ``community_id`` (unique), ``name``, optional ``street_id``, ``street_name``.
    buildings : GeoDataFrame, optional
        ``building_id`` with ``estate_id``: gives households their estate through their building.
    estates : GeoDataFrame, optional
        Estate polygons with ``estate_id``: households without one get the estate they lie in.
    barriers : GeoDataFrame, optional
        Lines (arterial roads, rivers, railways) that grids should not straddle.
    min_households, max_households : int
        The band (default 300-500, :mod:`gridplan.norms`).
    micro_max : int, optional
        Also split every grid into micro-grids of at most this many households.
    keep : GeoDataFrame, optional
        Grids (``grid_id``, polygons) to keep exactly; only the rest is planned.
    replan : GeoDataFrame, optional
        A previous plan (households with ``grid_id``, or grids with ``households``): replan moving
        few households and keeping the codes of grids that continue; a community whose
        households did not change keeps its grids exactly.
    seed : int
        Seed of the partitioner; same inputs and seed give identical results.
    n_jobs : int, optional
        Worker processes (default: all cores, at most the number of communities).
    progress : bool
        Show a tqdm progress bar.
    mapper : callable, optional
        ``mapper(plan_community, tasks) -> results`` in task order, to plan the communities
        elsewhere; :func:`gridplan.parallel.partition` passes one that maps them over a Dask
        cluster. Default: a local process pool of ``n_jobs`` workers.

    Returns
    -------
    PartitionResult
    """
    t0 = time.perf_counter()
    lo, hi = int(min_households), int(max_households)
    if not 1 <= lo <= hi:
        raise InputError(f"bounds {lo}-{hi} are not a valid band",
                         fix="use 1 <= --min <= --max, e.g. --min 300 --max 500")
    if micro_max is not None and int(micro_max) < 1:
        raise InputError("micro_max must be >= 1", fix="e.g. --micro-max 100")
    hh_count = _check_households(households)
    comm = _check_communities(communities)
    crs = _local_crs(comm)
    comm_m = comm.to_crs(crs)
    comm_m = comm_m.set_geometry(shapely.make_valid(comm_m.geometry.values))
    hh_m = households.to_crs(crs)
    cpos, snapped = _community_of(hh_m, comm_m, hh_count, households.geometry)
    n = len(hh_m)
    xy = shapely.get_coordinates(hh_m.geometry.values)

    building = _ids(hh_m, "building_id")
    estate = _ids(hh_m, "estate_id")
    if buildings is not None and "building_id" in buildings.columns and "estate_id" in buildings.columns \
            and building is not None:
        bmap = pd.Series(buildings["estate_id"].to_numpy(object),
                         index=buildings["building_id"].astype(str).to_numpy(object))
        bmap = bmap[~bmap.index.duplicated()]
        from_b = pd.Series(building, dtype=object).map(bmap).to_numpy(object)
        estate = from_b if estate is None else np.where(pd.isna(estate), from_b, estate)
    if estates is not None and "estate_id" in estates.columns:
        est_m = estates.to_crs(crs)
        tree = shapely.STRtree(est_m.geometry.values)
        need = np.arange(n) if estate is None else np.flatnonzero(pd.isna(estate))
        if len(need):
            pi, ei = tree.query(hh_m.geometry.values[need], predicate="intersects")
            order = np.lexsort((ei, pi))[::-1]
            estate = np.full(n, None, dtype=object) if estate is None else estate.copy()
            estate[need[pi[order]]] = est_m["estate_id"].astype(str).to_numpy(object)[ei[order]]
    if estate is not None:
        estate = np.where(pd.isna(estate), None, estate).astype(object)
        estate = np.array([None if v is None else str(v) for v in estate], dtype=object)

    bar = None
    if barriers is not None and len(barriers):
        bar = barriers.to_crs(crs).geometry.values
        bar = bar[np.isin(shapely.get_type_id(bar), [1, 2, 5])]
        bar_tree = shapely.STRtree(bar)
    kept_by = {}
    if keep is not None and len(keep):
        if "grid_id" not in keep.columns:
            raise InputError("the keep file has no 'grid_id' column", file="keep", column="grid_id",
                             fix="pass a grids file written by gridplan partition")
        kk = keep.to_crs(crs)
        kids = kk["grid_id"].astype(str).to_numpy(object)
        if "community_id" in kk.columns:
            kc = kk["community_id"].astype(str).to_numpy(object)
        else:
            kc = np.array([g.rsplit("-", 1)[0] for g in kids], dtype=object)
        for gid, c, g in sorted(zip(kids, kc, kk.geometry.values), key=lambda t: t[0]):
            kept_by.setdefault(c, []).append((gid, g))
    prev = _previous_ids(replan, hh_m, crs) if replan is not None else None
    prev_totals = _previous_totals(replan) if replan is not None else None

    order = np.argsort(cpos, kind="stable")
    bounds = np.searchsorted(cpos[order], np.arange(len(comm_m) + 1))
    tasks = []
    for c in range(len(comm_m)):
        rows = order[bounds[c]:bounds[c + 1]]
        cid = comm_m["community_id"].iat[c]
        poly = comm_m.geometry.values[c]
        lines = None
        if bar is not None:
            lines = bar[bar_tree.query(poly, predicate="intersects")]
        tasks.append({
            "community_id": cid, "polygon": poly, "barriers": lines, "xy": xy[rows],
            "hh": hh_count[rows], "building": None if building is None else building[rows],
            "estate": None if estate is None else estate[rows], "lo": lo, "hi": hi, "seed": seed,
            "micro_max": micro_max, "kept": kept_by.get(cid, []),
            "previous": None if prev is None else prev[rows],
            "previous_unchanged": prev is not None and _unchanged(cid, prev[rows], hh_count[rows],
                                                                 prev_totals)})
    # Communities are independent: the same pure per-community planner, mapped anywhere,
    # gives the same results in the same order.
    results = _run(tasks, n_jobs, progress) if mapper is None else mapper(plan_community, tasks)

    grid_of = np.empty(n, dtype=object)
    micro_of = np.empty(n, dtype=object) if micro_max else None
    grid_rows, unit_rows, micro_rows, per_comm = [], [], [], {}
    names = comm_m["name"].astype(object).to_numpy() if "name" in comm_m.columns else np.full(len(comm_m), None)
    street_id = comm_m["street_id"].to_numpy(object) if "street_id" in comm_m.columns else np.full(len(comm_m), None)
    street_nm = comm_m["street_name"].to_numpy(object) if "street_name" in comm_m.columns else np.full(len(comm_m), None)
    for c, res in enumerate(results):
        rows = order[bounds[c]:bounds[c + 1]]
        grid_of[rows] = res["grid_of"]
        if micro_of is not None and res["micro_of"] is not None:
            micro_of[rows] = res["micro_of"]
        cid = comm_m["community_id"].iat[c]
        for g in res["grids"]:
            g.update(community_id=cid, community_name=names[c], street_id=street_id[c],
                     street_name=street_nm[c])
            grid_rows.append(g)
        for u in res["units"]:
            u["community_id"] = cid
            unit_rows.append(u)
        micro_rows += res["micro"]
        per_comm[cid] = res["stats"]

    grids = _grid_table(grid_rows, grid_of, hh_m, hh_count, building, estate, xy, crs)
    assignment = households.copy()
    assignment["grid_id"] = pd.array(grid_of, dtype=object)
    if micro_of is not None:
        assignment["micro_grid_id"] = pd.array(micro_of, dtype=object)
    units = gpd.GeoDataFrame(
        pd.DataFrame(unit_rows, columns=["unit_id", "community_id", "grid_id", "kind", "estate_id",
                                         "households", "geometry"]).astype({"households": "int64"}),
        geometry="geometry", crs=crs).to_crs(4326)
    units = _valid(units)
    micro = None
    if micro_max:
        micro = gpd.GeoDataFrame(
            pd.DataFrame(micro_rows, columns=["micro_grid_id", "grid_id", "households", "status",
                                              "reason", "geometry"]),
            geometry="geometry", crs=crs).sort_values("micro_grid_id", kind="stable") \
            .reset_index(drop=True).to_crs(4326)
        micro = _valid(micro)
    report = _report(grids, per_comm, comm_m, lo, hi, prev, grid_of, hh_count, time.perf_counter() - t0)
    # rows in gaps between community polygons (within COMMUNITY_SNAP_M) joined the nearest one
    report["total"]["household_rows_outside_boundaries_joined"] = snapped
    return PartitionResult(grids, assignment, units, micro, report)


def _local_crs(gdf: gpd.GeoDataFrame):
    """:func:`gridplan.io.projection.local_crs`, remembered per extent (the UTM lookup in the PROJ
    database costs a tenth of a second, more than planning a small community)."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        return local_crs(gdf)
    b = tuple(np.round(gdf.total_bounds, 3))
    return _utm_cache(b, gdf.crs.to_wkt() if gdf.crs is not None else None, gdf)


_UTM: dict = {}


def _utm_cache(key, crs_wkt, gdf):
    if (key, crs_wkt) not in _UTM:
        _UTM[(key, crs_wkt)] = local_crs(gdf)
    return _UTM[(key, crs_wkt)]


def _valid(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Repair polygons that reprojection made invalid (near-degenerate spikes between pieces)."""
    from gridplan.grids.community import _polygonal

    geom = gdf.geometry.values
    bad = np.flatnonzero(~shapely.is_valid(np.asarray(geom)))
    if len(bad):
        fixed = np.asarray(geom).copy()
        fixed[bad] = [_polygonal(g) for g in fixed[bad]]
        gdf = gdf.set_geometry(gpd.array.from_shapely(fixed, crs=gdf.crs))
    return gdf


def _ids(df: pd.DataFrame, col: str) -> np.ndarray | None:
    if col not in df.columns:
        return None
    s = df[col]
    out = s.astype(object).where(s.notna(), None).to_numpy(object)
    return np.array([None if v is None else str(v) for v in out], dtype=object)


def _run(tasks: list[dict], n_jobs: int | None, progress: bool) -> list[dict]:
    from tqdm import tqdm

    if n_jobs is None:
        n_jobs = os.cpu_count() or 1
    n_jobs = max(1, min(int(n_jobs), len(tasks)))
    bar = tqdm(total=len(tasks), disable=not progress, unit="community", desc="partition")
    try:
        if n_jobs == 1:
            out = []
            for t in tasks:
                out.append(plan_community(t))
                bar.update()
            return out
        # the largest communities first keeps both workers busy to the end
        work = sorted(range(len(tasks)), key=lambda i: -len(tasks[i]["hh"]))
        results: list = [None] * len(tasks)
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            chunk = max(1, len(tasks) // (n_jobs * 8))
            for i, r in zip(work, pool.map(plan_community, [tasks[i] for i in work], chunksize=chunk)):
                results[i] = r
                bar.update()
        return results
    finally:
        bar.close()


def _grid_table(rows, grid_of, hh_m, hh_count, building, estate, xy, crs) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        return gpd.GeoDataFrame(columns=GRID_COLUMNS + ["geometry"], geometry="geometry", crs=4326)
    geom = df["geometry"].to_numpy(object)
    area = shapely.area(geom)
    perim = shapely.length(geom)
    df["area_m2"] = np.round(area, 2)
    df["compactness"] = np.round(np.where(perim > 0, 4 * math.pi * area / perim ** 2, 0.0), 6)
    key = pd.Index(df["grid_id"].to_numpy(object))
    gpos = key.get_indexer(grid_of)
    if "population" in hh_m.columns:
        pop = pd.to_numeric(hh_m["population"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        s = np.bincount(gpos, weights=np.nan_to_num(pop), minlength=len(df))
        has = np.bincount(gpos, weights=np.isfinite(pop), minlength=len(df)) > 0
        df["population"] = pd.array(np.where(has, np.round(s), np.nan), dtype="Int64")
    else:
        df["population"] = pd.array([pd.NA] * len(df), dtype="Int64")
    loc = np.round(xy).astype(np.int64)
    bkey = np.array([f"@{x},{y}" for x, y in loc], dtype=object) if building is None else \
        np.where(pd.isna(building), np.array([f"@{x},{y}" for x, y in loc], dtype=object), building)
    df["n_buildings"] = pd.DataFrame({"g": gpos, "b": bkey}).drop_duplicates().groupby("g").size() \
        .reindex(range(len(df)), fill_value=0).to_numpy()
    if estate is not None:
        e = pd.DataFrame({"g": gpos, "e": estate}).dropna().drop_duplicates()
        df["n_estates"] = e.groupby("g").size().reindex(range(len(df)), fill_value=0).to_numpy()
    else:
        df["n_estates"] = 0
    # order: community order as given, grids by code
    df = df.sort_values(["community_id", "grid_id"], kind="stable").reset_index(drop=True)
    out = gpd.GeoDataFrame(df[GRID_COLUMNS + ["barrier_crossing", "kept", "geometry"]],
                           geometry="geometry", crs=crs)
    for c in ("households", "n_buildings", "n_estates"):
        out[c] = out[c].astype("int64")
    return _valid(out.to_crs(4326))


def _report(grids, per_comm, comm_m, lo, hi, prev, grid_of, hh_count, seconds) -> dict:
    def block(g: pd.DataFrame) -> dict:
        h = g["households"].to_numpy()
        in_band = (h >= lo) & (h <= hi)
        return {
            "grids": int(len(g)),
            "households": int(h.sum()),
            "households_per_grid": {"min": int(h.min()) if len(h) else None,
                                    "median": float(np.median(h)) if len(h) else None,
                                    "max": int(h.max()) if len(h) else None},
            "share_in_band": float(in_band.mean()) if len(h) else None,
            "mean_compactness": float(g["compactness"].mean()) if len(h) else None,
            "min_compactness": float(g["compactness"].min()) if len(h) else None,
        }

    communities = {}
    infeasible = {}
    for cid, g in grids.groupby("community_id", sort=True):
        b = block(g)
        st = per_comm.get(cid, {})
        b.update(estates_split=int(st.get("estates_split", 0)),
                 barrier_crossings=int(st.get("barrier_crossings", 0)),
                 multipart_grids=int(st.get("multipart_grids", 0)))
        reasons = sorted({str(r).split(":")[0] for r in g["reason"].dropna()})
        b["reasons"] = reasons
        if reasons:
            infeasible[cid] = [str(r) for r in g["reason"].dropna()]
        communities[cid] = b
    total = block(grids)
    total.update(
        communities=int(len(comm_m)),
        estates_split=int(sum(s.get("estates_split", 0) for s in per_comm.values())),
        barrier_crossings=int(sum(s.get("barrier_crossings", 0) for s in per_comm.values())),
        multipart_grids=int(sum(s.get("multipart_grids", 0) for s in per_comm.values())),
        share_infeasible_communities=float(len(infeasible) / max(1, len(comm_m))),
        infeasible_communities=infeasible,
        bounds=[lo, hi],
        run_seconds=round(seconds, 3),
    )
    if prev is not None:
        both = np.array([p is not None for p in prev])
        changed = both & (prev != grid_of)
        total["replan"] = {
            "households_compared": int(hh_count[both].sum()),
            "households_changed": int(hh_count[changed].sum()),
            "share_changed": float(hh_count[changed].sum() / max(1, hh_count[both].sum())),
            "households_new": int(hh_count[~both].sum()),
        }
    return {"total": total, "communities": communities, "reason_codes": REASONS}


def write_partition(result: PartitionResult, folder) -> list:
    """Write a :class:`PartitionResult` to ``folder``, all files published together.

    Files: ``grids.geojson``, ``households.geojson`` (the assignment), ``micro_grids.geojson``
    when micro-grids were drawn, and ``report.json``. Nothing is replaced unless every file was
    written.

    Returns
    -------
    list of Path
        The files written.
    """
    from gridplan.io import files as io
    from gridplan.io.atomic import atomic_outputs

    with atomic_outputs(folder) as out:
        io.write(result.grids, out.path("grids.geojson"))
        io.write(result.assignment, out.path("households.geojson"))
        if result.micro_grids is not None:
            io.write(result.micro_grids, out.path("micro_grids.geojson"))
        io.write_json(result.report, out.path("report.json"))
        return out.commit()
