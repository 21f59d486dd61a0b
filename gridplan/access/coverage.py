"""The 15-minute service circle (15分钟服务圈): walking time to the nearest party-mass centre.

One multi-source Dijkstra pass on the walking network (see :mod:`gridplan.network.graph`) gives every
household its exact walking time to the nearest centre; households are then summarised per grid,
community and street (:mod:`.summaries`), uncovered households are clustered into gaps
(:mod:`.gaps`), and community centres are checked against the floor-area and staffing norms
(:mod:`.norms_check`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.access.diagnostics import warn_far_facilities, warn_web_offset
from gridplan.access.gaps import gaps
from gridplan.access.norms_check import standards_table, street_centres
from gridplan.access.summaries import _ids, household_table, summary_table
from gridplan.errors import GridplanWarning, InputError, format_rows
from gridplan.io.checks import check_points, facility_frame, household_counts
from gridplan.io.join import polygon_ids
from gridplan.io.projection import to_wgs84
from gridplan.network.graph import WalkNetwork
from gridplan.network.isochrones import isochrones as isochrones_of
from gridplan.network.load import load_network
from gridplan.norms import (
    CENTRE_KINDS,
    COVER_TOL_M,
    DEFAULT_NORMS,
    GAP_EPS_M,
    GAP_MIN_HOUSEHOLDS,
    ISOCHRONE_BUFFER_M,
    ISOCHRONE_MINUTES,
    LIFE_CIRCLES,
    Norms,
    walk_metres,
)

__all__ = [
    "CoverageResult",
    "coverage",
    "gaps",
    "isochrone_misclassification",
    "life_circle",
    "write_coverage",
]

#: How the walking times are measured, for the run report.
METHOD = (
    "exact multi-source Dijkstra (scipy.sparse.csgraph, min_only) on the walking "
    "network with virtual source nodes; points snapped to the nearest edge; access "
    "legs walked at the same speed"
)


def life_circle(preset: int) -> tuple[float, float]:
    """Minutes and walking speed (km/h) of a GB 50180-2018 life circle preset.

    The standard gives 5/10/15-minute circles as 300/500/1,000 m walking distance; the speed is
    the one that walks that distance in that time (3.6, 3.0 and 4.0 km/h).
    """
    if preset not in LIFE_CIRCLES:
        raise InputError(
            f"unknown life-circle preset {preset}",
            fix=f"use one of {sorted(LIFE_CIRCLES)}",
            message_zh=f"未知的生活圈预设 {preset}",
        )
    metres = LIFE_CIRCLES[preset]
    return float(preset), metres * 60.0 / (float(preset) * 1000.0)


@dataclass
class CoverageResult:
    """Result of :func:`coverage`.

    Attributes
    ----------
    households : GeoDataFrame
        The input rows in their order, plus ``walk_min``, ``nearest_facility_id``, ``covered``,
        ``snap_m``, ``off_network`` (and ``community_id``/``grid_id`` when they were joined).
    isochrones : GeoDataFrame
        ``facility_id``, ``name``, ``kind``, ``minutes``, ``distance_m``, ``area_m2``, polygon
        (EPSG:4326).
    summary : DataFrame
        Per ``level`` (all, street, community, grid) and ``id``: ``name``, ``households``,
        ``households_covered``, ``share_covered``, ``off_network``, ``population``.
    standards : DataFrame
        Per community: centre floor area and staffing against the norms.
    gaps : GeoDataFrame
        Clusters of uncovered households (EPSG:4326), ranked by households.
    report : dict
        JSON-serialisable run report.
    """

    households: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    summary: pd.DataFrame
    standards: pd.DataFrame
    gaps: gpd.GeoDataFrame
    report: dict = field(default_factory=dict)


def coverage(
    households: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network,
    *,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    speed_kmh: float | None = None,
    kinds=CENTRE_KINDS,
    thresholds=ISOCHRONE_MINUTES,
    max_snap_m: float | None = None,
    norms: Norms = DEFAULT_NORMS,
    isochrones: bool = True,
    buffer_m: float = ISOCHRONE_BUFFER_M,
    gap_eps_m: float = GAP_EPS_M,
    gap_min_households: int = GAP_MIN_HOUSEHOLDS,
    progress: bool = False,
    files: dict | None = None,
    isochrone_builder: Callable[..., gpd.GeoDataFrame] | None = None,
) -> CoverageResult:
    """Walking time from every household to its nearest centre, and what follows from it.

    Parameters
    ----------
    households : GeoDataFrame
        Points; ``households`` (int >= 1, default 1 per row), optional ``population``,
        ``community_id``, ``grid_id`` (e.g. a partition's assignment).
    facilities : GeoDataFrame
        Points with ``facility_id``, ``kind``; optional ``name``, ``area_m2``, ``community_id``.
    network : WalkNetwork, or anything :func:`gridplan.network.load.load_network` accepts
    grids : GeoDataFrame, optional
        Grid polygons with ``grid_id`` (joined to households that have no ``grid_id``).
    communities : GeoDataFrame, optional
        Community polygons (``community_id``, ``name``, optional ``street_id``,
        ``street_name``); joined to households without ``community_id``.
    minutes, speed_kmh : float, optional
        The service circle: covered when the walk takes at most ``minutes`` at ``speed_kmh``.
        Not given (None): ``norms.walk_minutes`` and ``norms.walk_speed_kmh``; a value given
        here always wins over ``norms``.
    kinds : sequence of str
        Facility kinds that count as centres.
    thresholds : sequence of float
        Isochrone thresholds in minutes (``minutes`` is always added).
    max_snap_m : float, optional
        Households and facilities farther than this from every walkway are off the network:
        counted, listed, never covered, never dropped. Default ``norms.max_snap_m``.
    norms : Norms
        The service circle and snapping distance when not given above, the floor-area and
        staffing norms, persons per household.
    isochrones : bool
        Draw isochrone polygons (by the raster method from 50 centres on, see
        :func:`gridplan.network.isochrones.isochrones`; about 20 s for 2,000 centres).
    progress : bool
        Show tqdm progress bars for snapping and isochrones.
    files : dict, optional
        File names of the inputs (``"households"``, ``"facilities"``) for warning messages.
    isochrone_builder : callable, optional
        ``builder(network, facilities, **options) -> polygons``, in place of
        :func:`gridplan.network.isochrones.isochrones`; :func:`gridplan.parallel.coverage`
        passes its tiled builder. The result is the same.

    Warns
    -----
    GridplanWarning
        When no facility is of ``kinds``; when centres lie more than ``max_snap_m`` from every
        walkway (ids and distances listed); when many households are off the network or outside
        every community but would not be as GCJ-02 or BD-09 points (suggests ``--coords``).

    Returns
    -------
    CoverageResult
    """
    check_points(households, "households")
    weights = household_counts(households, "households")
    kinds = tuple(kinds)
    fac_all = facility_frame(facilities, kinds)
    net = network if isinstance(network, WalkNetwork) else load_network(network)
    # An argument given wins over the norm (see Norms).
    minutes, speed_kmh = norms.service_circle(minutes, speed_kmh)
    max_snap_m = norms.snap_limit(max_snap_m)
    cutoff = walk_metres(minutes, speed_kmh)
    fac = fac_all[fac_all["kind"].isin(kinds)]
    if len(fac) == 0:
        warnings.warn(
            f"no facility of kinds {list(kinds)}: nothing is covered", GridplanWarning, stacklevel=2
        )

    files = dict(files or {})
    hh_snap = net.snap(households, max_snap_m=max_snap_m, progress=progress, geometry=False)
    fac_snap = net.snap(fac, max_snap_m=max_snap_m)
    warn_far_facilities(net, fac, fac_snap, max_snap_m, str(files.get("facilities", "facilities")))
    near = net.nearest(fac_snap, hh_snap)
    dist = near["dist_m"].to_numpy()
    walk_min = dist / (speed_kmh * 1000.0 / 60.0)
    covered = np.isfinite(dist) & (dist <= cutoff + COVER_TOL_M)
    off = hh_snap["off_network"].to_numpy()
    out = _household_rows(households, fac, near["source"].to_numpy(), walk_min, covered, hh_snap)

    hh_metric = households.geometry.to_crs(net.crs)
    outside = np.zeros(len(out), dtype=bool)
    if "community_id" not in out.columns and communities is not None:
        joined = polygon_ids(hh_metric, communities, "community_id")
        outside = pd.isna(joined)
        out["community_id"] = joined
    hh_file = str(files.get("households", "households"))
    tested = communities if outside.any() else None
    warn_web_offset(households, net, off | outside, weights, tested, max_snap_m, hh_file)
    if "grid_id" not in out.columns and grids is not None and "grid_id" in grids.columns:
        out["grid_id"] = polygon_ids(hh_metric, grids, "grid_id")

    table = household_table(out, weights, covered, off, communities, norms.household_size)
    summary = summary_table(table, communities, grids)
    fac_comm = _facility_communities(fac_all, communities, net)
    standards = standards_table(table, fac_all, fac_comm, communities, norms)
    gap_gdf = _gaps(hh_metric, weights, ~covered, off, walk_min, table, gap_eps_m, gap_min_households)

    thr = sorted({float(t) for t in thresholds} | {float(minutes)})
    builder = (isochrone_builder or isochrones_of) if isochrones and len(fac) else None
    iso, iso_report = _isochrone_layer(
        net, fac, fac_snap, hh_metric, weights, dist, thr, speed_kmh, buffer_m, progress, builder
    )
    fac_off = fac["facility_id"].to_numpy()[fac_snap["off_network"].to_numpy()]
    report = {
        "minutes": float(minutes),
        "speed_kmh": float(speed_kmh),
        "cutoff_m": round(cutoff, 3),
        "kinds": list(kinds),
        "max_snap_m": float(max_snap_m),
        **_counts(weights, covered, off, dist, table),
        "facilities_used": len(fac),
        "facilities_off_network": [str(x) for x in fac_off],
        "gaps": len(gap_gdf),
        "households_in_gaps": int(gap_gdf["households"].sum()) if len(gap_gdf) else 0,
        "isochrone_buffer_m": float(buffer_m),
        "isochrone_misclassification": iso_report,
        "street_centres": street_centres(fac_all, norms),
        "network": net.report,
        "method": METHOD,
    }
    return CoverageResult(out, iso, summary, standards, to_wgs84(gap_gdf), report)


def _gaps(hh_metric, weights, uncovered, off, walk_min, table, eps_m, min_households):
    """:func:`~gridplan.access.gaps.gaps` of the uncovered households."""
    comm = table["community_id"].to_numpy()[uncovered] if "community_id" in table else None
    return gaps(
        hh_metric[uncovered],
        weights[uncovered],
        population=table["population"].to_numpy()[uncovered],
        off_network=off[uncovered],
        walk_min=walk_min[uncovered],
        community_id=comm,
        eps_m=eps_m,
        min_households=min_households,
    )


def _household_rows(
    households: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    src: np.ndarray,
    walk_min: np.ndarray,
    covered: np.ndarray,
    hh_snap: pd.DataFrame,
) -> gpd.GeoDataFrame:
    """The input rows plus walking time, nearest centre, covered and snapping columns."""
    out = households.copy()
    out["walk_min"] = np.round(walk_min, 4)
    fids = fac["facility_id"].to_numpy(dtype=object)
    out["nearest_facility_id"] = pd.array(
        np.where(src >= 0, fids[np.maximum(src, 0)] if len(fids) else None, None), dtype=object
    )
    out["covered"] = covered
    out["snap_m"] = np.round(hh_snap["snap_m"].to_numpy(), 3)
    out["off_network"] = hh_snap["off_network"].to_numpy()
    return out


def _facility_communities(
    fac_all: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None, net: WalkNetwork
) -> np.ndarray:
    """Each facility's community: its own column, else the polygon it stands in."""
    if "community_id" in fac_all.columns:
        return _ids(fac_all["community_id"])
    if communities is not None:
        return polygon_ids(fac_all.geometry.to_crs(net.crs), communities, "community_id")
    return np.full(len(fac_all), None, dtype=object)


def _isochrone_layer(
    net, fac, fac_snap, hh_metric, weights, dist, thr, speed_kmh, buffer_m, progress, builder
) -> tuple[gpd.GeoDataFrame, dict]:
    """Isochrone polygons (EPSG:4326) and, per threshold, how far they differ from the walks.

    A polygon is the reached walkways buffered: a household inside it may not be reached (across
    a wall or river) and one reached may stand outside it; the report counts both.
    No ``builder``: nothing is drawn.
    """
    if builder is None:
        return gpd.GeoDataFrame(
            {c: [] for c in ("facility_id", "name", "kind", "minutes", "distance_m", "area_m2")},
            geometry=[],
            crs="EPSG:4326",
        ), {}
    iso = builder(
        net, fac, minutes=thr, speed_kmh=speed_kmh, buffer_m=buffer_m, fac_snap=fac_snap, progress=progress
    )
    report = isochrone_misclassification(iso, hh_metric.values.to_numpy(), weights, dist, thr, speed_kmh)
    return to_wgs84(iso), report


def isochrone_misclassification(
    iso: gpd.GeoDataFrame,
    points: np.ndarray,
    weights: np.ndarray,
    dist: np.ndarray,
    thresholds,
    speed_kmh: float,
) -> dict:
    """Per threshold, the households the isochrone polygons misclassify against the walks.

    Parameters
    ----------
    iso : GeoDataFrame
        Isochrone polygons (``minutes``) in the households' metric CRS.
    points : ndarray of shapely Points
        Households in that CRS.
    weights : ndarray
        Households per point.
    dist : ndarray
        Walking distance of every point to its nearest centre (NaN: unreachable).
    thresholds : sequence of float
        Minutes.
    speed_kmh : float
        Walking speed.

    Returns
    -------
    dict
        ``{"15": {"households_inside_polygon_not_reached", "households_reached_outside_polygon",
        "households_reached"}, ...}``: inside means inside some polygon of that threshold.
    """
    # One R-tree of the points, queried with every polygon: GEOS prepares each polygon once and
    # tests only the points in its bounding box (no union of thousands of polygons).
    tree = shapely.STRtree(points)
    geoms = iso.geometry.values.to_numpy()
    minutes = iso["minutes"].to_numpy()
    report = {}
    for t in thresholds:
        inside = np.zeros(len(points), dtype=bool)
        polys = geoms[minutes == t]
        if len(polys):
            inside[tree.query(polys, predicate="contains")[1]] = True
        truth = np.isfinite(dist) & (dist <= walk_metres(t, speed_kmh) + COVER_TOL_M)
        report[f"{t:g}"] = {
            "households_inside_polygon_not_reached": int(weights[inside & ~truth].sum()),
            "households_reached_outside_polygon": int(weights[~inside & truth].sum()),
            "households_reached": int(weights[truth].sum()),
        }
    return report


def _counts(
    weights: np.ndarray, covered: np.ndarray, off: np.ndarray, dist: np.ndarray, table: pd.DataFrame
) -> dict:
    """The household counts of the run report, in report order."""
    total = int(weights.sum())
    n_cov = int(weights[covered].sum())
    off_rows = np.flatnonzero(off)
    return {
        "households": total,
        "household_rows": len(weights),
        "households_covered": n_cov,
        "share_covered": round(n_cov / total, 6) if total else None,
        "off_network_rows": len(off_rows),
        "off_network_households": int(weights[off].sum()),
        "off_network_row_list": format_rows(off_rows.tolist()) if len(off_rows) else "",
        "unreachable_households": int(weights[~off & ~np.isfinite(dist)].sum()),
        "households_outside_communities": int(weights[table["community_id"].isna().to_numpy()].sum())
        if "community_id" in table
        else None,
    }


# ------------------------------------------------------------------------------- output
def _write_layer(gdf, path) -> None:
    """Spatial layers through gridplan.io.files.write (RFC 7946, stable bytes); tables as UTF-8 CSV
    with BOM like gridplan.io.files's CSVs (Excel opens Chinese correctly)."""
    if isinstance(gdf, gpd.GeoDataFrame):
        from gridplan.io.files import write

        write(gdf, path)
    else:
        gdf.to_csv(path, index=False, lineterminator="\n", encoding="utf-8-sig")


def write_coverage(result: CoverageResult, folder) -> list:
    """Write a :class:`CoverageResult` to ``folder``, all files published together.

    Files: ``households.geojson``, ``isochrones.geojson``, ``coverage.csv`` (the summary),
    ``standards.csv``, ``gaps.geojson``, ``report.json``. Nothing is replaced unless every file
    was written.

    Returns
    -------
    list of Path
        The files written.
    """
    from gridplan.io.atomic import atomic_outputs
    from gridplan.io.files import write_json

    # Written to temporary names, published by one commit at the end; a failure leaves the
    # previous outputs untouched.
    with atomic_outputs(folder) as out:
        _write_layer(result.households, out.path("households.geojson"))
        _write_layer(result.isochrones, out.path("isochrones.geojson"))
        _write_layer(result.gaps, out.path("gaps.geojson"))
        _write_layer(result.summary, out.path("coverage.csv"))
        _write_layer(result.standards, out.path("standards.csv"))
        write_json(result.report, out.path("report.json"))
        return out.commit()
