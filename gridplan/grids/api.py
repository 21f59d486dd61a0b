"""Balanced, contiguous, compact grids (网格) of 300-500 households inside every community.

>>> import gridplan as gp
>>> res = gp.partition(households, communities)            # doctest: +SKIP
>>> res.grids[["grid_id", "households", "status"]]          # doctest: +SKIP

Communities are independent: each is planned by :func:`gridplan.grids.community.plan_community`, a pure
function, in a process pool when ``n_jobs`` > 1 (same result as ``n_jobs=1``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.geometry.quality import enclosed_grids
from gridplan.grids.cells import polygonal
from gridplan.grids.community import plan_community
from gridplan.grids.figures import FIGURE_COLUMNS, grid_figures
from gridplan.grids.footprints import (
    CityFeatures,
    assignment_of_rows,
    city_features,
    community_features,
    held_estates,
    place_parts,
    split_rows,
)
from gridplan.grids.inputs import (
    barrier_lines,
    check_communities,
    community_of,
    estate_ids,
    id_column,
    in_crs,
    kept_by_community,
    outside_rejects,
    previous_ids,
    previous_totals,
    unchanged,
)
from gridplan.grids.pool import Mapper, local_mapper
from gridplan.grids.quality_report import QualityLayers, partition_quality, quality_layers
from gridplan.grids.reasons import REASONS
from gridplan.io.checks import check_points, household_counts
from gridplan.io.projection import local_crs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

__all__ = ["REASONS", "PartitionResult", "partition"]

GRID_COLUMNS = [
    "grid_id",
    "community_id",
    "community_name",
    "street_id",
    "street_name",
    "households",
    "population",
    "n_buildings",
    "n_estates",
    "status",
    "reason",
    "area_m2",
    "compactness",
]


@dataclass
class PartitionResult:
    """Grids, the household assignment, the units, micro-grids and the report of a partition.

    Attributes
    ----------
    grids : GeoDataFrame
        One row per grid (EPSG:4326), the contract fields (:data:`GRID_COLUMNS`).
    assignment : GeoDataFrame
        The households input with ``grid_id`` (and ``micro_grid_id``) added; same rows and order
        (the data contract). A building given as one row and split by entrance (its parts may
        lie in different grids) has the ``grid_id`` of its largest part and, in ``grid_parts``,
        every part as ``<grid_id>:<households>`` joined by ``;`` (the column is there only when a
        row was split); :attr:`parts` lists the rows as planned.
    units : GeoDataFrame
        Atomic units with ``unit_id``, ``community_id``, ``grid_id``, ``kind``, ``estate_id``,
        ``households`` and their cell polygon.
    micro_grids : GeoDataFrame or None
        Micro-grids (``micro_grid_id`` = ``<grid_id>-<MM>``) when ``micro_max`` was given.
    report : dict
        JSON-serialisable metrics, per community and in total.
    rejects : GeoDataFrame or None
        Household rows outside every community (a geocoding error, a point in the next
        district): ``row`` (as the file numbers it), ``reason`` and the row's own columns. They
        have no ``grid_id`` in the assignment and count in no grid; None when there are none.
    parts : GeoDataFrame or None
        The rows as the partition planned them, when a building given as one row was split by
        entrance: every input row in order, a split row once per part (same index label,
        ``households`` and ``population`` its part's share, ``building_part``
        ``<building_id>#<k>``), with ``grid_id``; a grid's households are the sum of its rows.
        None when no row was split (the assignment is then the planned rows).
    """

    grids: gpd.GeoDataFrame
    assignment: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    micro_grids: gpd.GeoDataFrame | None
    report: dict = field(default_factory=dict)
    rejects: gpd.GeoDataFrame | None = None
    parts: gpd.GeoDataFrame | None = None


# --- the partition -----------------------------------------------------------------------------


def partition(
    households: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    estates: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    keep_buildings_whole: bool = False,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
    micro_max: int | None = None,
    keep: gpd.GeoDataFrame | None = None,
    replan: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
    mapper: Mapper | None = None,
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
        Polygons are footprints: grid lines run around them, never through them, and the ground
        between buildings of a street block is shared by a tessellation of the footprints.
    estates : GeoDataFrame, optional
        Estate polygons with ``estate_id``: households without one get the estate they lie in;
        their outlines are grid lines and an estate kept whole keeps all its ground.
    barriers : GeoDataFrame, optional
        Lines (arterial roads, rivers, railways) that grids should not straddle.
    streets : GeoDataFrame, optional
        Street or walking-network lines: grid lines follow them. Only with streets are the
        footprints and estate outlines used as grid lines.
    keep_buildings_whole : bool
        Never split a building with more households than ``max_households`` by entrance (its
        grid is flagged ``over``); by default such a building with a footprint is sliced along
        its long axis into the fewest parts that fit: its rows go to the parts, and a building
        given as one row has that row split into one row per part (see ``assignment``). A
        building without a footprint stays whole.
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
    lo, hi = _band(min_households, max_households, micro_max)
    check_points(households, "households")
    hh_count = household_counts(households)
    comm = check_communities(communities)
    crs = _local_crs(comm)
    comm_m = comm.to_crs(crs)
    comm_m = comm_m.set_geometry(shapely.make_valid(comm_m.geometry.values))
    hh_m = given_m = households.to_crs(crs)
    cpos, snapped = community_of(hh_m, comm_m, hh_count, households.geometry)
    given = (households, cpos, hh_count)
    # every layer in the metric CRS once: the features, the rows' estates and the figures read it
    buildings, estates, streets, barriers = (in_crs(g, crs) for g in (buildings, estates, streets, barriers))
    layers = {"buildings": buildings, "estates": estates, "streets": streets, "keep": keep}
    planned, hh_m, cpos, rows, feats = _planned_rows(
        households, hh_m, cpos, hh_count, comm_m, crs, hi, layers, keep_buildings_whole
    )
    hh_count, split = rows.hh, None if feats.src is None else (np.asarray(feats.src), given_m)
    ctx = _Context(
        {"lo": lo, "hi": hi, "seed": seed, "micro_max": micro_max},
        barrier_lines(barriers, crs),
        kept_by_community(keep, crs),
        None if replan is None else previous_ids(replan, hh_m, crs, split),
        previous_totals(replan) if replan is not None else None,
    )
    prev = ctx.previous

    order = np.argsort(cpos, kind="stable")
    bounds = np.searchsorted(cpos[order], np.arange(len(comm_m) + 1))
    members = [order[bounds[c] : bounds[c + 1]] for c in range(len(comm_m))]
    tasks = [_task(comm_m, c, members[c], rows, ctx, feats) for c in range(len(comm_m))]
    with local_mapper(n_jobs, len(tasks), progress) as pool:
        # Communities are independent: the same pure per-community planner, mapped anywhere,
        # gives the same results in the same order.
        run = mapper or pool
        planned_iter = run(plan_community, tasks)
        # what the geometry figures are measured against does not depend on the grids: gathered
        # here while the workers plan
        measured = quality_layers(
            comm_m, crs, buildings=buildings, estates=estates, streets=streets, barriers=barriers
        )
        results = list(planned_iter)
        out = _collect(results, comm_m, members, len(hh_m), micro_max)
        grids = _grid_table(out["grids"], out["grid_of"], hh_m, rows, (lo, hi), crs)
        assignment = planned.copy()
        assignment["grid_id"] = pd.array(out["grid_of"], dtype=object)
        if out["micro_of"] is not None:
            assignment["micro_grid_id"] = pd.array(out["micro_of"], dtype=object)
        parts = None
        if feats.src is not None:
            parts, assignment = assignment, assignment_of_rows(households, assignment, np.asarray(feats.src))
        units = gpd.GeoDataFrame(
            pd.DataFrame(
                out["units"],
                columns=["unit_id", "community_id", "grid_id", "kind", "estate_id", "households", "geometry"],
            ).astype({"households": "int64"}),
            geometry="geometry",
            crs=crs,
        ).to_crs(4326)
        units = _valid(units)
        micro = _micro_table(out["micro"], crs) if micro_max else None
        report = _report(
            grids, out["stats"], comm_m, lo, hi, prev, out["grid_of"], hh_count, time.perf_counter() - t0
        )
        # rows in gaps between community polygons (within COMMUNITY_SNAP_M) joined the nearest one
        report["total"]["household_rows_outside_boundaries_joined"] = snapped
        rejects = outside_rejects(given[0], given[1] < 0, given[2], report)
        _add_quality(
            report,
            out,
            comm_m,
            crs,
            rows,
            feats.split,
            measured,
            run,
        )
        return PartitionResult(grids, assignment, units, micro, report, rejects, parts)


def _planned_rows(households, hh_m, cpos, hh_count, comm_m, crs, hi: int, layers: dict, keep_whole: bool):
    """The rows as planned and the city's features: (households, hh_m, cpos, rows, feats); a
    building given as one row and split by entrance is there once per part
    (:func:`split_rows`)."""
    building = id_column(hh_m, "building_id")
    buildings, estates, streets = layers["buildings"], layers["estates"], layers["streets"]
    rows = _Rows(
        shapely.get_coordinates(hh_m.geometry.values),
        hh_count,
        building,
        estate_ids(hh_m, building, buildings, estates, crs),
    )
    # footprints always cut the ground, estates without streets only held by one unit (grids.cells)
    feats = city_features(
        buildings,
        held_estates(layers, rows.estate, cpos, hh_count, hi, hh_m.geometry.values),
        streets,
        comm_m,
        building,
        hh_count,
        hi,
        crs,
        keep_buildings_whole=keep_whole,
    )
    if feats.src is None:
        return households, hh_m, cpos, rows, feats
    src = np.asarray(feats.src)
    out = split_rows(households, feats)

    def pick(values):
        return None if values is None else values[src]

    planned = _Rows(rows.xy[src], np.asarray(feats.row_hh), pick(rows.building), pick(rows.estate))
    out, out_m = place_parts(out, feats, crs)
    return out, out_m, cpos[src], planned, feats


def _add_quality(
    report: dict,
    out: dict,
    comm_m: gpd.GeoDataFrame,
    crs,
    rows: _Rows,
    split: list,
    measured: QualityLayers,
    run: Mapper,
) -> None:
    """The geometry figures (:mod:`gridplan.grids.quality_report`) into ``report``."""
    df = pd.DataFrame(out["grids"], columns=["grid_id", "community_id", "geometry"])
    metric = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    total, per = partition_quality(
        metric,
        comm_m,
        crs,
        estate=rows.estate,
        grid_of=out["grid_of"],
        split=split,
        mapper=run,
        prepared=measured,
    )
    report["total"].update(total)
    for cid, q in per.items():
        if cid in report["communities"]:
            report["communities"][cid].update(q)


def _band(min_households: int, max_households: int, micro_max: int | None) -> tuple[int, int]:
    """The band as ints, checked."""
    lo, hi = int(min_households), int(max_households)
    if not 1 <= lo <= hi:
        raise InputError(
            f"bounds {lo}-{hi} are not a valid band", fix="use 1 <= --min <= --max, e.g. --min 300 --max 500"
        )
    if micro_max is not None and int(micro_max) < 1:
        raise InputError("micro_max must be >= 1", fix="e.g. --micro-max 100")
    return lo, hi


@dataclass(frozen=True)
class _Rows:
    """Per household row, in the metric CRS: location, households, building and estate ids."""

    xy: np.ndarray
    hh: np.ndarray
    building: np.ndarray | None
    estate: np.ndarray | None


@dataclass(frozen=True)
class _Context:
    """What every community's task shares: the settings, barriers, kept grids, previous plan."""

    settings: dict  # lo, hi, seed, micro_max
    barriers: tuple  # (lines, STRtree) or (None, None)
    kept_by: dict  # community_id -> [(grid_id, polygon)]
    previous: np.ndarray | None  # previous grid_id per household row
    previous_totals: dict | None


def _task(
    comm_m: gpd.GeoDataFrame, c: int, rows: np.ndarray, h: _Rows, ctx: _Context, feats: CityFeatures
) -> dict:
    """The :func:`gridplan.grids.community.plan_community` payload of community ``c``."""
    cid = comm_m["community_id"].iat[c]
    poly = comm_m.geometry.values[c]
    lines, tree = ctx.barriers
    prev = ctx.previous
    return {
        "community_id": cid,
        "polygon": poly,
        "barriers": None if lines is None else lines[tree.query(poly, predicate="intersects")],
        "hh": h.hh[rows],
        "building": None if feats.row_building is None else feats.row_building[rows],
        "estate": None if h.estate is None else h.estate[rows],
        **ctx.settings,
        "kept": ctx.kept_by.get(cid, []),
        "previous": None if prev is None else prev[rows],
        "previous_unchanged": prev is not None
        and unchanged(cid, prev[rows], h.hh[rows], ctx.previous_totals),
        **community_features(feats, c, poly, rows, h.xy[rows]),
    }


def _collect(
    results: list[dict], comm_m: gpd.GeoDataFrame, members: list[np.ndarray], n: int, micro_max: int | None
) -> dict:
    """The per-community results put together: grid (and micro-grid) of every household row,
    grid, unit and micro-grid rows, stats per community."""
    grid_of = np.empty(n, dtype=object)
    micro_of = np.empty(n, dtype=object) if micro_max else None
    grid_rows, unit_rows, micro_rows, per_comm = [], [], [], {}

    def col(name):
        return (
            comm_m[name].astype(object).to_numpy() if name in comm_m.columns else np.full(len(comm_m), None)
        )

    names, street_id, street_nm = col("name"), col("street_id"), col("street_name")
    for c, res in enumerate(results):
        rows = members[c]
        grid_of[rows] = res["grid_of"]
        if micro_of is not None and res["micro_of"] is not None:
            micro_of[rows] = res["micro_of"]
        cid = comm_m["community_id"].iat[c]
        for g in res["grids"]:
            g.update(
                community_id=cid, community_name=names[c], street_id=street_id[c], street_name=street_nm[c]
            )
            grid_rows.append(g)
        for u in res["units"]:
            u["community_id"] = cid
            unit_rows.append(u)
        micro_rows += res["micro"]
        per_comm[cid] = res["stats"]
    return {
        "grid_of": grid_of,
        "micro_of": micro_of,
        "grids": grid_rows,
        "units": unit_rows,
        "micro": micro_rows,
        "stats": per_comm,
    }


def _micro_table(rows: list[dict], crs) -> gpd.GeoDataFrame:
    micro = (
        gpd.GeoDataFrame(
            pd.DataFrame(
                rows, columns=["micro_grid_id", "grid_id", "households", "status", "reason", "geometry"]
            ),
            geometry="geometry",
            crs=crs,
        )
        .sort_values("micro_grid_id", kind="stable")
        .reset_index(drop=True)
        .to_crs(4326)
    )
    return _valid(micro)


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
    geom = gdf.geometry.values
    bad = np.flatnonzero(~shapely.is_valid(np.asarray(geom)))
    if len(bad):
        fixed = np.asarray(geom).copy()
        fixed[bad] = [polygonal(g) for g in fixed[bad]]
        gdf = gdf.set_geometry(gpd.array.from_shapely(fixed, crs=gdf.crs))
    return gdf


def _grid_table(
    rows: list[dict], grid_of: np.ndarray, hh_m: gpd.GeoDataFrame, h: _Rows, band: tuple[int, int], crs
) -> gpd.GeoDataFrame:
    """The grids (EPSG:4326): the planner's rows with their :func:`grid_figures`."""
    df = pd.DataFrame(rows)
    if df.empty:
        return gpd.GeoDataFrame(columns=GRID_COLUMNS + ["geometry"], geometry="geometry", crs=4326)
    fig = grid_figures(
        df["geometry"].to_numpy(object),
        df["grid_id"].to_numpy(object),
        grid_of,
        h.hh,
        band=band,
        population=hh_m["population"] if "population" in hh_m.columns else None,
        building=h.building,
        estate=h.estate,
        xy=h.xy,
    )
    for c in FIGURE_COLUMNS[1:]:
        df[c] = fig[c].to_numpy() if c != "population" else fig[c].array
    # order: community order as given, grids by code
    df = df.sort_values(["community_id", "grid_id"], kind="stable").reset_index(drop=True)
    out = gpd.GeoDataFrame(
        df[GRID_COLUMNS + ["barrier_crossing", "kept", "geometry"]], geometry="geometry", crs=crs
    )
    for c in ("households", "n_buildings", "n_estates"):
        out[c] = out[c].astype("int64")
    return _valid(out.to_crs(4326))


def _report(grids, per_comm, comm_m, lo, hi, prev, grid_of, hh_count, seconds) -> dict:
    def block(g: pd.DataFrame) -> dict:
        h = g["households"].to_numpy()
        in_band = (h >= lo) & (h <= hi)
        return {
            "grids": len(g),
            "households": int(h.sum()),
            "households_per_grid": {
                "min": int(h.min()) if len(h) else None,
                "median": float(np.median(h)) if len(h) else None,
                "max": int(h.max()) if len(h) else None,
            },
            "share_in_band": float(in_band.mean()) if len(h) else None,
            "mean_compactness": float(g["compactness"].mean()) if len(h) else None,
            "min_compactness": float(g["compactness"].min()) if len(h) else None,
        }

    communities = {}
    infeasible = {}
    # grids never overlap across communities: one pass over all of them
    enclosed = pd.Series(enclosed_grids(grids.geometry.values), index=grids.index)
    for cid, g in grids.groupby("community_id", sort=True):
        b = block(g)
        st = per_comm.get(cid, {})
        b.update(
            estates_split=int(st.get("estates_split", 0)),
            barrier_crossings=int(st.get("barrier_crossings", 0)),
            multipart_grids=int(st.get("multipart_grids", 0)),
            grids_enclosed=int(enclosed[g.index].sum()),
        )
        reasons = sorted({str(r).split(":")[0] for r in g["reason"].dropna()})
        b["reasons"] = reasons
        if reasons:
            infeasible[cid] = [str(r) for r in g["reason"].dropna()]
        communities[cid] = b
    total = block(grids)
    total.update(
        communities=len(comm_m),
        estates_split=int(sum(s.get("estates_split", 0) for s in per_comm.values())),
        barrier_crossings=int(sum(s.get("barrier_crossings", 0) for s in per_comm.values())),
        multipart_grids=int(sum(s.get("multipart_grids", 0) for s in per_comm.values())),
        grids_enclosed=int(enclosed.sum()),
        grids_enclosed_ids=sorted(grids["grid_id"][enclosed].astype(str))[:10],
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
    when micro-grids were drawn, ``rejects.csv`` when rows lie outside every community, and
    ``report.json``. Nothing is replaced unless every file was
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
        if result.rejects is not None and len(result.rejects):
            io.write(result.rejects, out.path("rejects.csv"))
        io.write_json(result.report, out.path("report.json"))
        return out.commit()
