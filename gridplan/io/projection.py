"""Metric projections: gridplan measures in metres in the data's UTM zone, never in degrees."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Proj

from gridplan.errors import InputError

__all__ = ["WGS84", "MAX_SCALE_ERROR", "local_crs", "scale_error", "to_metric", "to_wgs84", "is_geographic"]

WGS84 = CRS.from_epsg(4326)


def is_geographic(crs) -> bool:
    """True when ``crs`` is a geographic (degree) CRS."""
    return crs is not None and CRS.from_user_input(crs).is_geographic


#: A projected CRS whose scale at the data differs from 1 by more than this (1%; UTM and
#: Gauss-Kruger zones stay well below) is not used to measure: Web Mercator is 1.16x too long
#: in Wuhan, so 15 walking minutes would become 12.9.
MAX_SCALE_ERROR = 0.01


def scale_error(crs, lon: float, lat: float) -> float:
    """How far the scale of projected ``crs`` at (lon, lat) is from true length (0 = exact)."""
    factors = Proj(CRS.from_user_input(crs)).get_factors(lon, lat)
    return float(max(abs(factors.meridional_scale - 1), abs(factors.parallel_scale - 1)))


def local_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The CRS to measure the data in: its own projected CRS when that measures true lengths
    (a local Gauss-Kruger or UTM zone), else its UTM zone.

    Degrees, Web Mercator and any projection whose scale error at the data exceeds
    :data:`MAX_SCALE_ERROR` (1%) are replaced by the UTM zone, so that metres are metres.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Data with a CRS.

    Returns
    -------
    pyproj.CRS
    """
    if gdf.crs is None:
        raise InputError(
            "the data has no coordinate reference system",
            fix="read it with gridplan.read_* (which sets one) or call .set_crs()",
            message_zh="数据没有坐标参考系",
            fix_zh="请用 gridplan.read_* 读取，或先设置坐标系",
        )
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic:
        return gdf.estimate_utm_crs()
    bounds = gdf.total_bounds
    if not np.isfinite(bounds).all():
        return crs
    centre = gpd.GeoSeries([shapely.box(*bounds).centroid], crs=crs).to_crs(WGS84).iloc[0]
    if scale_error(crs, centre.x, centre.y) <= MAX_SCALE_ERROR:
        return crs
    return gdf.to_crs(WGS84).estimate_utm_crs()


def to_metric(gdf, crs=None):
    """``gdf`` in ``crs`` (default: its local UTM zone)."""
    return gdf.to_crs(crs if crs is not None else local_crs(gdf))


def to_wgs84(gdf):
    """``gdf`` in WGS-84 longitude/latitude."""
    if gdf.crs is not None and CRS.from_user_input(gdf.crs).equals(WGS84):
        return gdf
    return gdf.to_crs(WGS84)
