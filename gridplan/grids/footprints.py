"""Building footprints, streets and estate polygons handed to every community's planner.

A household whose ``building_id`` matches a footprint is located by that footprint (its
representative point), so a point geocoded beside its building still falls in the building's
piece. A building with more households than a grid may hold is sliced along its long axis, as
by entrance (单元), into the fewest parts that each fit the band; every part is then a building
of its own (``<building_id>#<k>``). A building given as one row has its row split too: the
row becomes one row per part (:attr:`CityFeatures.src`), each with its share of the households
(:func:`entrance_shares`). A building known only as a point (no footprint) has no ground to
divide by entrance: it stays whole and its grid is flagged ``over`` (``unit_over_max``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.grids.cells import Pieces, first_hit, polygonal

__all__ = [
    "CityFeatures",
    "assignment_of_rows",
    "cell_owner",
    "city_features",
    "community_features",
    "entrance_shares",
    "held_estates",
    "place_parts",
    "slice_footprint",
    "split_rows",
]


@dataclass(frozen=True)
class CityFeatures:
    """Features of the whole area in the metric CRS, with spatial indexes.

    Attributes
    ----------
    footprints : ndarray of Polygon
        Footprints, split buildings replaced by their parts.
    fp_comm : ndarray of int
        Community (position) of every footprint, -1 outside all.
    row_fp : ndarray of int
        Footprint of every household row, -1 when none matches.
    row_building : ndarray of object or None
        building_id per row as the planner sees it (``<id>#<k>`` for parts of split buildings).
    split : list of str
        Ids of the buildings split by entrance.
    streets, estates : tuple
        (geometries, STRtree) or (None, None); ``estate_ids`` aligned to the estates.
    src : ndarray of int or None
        The input row of every row above, when a building given as one row was split (its row
        is then there once per part, in the input's order); None when no row was split.
    row_hh : ndarray of int
        Households of every row above (a part's share for a split row).
    row_part : ndarray of object or None
        ``<building_id>#<k>`` for the parts of a split row, None elsewhere; None when ``src``
        is None.
    """

    footprints: np.ndarray
    fp_comm: np.ndarray
    row_fp: np.ndarray
    row_building: np.ndarray | None
    split: list
    streets: tuple
    estates: tuple
    estate_ids: np.ndarray
    src: np.ndarray | None = None
    row_hh: np.ndarray | None = None
    row_part: np.ndarray | None = None


def _indexed(geoms):
    if geoms is None or len(geoms) == 0:
        return None, None
    g = np.asarray(geoms, dtype=object)
    return g, shapely.STRtree(g)


def slice_footprint(footprint, parts: int) -> list:
    """Cut ``footprint`` across its long axis into ``parts`` slices of equal length.

    Parameters
    ----------
    footprint : Polygon or MultiPolygon
        Metric.
    parts : int

    Returns
    -------
    list of Polygon or MultiPolygon
        The slices in order along the axis; empty when a slice would be empty.
    """
    rect = shapely.minimum_rotated_rectangle(footprint)
    c = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = c[1] - c[0], c[2] - c[1]
    axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    u = axis / max(np.hypot(*axis), 1e-9)
    v = np.array([-u[1], u[0]])
    pts = shapely.get_coordinates(footprint)
    t = pts @ u
    reach = float(np.ptp(pts @ v)) + 10.0
    mid = float((pts @ v).mean())
    t0, t1 = float(t.min()), float(t.max())
    out = []
    for k in range(parts):
        a = t0 + (t1 - t0) * k / parts - (1.0 if k == 0 else 0.0)
        b = t0 + (t1 - t0) * (k + 1) / parts + (1.0 if k == parts - 1 else 0.0)
        strip = shapely.Polygon(
            [
                a * u + (mid - reach) * v,
                b * u + (mid - reach) * v,
                b * u + (mid + reach) * v,
                a * u + (mid + reach) * v,
            ]
        )
        s = polygonal(shapely.intersection(footprint, strip))
        if shapely.is_empty(s):
            return []
        out.append(s)
    return out


def _split(
    fps: np.ndarray, ids: np.ndarray, row_fp: np.ndarray, hh: np.ndarray, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Split the footprints holding more than ``hi`` households over several rows."""
    tot = np.bincount(row_fp[row_fp >= 0], weights=hh[row_fp >= 0], minlength=len(fps))
    nrows = np.bincount(row_fp[row_fp >= 0], minlength=len(fps))
    new_fps, new_ids = list(fps), list(ids)
    row_fp = row_fp.copy()
    split = []
    for f in np.flatnonzero((tot > hi) & (nrows >= 2)):
        k = min(math.ceil(tot[f] / hi), int(nrows[f]))
        parts = slice_footprint(fps[f], k)
        if len(parts) != k:
            continue
        rows = np.flatnonzero(row_fp == f)
        before = np.cumsum(hh[rows]) - hh[rows]
        part = np.minimum(k - 1, ((before + hh[rows] / 2) * k // tot[f]).astype(np.int64))
        if (np.bincount(part, weights=hh[rows], minlength=k) == 0).any():
            continue
        split.append(str(ids[f]))
        new_fps[f] = parts[0]
        new_ids[f] = f"{ids[f]}#1"
        for j in range(1, k):
            new_fps.append(parts[j])
            new_ids.append(f"{ids[f]}#{j + 1}")
        first_new = len(new_fps) - (k - 1)
        row_fp[rows] = np.where(part == 0, f, first_new + part - 1)
    return (np.asarray(new_fps, dtype=object), np.asarray(new_ids, dtype=object), row_fp, split)


def entrance_shares(total: int, parts: int) -> np.ndarray:
    """The households of a building given as one row, divided among ``parts`` entrances.

    As equal as whole households allow, the larger shares first, so that the split is the
    same on every run.

    Parameters
    ----------
    total : int
        The row's households.
    parts : int
        At least 1.

    Returns
    -------
    ndarray of int64
        ``parts`` shares summing to ``total``, differing by at most one.
    """
    base, extra = divmod(int(total), int(parts))
    return np.full(int(parts), base, dtype=np.int64) + (np.arange(int(parts)) < extra)


def _split_single_rows(fps: np.ndarray, ids: np.ndarray, row_fp: np.ndarray, hh: np.ndarray, hi: int):
    """Split the footprints above ``hi`` households given as one row: the footprint into the
    fewest slices that each hold at most ``hi`` (:func:`entrance_shares`), the row into one row
    per slice.

    Returns
    -------
    fps, ids : ndarray
        The footprints, slices appended (the first slice replaces the building).
    parts : dict
        Row -> list of (footprint index, households), in slice order.
    split : list of str
    """
    has = row_fp >= 0
    tot = np.bincount(row_fp[has], weights=hh[has], minlength=len(fps)).astype(np.int64)
    nrows = np.bincount(row_fp[has], minlength=len(fps))
    new_fps, new_ids = list(fps), list(ids)
    parts: dict = {}
    split = []
    for f in np.flatnonzero((tot > hi) & (nrows == 1)):
        k = math.ceil(tot[f] / hi)
        slices = slice_footprint(fps[f], k)
        if len(slices) != k:
            continue
        row = int(np.flatnonzero(row_fp == f)[0])
        where = [int(f)] + list(range(len(new_fps), len(new_fps) + k - 1))
        split.append(str(ids[f]))
        new_fps[f], new_ids[f] = slices[0], f"{ids[f]}#1"
        new_fps += slices[1:]
        new_ids += [f"{ids[f]}#{j + 1}" for j in range(1, k)]
        parts[row] = list(zip(where, entrance_shares(int(tot[f]), k).tolist()))
    return np.asarray(new_fps, dtype=object), np.asarray(new_ids, dtype=object), parts, split


def _expand(row_fp: np.ndarray, hh: np.ndarray, building, ids: np.ndarray, parts: dict):
    """Every split row once per part: (src, row_fp, row_hh, row_building, row_part)."""
    reps = np.ones(len(hh), dtype=np.int64)
    for r, p in parts.items():
        reps[r] = len(p)
    src = np.repeat(np.arange(len(hh)), reps)
    start = np.cumsum(reps) - reps
    out_fp, out_hh = row_fp[src], np.asarray(hh, dtype=np.int64)[src]
    part = np.full(len(src), None, dtype=object)
    for r, p in parts.items():
        at = start[r] + np.arange(len(p))
        out_fp[at] = [f for f, _ in p]
        out_hh[at] = [h for _, h in p]
        part[at] = ids[out_fp[at]]
    bld = np.asarray(building, dtype=object)[src].copy()
    m = out_fp >= 0
    bld[m] = ids[out_fp[m]]
    return src, out_fp, out_hh, bld, part


def city_features(
    buildings: gpd.GeoDataFrame | None,
    estates: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    comm_m: gpd.GeoDataFrame,
    building: np.ndarray | None,
    hh: np.ndarray,
    hi: int,
    crs,
    *,
    keep_buildings_whole: bool = False,
) -> CityFeatures:
    """The features of the area in the metric CRS, footprints matched to household rows.

    Parameters
    ----------
    buildings : GeoDataFrame, optional
        Used as footprints when its geometries are polygons (``building_id`` matches rows).
    estates : GeoDataFrame, optional
        Estate polygons with ``estate_id``.
    streets : GeoDataFrame, optional
        Street (walking network) lines.
    comm_m : GeoDataFrame
        Communities in ``crs``.
    building : ndarray of object or None
        building_id per household row.
    hh : ndarray of int
        Households per row.
    hi : int
        Most households a grid may hold.
    crs
        The metric CRS.
    keep_buildings_whole : bool
        Never split a building.

    Returns
    -------
    CityFeatures
    """
    n = len(hh)
    fps, ids = np.empty(0, dtype=object), np.empty(0, dtype=object)
    # a table of buildings without geometry only names their estates (gridplan.grids.inputs.estate_ids)
    if isinstance(buildings, gpd.GeoDataFrame) and len(buildings):
        b = buildings.to_crs(crs)
        poly = b.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        b = b[poly]
        fps = np.array([polygonal(g) for g in b.geometry.values], dtype=object)
        ids = (
            b["building_id"].astype(str).to_numpy(object)
            if "building_id" in b.columns
            else np.array([f"#{i}" for i in range(len(b))], dtype=object)
        )
        ok = ~shapely.is_empty(fps) & (shapely.area(fps) > 0)
        fps, ids = fps[ok], ids[ok]
    row_fp = np.full(n, -1, dtype=np.int64)
    if len(fps) and building is not None:
        first: dict[str, int] = {}
        for i, k in enumerate(ids.tolist()):
            first.setdefault(k, i)
        row_fp = np.array([first.get(str(v), -1) if v is not None else -1 for v in building], dtype=np.int64)
    split: list = []
    hh = np.asarray(hh, dtype=np.int64)
    expand: tuple = (None, hh, None)
    row_building = building
    if len(fps) and not keep_buildings_whole:
        # one-row buildings first: their slices keep the row's footprint until the expansion
        # below, and the multi-row split only appends footprints
        fps, ids, parts, split = _split_single_rows(fps, ids, row_fp, hh, hi)
        fps, ids, row_fp, split_multi = _split(fps, ids, row_fp, hh, hi)
        split += split_multi
        if parts:
            src, row_fp, row_hh, row_building, row_part = _expand(row_fp, hh, building, ids, parts)
            expand = (src, row_hh, row_part)
    if split and expand[0] is None:
        row_building = np.asarray(building, dtype=object).copy()
        m = row_fp >= 0
        row_building[m] = ids[row_fp[m]]
    fp_comm = (
        first_hit(shapely.point_on_surface(fps), np.asarray(comm_m.geometry.values))
        if len(fps)
        else np.empty(0, dtype=np.int64)
    )
    est = (None, None)
    est_ids = np.empty(0, dtype=object)
    if estates is not None and len(estates) and "estate_id" in estates.columns:
        e = estates.to_crs(crs)
        e = e[e.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
        est = _indexed(np.array([polygonal(g) for g in e.geometry.values], dtype=object))
        est_ids = e["estate_id"].astype(str).to_numpy(object)
    st = (None, None)
    if streets is not None and len(streets):
        s = streets.to_crs(crs)
        st = _indexed(s.geometry.values[s.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()])
    if streets is not None and st[0] is None:
        # a street layer with no lines still asks for the tessellation of the footprints
        # (gridplan.grids.cells): no lines, but not None
        st = (np.empty(0, dtype=object), None)
    return CityFeatures(fps, fp_comm, row_fp, row_building, split, st, est, est_ids, *expand)


def split_rows(households: gpd.GeoDataFrame, cf: CityFeatures) -> gpd.GeoDataFrame:
    """The household rows as the partition plans them: a row split by entrance once per part.

    Every input row is there, in the input's order and with its index label; a split row is
    repeated once per part, consecutively, with ``households`` its part's share, ``population``
    divided in the same proportion (whole people stay whole, the row's total is kept) and
    ``building_part`` naming the part (``<building_id>#<k>``, empty on the other rows). So the
    households of every grid are the sum of its rows, as for any other row.

    Parameters
    ----------
    households : GeoDataFrame
        The input rows.
    cf : CityFeatures
        With ``src`` (some row was split).

    Returns
    -------
    GeoDataFrame
    """
    src = np.asarray(cf.src)
    out = households.iloc[src].copy()
    out["households"] = np.asarray(cf.row_hh, dtype=np.int64)
    if "population" in out.columns:
        out["population"] = _apportion(out["population"], src, np.asarray(cf.row_hh, dtype=np.int64))
    out["building_part"] = pd.array(cf.row_part, dtype=object)
    return out


def _apportion(pop: pd.Series, src: np.ndarray, share: np.ndarray) -> pd.Series:
    """``pop`` (repeated per part) divided among the parts of each row by ``share``: by
    cumulative rounding down, so whole numbers stay whole and every row keeps its total."""
    rep = np.r_[False, src[1:] == src[:-1]] | np.r_[src[1:] == src[:-1], False]
    if not rep.any():
        return pop
    vals = pd.to_numeric(pop, errors="coerce").to_numpy(dtype=float)
    start = np.r_[True, src[1:] != src[:-1]]
    grp = np.cumsum(start) - 1
    cum = np.cumsum(share) - (np.cumsum(share) - share)[start][grp]  # households up to this part
    tot = np.bincount(grp, weights=share)[grp]
    whole = np.isfinite(vals) & (vals == np.round(vals))
    upto = np.where(whole, np.floor(vals * cum / tot + 1e-9), vals * cum / tot)
    prev = np.r_[0.0, upto[:-1]]
    part = np.where(start, upto, upto - prev)
    new = np.where(rep, part, vals)
    out = pop.copy()
    if pd.api.types.is_integer_dtype(pop.dtype):
        return pd.Series(new.astype(np.int64), index=pop.index, name=pop.name)
    if pd.api.types.is_numeric_dtype(pop.dtype):
        return pd.Series(new, index=pop.index, name=pop.name).astype(pop.dtype)
    out[rep] = new[rep]
    return out


def held_estates(
    layers: dict,
    estate: np.ndarray | None,
    cpos: np.ndarray,
    hh: np.ndarray,
    hi: int,
    points: np.ndarray,
) -> gpd.GeoDataFrame | None:
    """The estates whose outlines the partition follows: all of them with streets given (as
    walls, :mod:`gridplan.geometry.featurecells`); without streets, where estate walls leave the
    search few contiguous grids in the band, those kept whole in the cell of one household
    (:mod:`gridplan.grids.cells`): the estates one unit holds
    (:func:`gridplan.grids.units.unit_keys`: all their households in one community, at most
    ``hi`` of them) with a household of theirs and none of another estate, or of none, lying
    inside, and under no kept grid (its ground is not planned again).

    Parameters
    ----------
    layers : dict
        ``estates`` (polygons with ``estate_id``, metric), ``streets`` and ``keep`` (the kept
        grids), each a GeoDataFrame or None.
    estate : ndarray of object or None
        estate_id per household row.
    cpos : ndarray of int
        Community (position) of every row.
    hh : ndarray of int
        Households per row.
    hi : int
        Most households a grid may hold.
    points : array of Point
        The rows' locations (metric).

    Returns
    -------
    GeoDataFrame or None
    """
    estates, kept = layers["estates"], layers.get("keep")
    if layers["streets"] is not None:
        return estates
    if estates is None or estate is None or not len(estates) or "estate_id" not in estates.columns:
        return None
    has = ~pd.isna(estate)
    rows = pd.DataFrame({"e": estate[has], "c": np.asarray(cpos)[has], "hh": np.asarray(hh)[has]})
    per = rows.groupby("e").agg(n=("c", "nunique"), hh=("hh", "sum"))
    one = set(per.index[(per["n"] == 1) & (per["hh"] <= hi) & (per["hh"] > 0)].tolist())
    ids = estates["estate_id"].astype(str).to_numpy(object)
    # an estate holding another unit's household would merge that unit into its own
    pi, ei = shapely.STRtree(estates.geometry.values).query(points, predicate="intersects")
    mine = np.asarray(estate, dtype=object)[pi] == ids[ei]
    foreign, lived = set(ids[ei[~mine]].tolist()), set(ids[ei[mine]].tolist())
    ok = np.array([e in one and e in lived and e not in foreign for e in ids.tolist()], dtype=bool)
    if kept is not None and len(kept):
        kg = kept.to_crs(estates.crs).geometry.values
        ei, ki = shapely.STRtree(kg).query(estates.geometry.values, predicate="intersects")
        # sharing an edge only leaves the estate's ground free
        under = shapely.area(shapely.intersection(estates.geometry.values[ei], kg[ki])) > 1.0
        ok[ei[under]] = False
    return estates[ok]


def community_features(cf: CityFeatures, c: int, poly, rows: np.ndarray, xy: np.ndarray) -> dict:
    """The task entries of community ``c`` (position) holding household ``rows``: streets,
    estate polygons and ids, footprints clipped to it, the footprint of every row and the rows'
    locations (a footprint's representative point where one matches)."""
    out: dict = {"xy": xy}
    lines, tree = cf.streets
    if lines is not None:
        out["streets"] = lines if tree is None else lines[np.sort(tree.query(poly, predicate="intersects"))]
    egeo, etree = cf.estates
    if egeo is not None:
        ei = np.sort(etree.query(poly, predicate="intersects"))
        clipped = np.array([polygonal(g) for g in shapely.intersection(egeo[ei], poly)], dtype=object)
        ok = ~shapely.is_empty(clipped)
        out["estate_polys"], out["estate_poly_ids"] = clipped[ok], cf.estate_ids[ei][ok]
    mine = np.flatnonzero(cf.fp_comm == c)
    if not len(mine):
        return out
    fp = np.array([polygonal(g) for g in shapely.intersection(cf.footprints[mine], poly)], dtype=object)
    ok = ~shapely.is_empty(fp)
    mine, fp = mine[ok], fp[ok]
    loc = np.full(len(cf.footprints), -1, dtype=np.int64)
    loc[mine] = np.arange(len(mine))
    rfp = cf.row_fp[rows]
    local = np.where(rfp >= 0, loc[np.maximum(rfp, 0)], -1)
    xy = xy.copy()
    has = local >= 0
    rp = shapely.point_on_surface(fp)
    xy[has, 0] = shapely.get_x(rp)[local[has]]
    xy[has, 1] = shapely.get_y(rp)[local[has]]
    out.update(xy=xy, footprints=fp, row_fp=local)
    return out


def cell_owner(p: Pieces, fp_piece_unit: np.ndarray) -> np.ndarray:
    """The unit of the footprint each piece borders longest, -1 where it borders none.

    Every bit of a street block belongs to its nearest building (the tessellation), so the
    piece around a footprint is that building's ground and goes with its households.

    Parameters
    ----------
    p : Pieces
    fp_piece_unit : ndarray of int
        Per piece: the unit of the footprint it is, -1 for other pieces.

    Returns
    -------
    ndarray of int
    """
    a, b = np.r_[p.i, p.j], np.r_[p.j, p.i]
    ln = np.r_[p.length, p.length]
    m = (fp_piece_unit[b] >= 0) & (fp_piece_unit[a] < 0)
    a, u, ln = a[m], fp_piece_unit[b[m]], ln[m]
    order = np.lexsort((u, -ln, a))
    a, u = a[order], u[order]
    first = np.r_[True, a[1:] != a[:-1]] if len(a) else np.empty(0, dtype=bool)
    out = np.full(len(fp_piece_unit), -1, dtype=np.int64)
    out[a[first]] = u[first]
    return out


def assignment_of_rows(
    households: gpd.GeoDataFrame, parts: gpd.GeoDataFrame, src: np.ndarray
) -> gpd.GeoDataFrame:
    """The assignment of the input rows (the data contract: same rows, same order) from the
    planned ``parts``: a split row takes its largest part's grid (the first on a tie) and lists
    every part as ``<grid_id>:<households>`` in ``grid_parts``.

    Parameters
    ----------
    households : GeoDataFrame
        The input rows.
    parts : GeoDataFrame
        The planned rows (:func:`split_rows`) with ``grid_id`` (and ``micro_grid_id``).
    src : ndarray of int
        Input row of every planned row (:attr:`CityFeatures.src`).

    Returns
    -------
    GeoDataFrame
        ``households`` with ``grid_id`` (``micro_grid_id``) and ``grid_parts``.
    """
    hh = parts["households"].to_numpy(dtype=np.int64)
    # parts of one row are consecutive: order by row, then by households descending, stable
    order = np.lexsort((np.arange(len(src)), -hh, src))
    first = order[np.r_[True, src[order][1:] != src[order][:-1]]]
    out = households.copy()
    for col in ("grid_id", "micro_grid_id"):
        if col in parts:
            out[col] = pd.array(parts[col].to_numpy(dtype=object)[first], dtype=object)
    split = np.bincount(src, minlength=len(households)) > 1
    gid = parts["grid_id"].astype(object).to_numpy()
    text = pd.Series([f"{g}:{h}" for g, h in zip(gid, hh)], dtype=object)
    joined = text.groupby(src).agg(";".join).to_numpy(dtype=object)
    out["grid_parts"] = pd.array(np.where(split, joined, None), dtype=object)
    return out


def place_parts(
    planned: gpd.GeoDataFrame, cf: CityFeatures, crs
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The planned rows with every part of a split row standing in its own slice of the
    footprint (so that whoever locates the rows by their points, an editable Plan, finds each
    part in its own grid), in their CRS and in the metric ``crs``.

    Parameters
    ----------
    planned : GeoDataFrame
        :func:`split_rows`.
    cf : CityFeatures
        With ``src``.
    crs : CRS
        The metric CRS of ``cf``.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
    """
    out, out_m = planned.copy(), planned.to_crs(crs)
    part = np.flatnonzero(pd.notna(np.asarray(cf.row_part, dtype=object)))
    if not len(part):
        return out, out_m
    spots = shapely.point_on_surface(cf.footprints[np.asarray(cf.row_fp)[part]])
    for frame, where in ((out_m, spots), (out, gpd.GeoSeries(spots, crs=crs).to_crs(out.crs).values)):
        geom = frame.geometry.to_numpy().copy()
        geom[part] = where
        frame[frame.geometry.name] = gpd.GeoSeries(geom, index=frame.index, crs=frame.crs)
    return out, out_m
