"""Which polygon holds each point: one rule for validate, partition, coverage and siting.

Overlap rule (documented in README "Problems gridplan detects"): a point inside two or more
polygons (overlapping community boundaries) goes to the polygon whose representative point
(``shapely.point_on_surface``) is nearest, ties to the lowest id. Distances are measured in the
data's UTM zone.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.io.projection import local_crs

__all__ = ["containing_polygon", "outside_all", "polygon_ids"]


def containing_polygon(points: gpd.GeoSeries, polygons: gpd.GeoSeries, ids) -> np.ndarray:
    """Position of the polygon holding each point, -1 outside every polygon.

    Parameters
    ----------
    points, polygons : GeoSeries
        With CRSs (``polygons`` is reprojected to the points' CRS when they differ).
    ids : array-like
        Polygon ids, used to break ties on the overlap rule.

    Returns
    -------
    ndarray of int64
    """
    if polygons.crs is not None and points.crs is not None and polygons.crs != points.crs:
        polygons = polygons.to_crs(points.crs)
    pts = np.asarray(points.values)
    polys = np.asarray(polygons.values)
    choice = np.full(len(pts), -1, dtype=np.int64)
    if not len(pts) or not len(polys):
        return choice
    # One bulk STRtree query for every point (vectorised point-in-polygon).
    p_idx, c_idx = shapely.STRtree(polys).query(pts, predicate="intersects")
    counts = np.bincount(p_idx, minlength=len(pts))
    multi = counts[p_idx] > 1
    choice[p_idx[~multi]] = c_idx[~multi]
    if multi.any():
        crs = local_crs(points) if points.crs is not None else None
        mp, mc = p_idx[multi], c_idx[multi]
        rep = gpd.GeoSeries(shapely.point_on_surface(polys[mc]), crs=points.crs)
        hp = gpd.GeoSeries(pts[mp], crs=points.crs)
        if crs is not None:
            rep, hp = rep.to_crs(crs), hp.to_crs(crs)
        dist = shapely.distance(np.asarray(hp.values), np.asarray(rep.values))
        order = np.lexsort((np.asarray(ids, dtype=object)[mc].astype(str), dist, mp))
        mp, mc = mp[order], mc[order]
        first = np.r_[True, mp[1:] != mp[:-1]]
        choice[mp[first]] = mc[first]
    return choice


def polygon_ids(points: gpd.GeoSeries, polygons: gpd.GeoDataFrame, id_col: str) -> np.ndarray:
    """Id (as str) of the polygon holding each point, ``None`` outside every polygon."""
    col = polygons[id_col]
    ids = np.array([None if pd.isna(v) else str(v) for v in col], dtype=object)
    choice = containing_polygon(points, polygons.geometry, ids)
    out = np.full(len(choice), None, dtype=object)
    inside = choice >= 0
    out[inside] = ids[choice[inside]]
    return out


def outside_all(x: np.ndarray, y: np.ndarray, tree: shapely.STRtree) -> np.ndarray:
    """Which points (``x``, ``y``, in the CRS of the polygons in ``tree``) fall in no polygon:
    the test that validate and partition give :func:`gridplan.io.coords.detect_web_offset`."""
    pts = shapely.points(np.column_stack([x, y]))
    out = np.ones(len(pts), dtype=bool)
    out[tree.query(pts, predicate="within")[0]] = False
    return out
