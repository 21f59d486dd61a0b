"""Building footprints, streets and estate polygons handed to every community's planner.

A household whose ``building_id`` matches a footprint is located by that footprint (its
representative point), so a point geocoded beside its building still falls in the building's
piece. A building with more households than a grid may hold is sliced along its long axis, as
by entrance (单元), into the fewest parts that each fit the band; every part is then a building
of its own (``<building_id>#<k>``). Rows are never split: a building given as one row stays
whole (and its grid is flagged ``over``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gridplan.grids.cells import Pieces, first_hit, polygonal

__all__ = ["CityFeatures", "cell_owner", "city_features", "community_features", "slice_footprint"]


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
    """

    footprints: np.ndarray
    fp_comm: np.ndarray
    row_fp: np.ndarray
    row_building: np.ndarray | None
    split: list
    streets: tuple
    estates: tuple
    estate_ids: np.ndarray


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
    if buildings is not None and len(buildings):
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
        first = {}
        for i, k in enumerate(ids.tolist()):
            first.setdefault(k, i)
        row_fp = np.array([first.get(str(v), -1) if v is not None else -1 for v in building], dtype=np.int64)
    split: list = []
    if len(fps) and not keep_buildings_whole:
        fps, ids, row_fp, split = _split(fps, ids, row_fp, np.asarray(hh, dtype=np.int64), hi)
    row_building = building
    if split:
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
    return CityFeatures(fps, fp_comm, row_fp, row_building, split, st, est, est_ids)


def community_features(cf: CityFeatures, c: int, poly, rows: np.ndarray, xy: np.ndarray) -> dict:
    """The task entries of community ``c`` (position) holding household ``rows``: streets,
    estate polygons and ids, footprints clipped to it, the footprint of every row and the rows'
    locations (a footprint's representative point where one matches)."""
    out: dict = {"xy": xy}
    lines, tree = cf.streets
    if lines is not None:
        out["streets"] = lines[np.sort(tree.query(poly, predicate="intersects"))]
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
