"""The 15-minute service circle (15分钟服务圈): walking time to the nearest party-mass centre.

One multi-source Dijkstra pass on the walking network (see :mod:`gridplan.network.graph`) gives every
household its exact walking time to the nearest centre; households are then summarised per grid,
community and street, uncovered households are clustered into gaps, and community centres are
checked against the floor-area and staffing norms.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.io.join import polygon_ids
from gridplan.errors import GridplanWarning, InputError, format_rows
from gridplan.network.graph import WalkNetwork, load_network
from gridplan.network.isochrones import isochrones as isochrones_of
from gridplan.io.projection import to_wgs84
from gridplan.norms import (
    CENTRE_KINDS, COORDS_CONFIRM_SHARE, COORDS_SUSPECT_MIN_ROWS, COORDS_SUSPECT_SHARE,
    DEFAULT_NORMS, FACILITY_KINDS, GAP_BUFFER_M, GAP_EPS_M, GAP_MIN_HOUSEHOLDS, ISOCHRONE_BUFFER_M,
    ISOCHRONE_MINUTES, LIFE_CIRCLES, MAX_SNAP_M, WALK_MINUTES, WALK_SPEED_KMH, Norms, walk_metres)

__all__ = ["CoverageResult", "coverage", "life_circle", "gaps", "write_coverage"]

#: Household rows re-snapped (at most) when checking whether the points are GCJ-02/BD-09.
_COORDS_SAMPLE = 20_000

#: Tolerance (metres) when comparing a walking distance with the threshold, so that a household
#: exactly on the 15-minute line is covered despite floating-point sums.
COVER_TOL_M = 1e-6


def life_circle(preset: int) -> tuple[float, float]:
    """Minutes and walking speed (km/h) of a GB 50180-2018 life circle preset.

    The standard gives 5/10/15-minute circles as 300/500/1,000 m walking distance; the speed is
    the one that walks that distance in that time (3.6, 3.0 and 4.0 km/h).
    """
    if preset not in LIFE_CIRCLES:
        raise InputError(f"unknown life-circle preset {preset}",
                         fix=f"use one of {sorted(LIFE_CIRCLES)}",
                         message_zh=f"未知的生活圈预设 {preset}")
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


# ------------------------------------------------------------------------------- validation
def _household_counts(households: gpd.GeoDataFrame, file: str) -> np.ndarray:
    if "households" not in households.columns:
        return np.ones(len(households), dtype=np.int64)
    raw = households["households"]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() | (num < 1) | (num != np.floor(num))
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise InputError("households must be a whole number >= 1", file=file, column="households",
                         rows=rows.tolist(),
                         fix="correct these rows, or drop the column to count one household per row",
                         message_zh="户数必须是不小于 1 的整数",
                         fix_zh="请更正这些行，或删除该列（每行按 1 户计）")
    return num.to_numpy(dtype=np.int64)


def _check_points(gdf, file: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{file} must be a GeoDataFrame", file=file)
    if gdf.crs is None:
        raise InputError("the layer has no CRS", file=file,
                         fix="read it with gridplan.io.files, which sets one", message_zh="图层没有坐标参考系")
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        raise InputError("rows without a location", file=file,
                         rows=np.flatnonzero(missing.to_numpy()).tolist(),
                         fix="give every row a point (or lon/lat)", message_zh="有行缺少坐标")


def _facilities(facilities: gpd.GeoDataFrame, kinds) -> gpd.GeoDataFrame:
    _check_points(facilities, "facilities")
    for col in ("facility_id", "kind"):
        if col not in facilities.columns:
            raise InputError("required column missing", file="facilities", column=col,
                             fix="add it, or map it with --map " + col + "=YOUR_COLUMN",
                             message_zh="缺少必需的列")
    no_id = facilities["facility_id"].isna()
    if no_id.any():
        raise InputError("facility_id is empty", file="facilities", column="facility_id",
                         rows=np.flatnonzero(no_id.to_numpy()).tolist(),
                         fix="give every facility its own id", message_zh="facility_id 为空")
    fid = facilities["facility_id"].astype(str)
    dup = fid.duplicated(keep=False)
    if dup.any():
        raise InputError("facility_id values are not unique", file="facilities", column="facility_id",
                         rows=np.flatnonzero(dup.to_numpy()).tolist(),
                         fix="give every facility its own id", message_zh="facility_id 有重复")
    kind = facilities["kind"].astype(str)
    unknown = ~kind.isin(FACILITY_KINDS)
    if unknown.any():
        raise InputError(f"kind must be one of {', '.join(FACILITY_KINDS)}", file="facilities",
                         column="kind", rows=np.flatnonzero(unknown.to_numpy()).tolist(),
                         fix="correct the kind of these rows", message_zh="设施类型不正确")
    bad_kinds = sorted(set(kinds) - set(FACILITY_KINDS))
    if bad_kinds:
        raise InputError(f"unknown facility kinds {bad_kinds}",
                         fix=f"choose from {', '.join(FACILITY_KINDS)}",
                         message_zh=f"未知的设施类型 {bad_kinds}")
    out = facilities.copy()
    out["facility_id"] = fid
    out["kind"] = kind
    return out


# ------------------------------------------------------------------------------- joins
def _ids(values) -> np.ndarray:
    """Ids as an object array of ``str``, missing ones (None, NaN, pd.NA) as ``None``.

    Under pandas 3 a column of strings with gaps holds NaN, not None, so a missing id must be
    found with ``pd.isna``; ``str(nan)`` would invent a community called "nan".
    """
    arr = np.asarray(pd.Series(values).to_numpy(dtype=object), dtype=object)
    missing = pd.isna(arr)
    out = np.full(len(arr), None, dtype=object)
    out[~missing] = [str(x) for x in arr[~missing]]
    return out


def _summary(table: pd.DataFrame, communities: gpd.GeoDataFrame | None,
             grids: gpd.GeoDataFrame | None) -> pd.DataFrame:
    names = {}
    street_names = {}
    if communities is not None and "community_id" in communities.columns:
        ids = _ids(communities["community_id"])
        if "name" in communities.columns:
            names = dict(zip(ids, communities["name"].astype(object)))
        if "street_id" in communities.columns and "street_name" in communities.columns:
            street_names = dict(zip(_ids(communities["street_id"]),
                                    communities["street_name"].astype(object)))
    grid_names = {}
    if grids is not None and "grid_id" in grids.columns:
        name_col = "name" if "name" in grids.columns else None
        if name_col:
            grid_names = dict(zip(_ids(grids["grid_id"]), grids[name_col].astype(object)))
    rows = []

    def agg(level, key, name_map):
        if key is not None and key not in table.columns:
            return
        t = table if key is None else table[table[key].notna()]
        g = t.groupby(key if key else np.zeros(len(t), dtype=int), sort=True)
        s = pd.DataFrame({
            "households": g["households"].sum(),
            "households_covered": g["hh_covered"].sum(),
            "off_network": g["hh_off"].sum(),
            "population": g["population"].sum(),
        })
        s["share_covered"] = np.where(s["households"] > 0, s["households_covered"] / s["households"], np.nan)
        s.insert(0, "id", "all" if key is None else s.index.astype(str))
        s.insert(0, "level", level)
        s.insert(2, "name", [name_map.get(i) for i in s["id"]] if key else None)
        rows.append(s.reset_index(drop=True))
        if key is not None and t is not table and len(t) < len(table):
            rest = table[table[key].isna()]
            rows.append(pd.DataFrame({
                "level": [level], "id": [None], "name": ["(none)"],
                "households": [rest["households"].sum()],
                "households_covered": [rest["hh_covered"].sum()],
                "off_network": [rest["hh_off"].sum()], "population": [rest["population"].sum()],
                "share_covered": [rest["hh_covered"].sum() / max(rest["households"].sum(), 1)]}))

    agg("all", None, {})
    agg("street", "street_id", street_names)
    agg("community", "community_id", names)
    agg("grid", "grid_id", grid_names)
    out = pd.concat(rows, ignore_index=True)
    cols = ["level", "id", "name", "households", "households_covered", "share_covered",
            "off_network", "population"]
    out = out[cols]
    for c in ("households", "households_covered", "off_network"):
        out[c] = out[c].astype(np.int64)
    out["population"] = out["population"].round().astype(np.int64)
    out["share_covered"] = out["share_covered"].astype(float).round(6)
    return out


# ------------------------------------------------------------------------------- gaps
def gaps(points_metric: gpd.GeoSeries, weights: np.ndarray, *, population: np.ndarray | None = None,
         off_network: np.ndarray | None = None, walk_min: np.ndarray | None = None,
         community_id: np.ndarray | None = None, eps_m: float = GAP_EPS_M,
         min_households: int = GAP_MIN_HOUSEHOLDS, buffer_m: float = GAP_BUFFER_M
         ) -> gpd.GeoDataFrame:
    """Clusters of (uncovered) households as polygons, ranked by households.

    DBSCAN (scikit-learn) on metric coordinates with ``sample_weight`` = households, so a
    cluster's core needs ``min_households`` households within ``eps_m``; each cluster is drawn as
    the convex hull of its points buffered by ``buffer_m``.

    Parameters
    ----------
    points_metric : GeoSeries
        Household points in a metric CRS.
    weights : ndarray of int
        Households per point.

    Returns
    -------
    GeoDataFrame
        ``gap_id``, ``rank``, ``households``, ``population``, ``points``, ``off_network``,
        ``mean_walk_min``, ``community_id``, ``area_m2``, polygon in the points' CRS.
    """
    from sklearn.cluster import DBSCAN

    cols = ["gap_id", "rank", "households", "population", "points", "off_network",
            "mean_walk_min", "community_id", "area_m2"]
    if len(points_metric) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=points_metric.crs)
    xy = shapely.get_coordinates(points_metric.values.to_numpy())
    labels = DBSCAN(eps=eps_m, min_samples=min_households).fit(xy, sample_weight=weights).labels_
    inc = labels >= 0
    if not inc.any():
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=points_metric.crs)
    lab = labels[inc]
    order = np.argsort(lab, kind="stable")
    hulls = shapely.convex_hull(shapely.multipoints(xy[inc][order], indices=lab[order]))
    polys = shapely.buffer(hulls, buffer_m, quad_segs=8)
    k = lab.max() + 1
    hh = np.bincount(lab, weights=weights[inc], minlength=k)
    df = pd.DataFrame({"label": np.arange(k), "households": hh.astype(np.int64),
                       "points": np.bincount(lab, minlength=k)})
    df["population"] = (np.bincount(lab, weights=population[inc], minlength=k).round().astype(np.int64)
                        if population is not None else None)
    df["off_network"] = (np.bincount(lab, weights=(weights * off_network)[inc], minlength=k)
                         .astype(np.int64) if off_network is not None else 0)
    if walk_min is not None:
        w = np.where(np.isfinite(walk_min), weights, 0.0)[inc]
        s = np.bincount(lab, weights=np.nan_to_num(walk_min[inc]) * w, minlength=k)
        ws = np.bincount(lab, weights=w, minlength=k)
        df["mean_walk_min"] = np.where(ws > 0, s / np.where(ws > 0, ws, 1), np.nan).round(2)
    else:
        df["mean_walk_min"] = np.nan
    if community_id is not None:
        cid = pd.DataFrame({"label": lab, "cid": community_id[inc], "w": weights[inc]})
        cid = cid[cid["cid"].notna()]
        top = (cid.groupby(["label", "cid"], sort=True)["w"].sum().reset_index()
               .sort_values(["label", "w", "cid"], ascending=[True, False, True], kind="stable")
               .drop_duplicates("label"))
        df["community_id"] = df["label"].map(dict(zip(top["label"], top["cid"])))
    else:
        df["community_id"] = None
    df["area_m2"] = shapely.area(polys).round(1)
    df = gpd.GeoDataFrame(df, geometry=polys, crs=points_metric.crs)
    df = df.sort_values(["households", "label"], ascending=[False, True], kind="stable")
    df["rank"] = np.arange(1, len(df) + 1)
    df["gap_id"] = [f"gap-{r:02d}" for r in df["rank"]]
    return df[cols + ["geometry"]].reset_index(drop=True)


# ------------------------------------------------------------------------------- standards
def _standards(table: pd.DataFrame, fac: gpd.GeoDataFrame, fac_community: np.ndarray,
               communities: gpd.GeoDataFrame | None, norms: Norms) -> pd.DataFrame:
    ids = []
    names = {}
    if communities is not None and "community_id" in communities.columns:
        ids = [i for i in _ids(communities["community_id"]) if i is not None]
        if "name" in communities.columns:
            names = dict(zip(ids, communities["name"].astype(object)))
    if "community_id" in table.columns:
        ids = sorted(set(ids) | set(table["community_id"].dropna().astype(str)))
    else:
        ids = sorted(set(ids))
    cols = ["community_id", "name", "households", "population", "centres", "stations",
            "centre_area_m2", "m2_per_100_households", "norm_m2_per_100", "required_m2",
            "area_shortfall_m2", "meets_area_norm", "grids", "grid_workers_needed",
            "community_workers_needed", "share_covered"]
    if not ids:
        return pd.DataFrame({c: [] for c in cols})
    out = pd.DataFrame({"community_id": ids})
    out["name"] = out["community_id"].map(names)
    if "community_id" in table.columns:
        g = table[table["community_id"].notna()].groupby("community_id", sort=True)
        hh = g["households"].sum()
        pop = g["population"].sum()
        cov = g["hh_covered"].sum()
        grids = g["grid_id"].nunique() if "grid_id" in table.columns else None
    else:
        hh = pop = cov = pd.Series(dtype=float)
        grids = None
    out["households"] = out["community_id"].map(hh).fillna(0).astype(np.int64)
    out["population"] = out["community_id"].map(pop).fillna(0).round().astype(np.int64)
    kinds = fac["kind"].to_numpy()
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac.columns else \
        pd.Series(np.nan, index=fac.index)
    cc = pd.DataFrame({"cid": fac_community, "kind": kinds, "area": area.to_numpy()})
    cc = cc[cc["cid"].notna()]
    centres = cc[cc["kind"] == "community_centre"]
    n_centres = centres.groupby("cid")["area"].size()
    # area is unknown (NaN) when any centre of the community lacks it
    area_sum = centres.groupby("cid")["area"].sum(min_count=1)
    area_unknown = centres.groupby("cid")["area"].apply(lambda s: s.isna().any())
    out["centres"] = out["community_id"].map(n_centres).fillna(0).astype(np.int64)
    out["stations"] = out["community_id"].map(
        cc[cc["kind"] == "station"].groupby("cid").size()).fillna(0).astype(np.int64)
    a = out["community_id"].map(area_sum).astype(float)
    a = a.where(~out["community_id"].isin(area_unknown.index[area_unknown.to_numpy(bool)]))
    a = a.where(out["centres"] > 0, 0.0)
    out["centre_area_m2"] = a.round(1)
    hh_f = out["households"].astype(float)
    out["m2_per_100_households"] = (a / hh_f.where(hh_f > 0) * 100.0).round(2)
    out["norm_m2_per_100"] = norms.centre_m2_per_100_households
    out["required_m2"] = (hh_f / 100.0 * norms.centre_m2_per_100_households).round(1)
    out["area_shortfall_m2"] = (out["required_m2"] - a).clip(lower=0).round(1)
    out["meets_area_norm"] = pd.array(np.where(a.isna(), pd.NA, a >= out["required_m2"]),
                                      dtype="boolean")
    out["grids"] = out["community_id"].map(grids).fillna(0).astype(np.int64) if grids is not None else 0
    out["grid_workers_needed"] = out["grids"] * norms.grid_workers_per_grid
    out["community_workers_needed"] = np.ceil(
        out["population"] / 10000.0 * norms.community_workers_per_10k_residents).astype(np.int64)
    out["share_covered"] = (out["community_id"].map(cov).fillna(0) / hh_f.where(hh_f > 0)).round(6)
    return out[cols]


# ------------------------------------------------------------------------------- warnings
def _warn_far_facilities(net: WalkNetwork, fac: gpd.GeoDataFrame, fac_snap: pd.DataFrame,
                         max_snap_m: float, file: str) -> None:
    """A centre farther than ``max_snap_m`` from every walkway covers nobody: say which."""
    off = fac_snap["off_network"].to_numpy()
    if not off.any():
        return
    far = net.snap(fac[off], max_snap_m=np.inf)["snap_m"].to_numpy()
    ids = fac["facility_id"].to_numpy()[off]
    listed = format_rows([f"{i} ({d:,.0f} m)" if np.isfinite(d) else f"{i} (no walkway)"
                          for i, d in zip(ids, far)])
    warnings.warn(
        f"{file}: {int(off.sum())} centre(s) lie more than {max_snap_m:g} m from every walkway "
        f"and cover nobody: {listed}. Fix: check their coordinates (--coords gcj02/bd09 for "
        f"Amap/Baidu points), extend the walking network to them, or raise --max-snap. "
        f"{int(off.sum())} 个服务中心距路网超过 {max_snap_m:g} 米，不计覆盖：{listed}",
        GridplanWarning, stacklevel=3)


def _warn_coords(households: gpd.GeoDataFrame, net: WalkNetwork, bad: np.ndarray,
                 weights: np.ndarray, communities: gpd.GeoDataFrame | None,
                 max_snap_m: float, file: str) -> None:
    """Warn when the points look like GCJ-02 (Amap, Tencent) or BD-09 (Baidu) coordinates.

    ``bad`` marks rows off the network or outside every community. When they are many
    (:data:`~gridplan.norms.COORDS_SUSPECT_SHARE`, at least
    :data:`~gridplan.norms.COORDS_SUSPECT_MIN_ROWS`) and converting a sample of the points to
    WGS-84 would bring most of them (:data:`~gridplan.norms.COORDS_CONFIRM_SHARE`) onto the
    network and inside a community, the points were almost surely read with the wrong ``coords``.
    """
    from gridplan.io.coords import convert_xy

    n = len(households)
    if bad.sum() < max(COORDS_SUSPECT_SHARE * n, COORDS_SUSPECT_MIN_ROWS):
        return
    rng = np.random.default_rng(0)
    sample = (np.sort(rng.choice(n, _COORDS_SAMPLE, replace=False)) if n > _COORDS_SAMPLE
              else np.arange(n))
    lonlat = shapely.get_coordinates(shapely.point_on_surface(
        households.geometry.iloc[sample].to_crs(4326).values.to_numpy()))
    before = int(bad[sample].sum())
    for src in ("gcj02", "bd09"):
        x, y = convert_xy(lonlat[:, 0], lonlat[:, 1], src, "wgs84")
        pts = gpd.GeoSeries(shapely.points(x, y), crs=4326).to_crs(net.crs)
        after = net.snap(pts, max_snap_m=max_snap_m)["off_network"].to_numpy()
        if communities is not None:
            after = after | pd.isna(polygon_ids(pts, communities, "community_id"))
        if int(after.sum()) <= (1.0 - COORDS_CONFIRM_SHARE) * before:
            rows = np.flatnonzero(bad)
            label = "GCJ-02 (Amap/Tencent)" if src == "gcj02" else "BD-09 (Baidu)"
            where = ("off the walking network or outside every community"
                     if communities is not None else "off the walking network")
            warnings.warn(
                f"{file}: {len(rows):,} of {n:,} rows ({int(weights[bad].sum()):,} households) are "
                f"{where} (rows {format_rows(rows.tolist())}), but "
                f"{1.0 - after.sum() / max(before, 1):.0%} of them would be within "
                f"{max_snap_m:g} m "
                f"of a walkway{' and inside a community' if communities is not None else ''} if "
                f"the points were {label} coordinates, which are "
                f"offset by a few hundred metres from WGS-84. Fix: read the households with "
                f"--coords {src} (coords=\"{src}\"). {len(rows):,} 行户点距路网过远或不在社区内，"
                f"疑似 {src.upper()} 坐标：请使用 --coords {src}",
                GridplanWarning, stacklevel=3)
            return


# ------------------------------------------------------------------------------- main
def coverage(households: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, network, *,
             grids: gpd.GeoDataFrame | None = None, communities: gpd.GeoDataFrame | None = None,
             minutes: float = WALK_MINUTES, speed_kmh: float = WALK_SPEED_KMH,
             kinds=CENTRE_KINDS, thresholds=ISOCHRONE_MINUTES, max_snap_m: float = MAX_SNAP_M,
             norms: Norms = DEFAULT_NORMS, isochrones: bool = True,
             buffer_m: float = ISOCHRONE_BUFFER_M, gap_eps_m: float = GAP_EPS_M,
             gap_min_households: int = GAP_MIN_HOUSEHOLDS, progress: bool = False,
             files: dict | None = None,
             isochrone_builder: Callable[..., gpd.GeoDataFrame] | None = None) -> CoverageResult:
    """Walking time from every household to its nearest centre, and what follows from it.

    Parameters
    ----------
    households : GeoDataFrame
        Points; ``households`` (int >= 1, default 1 per row), optional ``population``,
        ``community_id``, ``grid_id`` (e.g. a partition's assignment).
    facilities : GeoDataFrame
        Points with ``facility_id``, ``kind``; optional ``name``, ``area_m2``, ``community_id``.
    network : WalkNetwork, or anything :func:`gridplan.network.graph.load_network` accepts
    grids : GeoDataFrame, optional
        Grid polygons with ``grid_id`` (joined to households that have no ``grid_id``).
    communities : GeoDataFrame, optional
        Community polygons (``community_id``, ``name``, optional ``street_id``,
        ``street_name``); joined to households without ``community_id``.
    minutes, speed_kmh : float
        The service circle: covered when the walk takes at most ``minutes`` at ``speed_kmh``.
    kinds : sequence of str
        Facility kinds that count as centres.
    thresholds : sequence of float
        Isochrone thresholds in minutes (``minutes`` is always added).
    max_snap_m : float
        Households and facilities farther than this from every walkway are off the network:
        counted, listed, never covered, never dropped.
    norms : Norms
        Floor-area and staffing norms.
    isochrones : bool
        Draw isochrone polygons (the slowest part on a whole city).
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
    _check_points(households, "households")
    weights = _household_counts(households, "households")
    kinds = tuple(kinds)
    fac_all = _facilities(facilities, kinds)
    net = network if isinstance(network, WalkNetwork) else load_network(network)
    if minutes <= 0 or speed_kmh <= 0:
        raise InputError("minutes and speed must be positive", fix="e.g. --minutes 15 --speed-kmh 4",
                         message_zh="分钟数和步行速度必须为正数")
    cutoff = walk_metres(minutes, speed_kmh)
    speed_m_min = speed_kmh * 1000.0 / 60.0
    fac = fac_all[fac_all["kind"].isin(kinds)]
    if len(fac) == 0:
        warnings.warn(f"no facility of kinds {list(kinds)}: nothing is covered", GridplanWarning,
                      stacklevel=2)

    files = dict(files or {})
    hh_file = str(files.get("households", "households"))
    hh_snap = net.snap(households, max_snap_m=max_snap_m, progress=progress)
    fac_snap = net.snap(fac, max_snap_m=max_snap_m)
    _warn_far_facilities(net, fac, fac_snap, max_snap_m, str(files.get("facilities", "facilities")))
    near = net.nearest(fac_snap, hh_snap)
    dist = near["dist_m"].to_numpy()
    src = near["source"].to_numpy()
    walk_min = dist / speed_m_min
    covered = np.isfinite(dist) & (dist <= cutoff + COVER_TOL_M)
    off = hh_snap["off_network"].to_numpy()

    out = households.copy()
    out["walk_min"] = np.round(walk_min, 4)
    fids = fac["facility_id"].to_numpy(dtype=object)
    out["nearest_facility_id"] = pd.array(
        np.where(src >= 0, fids[np.maximum(src, 0)] if len(fids) else None, None), dtype=object)
    out["covered"] = covered
    out["snap_m"] = np.round(hh_snap["snap_m"].to_numpy(), 3)
    out["off_network"] = off

    hh_metric = households.geometry.to_crs(net.crs)
    outside = np.zeros(len(out), dtype=bool)
    if "community_id" not in out.columns and communities is not None:
        joined = polygon_ids(hh_metric, communities, "community_id")
        outside = pd.isna(joined)
        out["community_id"] = joined
    _warn_coords(households, net, off | outside, weights,
                 communities if outside.any() else None, max_snap_m, hh_file)
    if "grid_id" not in out.columns and grids is not None and "grid_id" in grids.columns:
        out["grid_id"] = polygon_ids(hh_metric, grids, "grid_id")

    if "population" in out.columns:
        popv = pd.to_numeric(out["population"], errors="coerce").to_numpy(dtype=float)
        population = np.where(np.isnan(popv), weights * norms.household_size, popv)
    else:
        population = weights * norms.household_size
    table = pd.DataFrame({"households": weights, "hh_covered": weights * covered,
                          "hh_off": weights * off, "population": population})
    if "community_id" in out.columns:
        table["community_id"] = _ids(out["community_id"])
        if communities is not None and "street_id" in communities.columns:
            street_of = dict(zip(_ids(communities["community_id"]), _ids(communities["street_id"])))
            table["street_id"] = _ids(table["community_id"].map(street_of))
    if "grid_id" in out.columns:
        table["grid_id"] = _ids(out["grid_id"])
    summary = _summary(table, communities, grids)

    # facilities' communities: their own column, else the polygon they stand in
    if "community_id" in fac_all.columns:
        fac_comm = _ids(fac_all["community_id"])
    elif communities is not None:
        fac_comm = polygon_ids(fac_all.geometry.to_crs(net.crs), communities, "community_id")
    else:
        fac_comm = np.full(len(fac_all), None, dtype=object)
    standards = _standards(table, fac_all, fac_comm, communities, norms)

    unc = ~covered
    gap_gdf = gaps(hh_metric[unc], weights[unc], population=population[unc], off_network=off[unc],
                   walk_min=walk_min[unc],
                   community_id=table["community_id"].to_numpy()[unc] if "community_id" in table else None,
                   eps_m=gap_eps_m, min_households=gap_min_households)

    thr = sorted(set(float(t) for t in thresholds) | {float(minutes)})
    iso_report = {}
    if isochrones and len(fac):
        iso = (isochrone_builder or isochrones_of)(net, fac, minutes=thr, speed_kmh=speed_kmh, buffer_m=buffer_m,
                                                   fac_snap=fac_snap, progress=progress)
        pts = hh_metric.values.to_numpy()
        for t in thr:
            union = shapely.union_all(iso.geometry.values.to_numpy()[iso["minutes"].to_numpy() == t])
            inside = shapely.contains_xy(union, *shapely.get_coordinates(pts).T) \
                if not shapely.is_empty(union) else np.zeros(len(pts), bool)
            truth = np.isfinite(dist) & (dist <= walk_metres(t, speed_kmh) + COVER_TOL_M)
            iso_report[f"{t:g}"] = {
                "households_inside_polygon_not_reached": int(weights[inside & ~truth].sum()),
                "households_reached_outside_polygon": int(weights[~inside & truth].sum()),
                "households_reached": int(weights[truth].sum()),
            }
        iso = to_wgs84(iso)
    else:
        iso = gpd.GeoDataFrame({c: [] for c in ("facility_id", "name", "kind", "minutes",
                                                "distance_m", "area_m2")},
                               geometry=[], crs="EPSG:4326")

    total = int(weights.sum())
    n_cov = int(weights[covered].sum())
    off_rows = np.flatnonzero(off)
    fac_off = fac_snap["off_network"].to_numpy()
    comm_missing = int(weights[table["community_id"].isna().to_numpy()].sum()) \
        if "community_id" in table else None
    street_centres = []
    sc = fac_all[fac_all["kind"] == "street_centre"]
    for fid, a in zip(sc["facility_id"], pd.to_numeric(sc.get("area_m2", pd.Series(np.nan, index=sc.index)),
                                                         errors="coerce")):
        street_centres.append({"facility_id": str(fid),
                               "area_m2": None if pd.isna(a) else float(a),
                               "meets_norm": None if pd.isna(a) else bool(a >= norms.street_centre_min_m2),
                               "norm_m2": norms.street_centre_min_m2})
    report = {
        "minutes": float(minutes), "speed_kmh": float(speed_kmh), "cutoff_m": round(cutoff, 3),
        "kinds": list(kinds), "max_snap_m": float(max_snap_m),
        "households": total, "household_rows": int(len(out)),
        "households_covered": n_cov,
        "share_covered": round(n_cov / total, 6) if total else None,
        "off_network_rows": int(len(off_rows)),
        "off_network_households": int(weights[off].sum()),
        "off_network_row_list": format_rows(off_rows.tolist()) if len(off_rows) else "",
        "unreachable_households": int(weights[~off & ~np.isfinite(dist)].sum()),
        "households_outside_communities": comm_missing,
        "facilities_used": int(len(fac)),
        "facilities_off_network": [str(x) for x in fac["facility_id"].to_numpy()[fac_off]],
        "gaps": int(len(gap_gdf)),
        "households_in_gaps": int(gap_gdf["households"].sum()) if len(gap_gdf) else 0,
        "isochrone_buffer_m": float(buffer_m),
        "isochrone_misclassification": iso_report,
        "street_centres": street_centres,
        "network": net.report,
        "method": "exact multi-source Dijkstra (scipy.sparse.csgraph, min_only) on the walking "
                  "network with virtual source nodes; points snapped to the nearest edge; access "
                  "legs walked at the same speed",
    }
    return CoverageResult(households=out, isochrones=iso, summary=summary, standards=standards,
                          gaps=to_wgs84(gap_gdf), report=report)


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
