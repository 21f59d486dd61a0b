"""Metric projections: gridplan measures in metres in the data's UTM zone, never in degrees."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

from gridplan.errors import InputError

__all__ = ["WGS84", "local_crs", "to_metric", "to_wgs84", "is_geographic"]

WGS84 = CRS.from_epsg(4326)


def is_geographic(crs) -> bool:
    """True when ``crs`` is a geographic (degree) CRS."""
    return crs is not None and CRS.from_user_input(crs).is_geographic


def local_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The UTM zone CRS of the data (its own CRS when that is already projected).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Data with a CRS.

    Returns
    -------
    pyproj.CRS
    """
    if gdf.crs is None:
        raise InputError("the data has no coordinate reference system",
                         fix="read it with gridplan.read_* (which sets one) or call .set_crs()",
                         message_zh="数据没有坐标参考系", fix_zh="请用 gridplan.read_* 读取，或先设置坐标系")
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_geographic:
        return crs
    return gdf.estimate_utm_crs()


def to_metric(gdf, crs=None):
    """``gdf`` in ``crs`` (default: its local UTM zone)."""
    return gdf.to_crs(crs if crs is not None else local_crs(gdf))


def to_wgs84(gdf):
    """``gdf`` in WGS-84 longitude/latitude."""
    if gdf.crs is not None and CRS.from_user_input(gdf.crs).equals(WGS84):
        return gdf
    return gdf.to_crs(WGS84)
