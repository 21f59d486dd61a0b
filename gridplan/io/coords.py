"""Chinese web-map coordinates: WGS-84 <-> GCJ-02 (Amap, Tencent) <-> BD-09 (Baidu).

GCJ-02 is a published-by-reverse-engineering obfuscation of WGS-84; BD-09 adds Baidu's own shift on
top of GCJ-02. The forward formulas are the widely circulated ones (eviltransform, coordtransform).

Written by hand because no maintained PyPI library offers a *vectorised* conversion with an
*iterative* GCJ-02 -> WGS-84 inverse (the common packages use the one-step approximation, which is
off by 1-2 m, or loop over points in Python). Here every function takes NumPy arrays.

Outside China (the standard ``out_of_china`` rectangle) GCJ-02 equals WGS-84.

:func:`detect_web_offset` is the one test for web-map points read as WGS-84: the households
check (:mod:`gridplan.io.validate`) and coverage both ask it, with the thresholds in
:mod:`gridplan.norms` (``COORDS_*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gridplan.norms import (
    COORDS_CONFIRM_SHARE,
    COORDS_SUSPECT_MIN_ROWS,
    COORDS_SUSPECT_SHARE,
)

__all__ = [
    "COORD_SYSTEMS",
    "WebOffset",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_gdf",
    "convert_xy",
    "detect_web_offset",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formulas.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
#: Stop the GCJ-02 inverse when the correction is below this many degrees (~0.1 mm).
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30
#: Points converted (at most) when testing for web-map coordinates: a fixed sample keeps a city fast.
_OFFSET_SAMPLE = 20_000


def out_of_china(lon, lat) -> np.ndarray:
    """True where the point lies outside the rectangle in which GCJ-02 applies."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return np.broadcast_arrays(lon, lat)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitude/latitude (degrees) to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        Degrees, any shape (broadcast together).

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
    """
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, start_lon, start_lat) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(w) = (lon, lat)`` by fixed-point iteration ``w <- w - (forward(w) - target)``.

    The shifts vary slowly with position, so this converges in a handful of steps; it stops when
    every correction is below 1e-9 degrees (about 0.1 mm).
    """
    wlon, wlat = start_lon, start_lat
    for _ in range(_INVERSE_MAX_ITER):
        flon, flat = forward(wlon, wlat)
        dlon, dlat = flon - lon, flat - lat
        wlon = wlon - dlon
        wlat = wlat - dlat
        if not (
            np.nanmax(np.abs(dlon), initial=0.0) > _INVERSE_TOL_DEG
            or np.nanmax(np.abs(dlat), initial=0.0) > _INVERSE_TOL_DEG
        ):
            break
    return wlon, wlat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 longitude/latitude to WGS-84, by fixed-point iteration from ``w = g``."""
    lon, lat = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat, lon.copy(), lat.copy())


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to Baidu BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to GCJ-02.

    Starts from Baidu's closed-form approximate inverse (a few centimetres off) and refines it by
    the same fixed-point iteration as :func:`gcj02_to_wgs84`.
    """
    lon, lat = _arrays(lon, lat)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, lon, lat, z * np.cos(theta), z * np.sin(theta))


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to Baidu BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def convert_xy(lon, lat, src: str, dst: str = "wgs84") -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates between any two of ``COORD_SYSTEMS``."""
    src, dst = _norm(src), _norm(dst)
    if src == dst:
        return _arrays(lon, lat)
    return _CONVERTERS[(src, dst)](lon, lat)


def _norm(name: str) -> str:
    from gridplan.errors import InputError

    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in COORD_SYSTEMS:
        raise InputError(
            f"unknown coordinate system '{name}'",
            fix="use one of wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu)",
            message_zh=f"未知坐标系 '{name}'",
            fix_zh="请使用 wgs84、gcj02（高德/腾讯）或 bd09（百度）",
        )
    return key


def convert_gdf(gdf, src: str, dst: str = "wgs84"):
    """A copy of ``gdf`` (longitude/latitude degrees) with every vertex converted ``src`` -> ``dst``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Geometries in degrees (its CRS is taken as EPSG:4326 whatever it claims: GCJ-02 and BD-09
        have no EPSG code).
    src, dst : {"wgs84", "gcj02", "bd09"}

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326.
    """
    import shapely

    src, dst = _norm(src), _norm(dst)
    out = gdf.copy()
    if src != dst and len(out):
        geoms = out.geometry.values

        def _tx(xy: np.ndarray) -> np.ndarray:
            x, y = convert_xy(xy[:, 0], xy[:, 1], src, dst)
            return np.column_stack([x, y])

        out[out.geometry.name] = shapely.transform(np.asarray(geoms), _tx)
    return out.set_crs(4326, allow_override=True)


@dataclass(frozen=True)
class WebOffset:
    """Points that look like web-map coordinates read as WGS-84 (see :func:`detect_web_offset`).

    Attributes
    ----------
    system : {"gcj02", "bd09"}
        The system the points were most likely in.
    before : int
        Misplaced points in the tested sample, as read.
    after : int
        Misplaced points in the same sample once converted from ``system`` to WGS-84.
    """

    system: str
    before: int
    after: int

    @property
    def fixed_share(self) -> float:
        """Share of the misplaced points the conversion puts right."""
        return 1.0 - self.after / max(self.before, 1)

    @property
    def label(self) -> str:
        """The system and who uses it, for messages."""
        return "GCJ-02 (Amap/Tencent)" if self.system == "gcj02" else "BD-09 (Baidu)"


def detect_web_offset(
    points, bad, still_bad: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> WebOffset | None:
    """Guess whether points declared WGS-84 are GCJ-02 (Amap, Tencent) or BD-09 (Baidu) points.

    Web-map coordinates are offset by a few hundred metres, so read as WGS-84 many points land
    off the walking network or outside every community. When at least
    :data:`~gridplan.norms.COORDS_SUSPECT_SHARE` of the points (and
    :data:`~gridplan.norms.COORDS_SUSPECT_MIN_ROWS`) are misplaced, a fixed sample of all points
    is converted to WGS-84 from each system in turn; the system that puts right at least
    :data:`~gridplan.norms.COORDS_CONFIRM_SHARE` of the sample's misplaced points (counting
    points the conversion misplaces) is the answer.

    Parameters
    ----------
    points : GeoSeries
        The points as read, any CRS.
    bad : array of bool
        Which points are misplaced as read (the caller's test: off the network, outside every
        community).
    still_bad : callable
        ``still_bad(lon, lat)``: the same test on WGS-84 degrees, one bool per point.

    Returns
    -------
    WebOffset or None
        ``None`` when few points are misplaced or no conversion explains them.
    """
    import shapely

    bad = np.asarray(bad, dtype=bool)
    n = bad.size
    if n == 0 or bad.sum() < max(COORDS_SUSPECT_SHARE * n, COORDS_SUSPECT_MIN_ROWS):
        return None
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(n, _OFFSET_SAMPLE, replace=False)) if n > _OFFSET_SAMPLE else np.arange(n)
    pts = shapely.point_on_surface(points.iloc[sample].to_crs(4326).values.to_numpy())
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    before = int(bad[sample].sum())
    if before == 0:
        return None
    for src in ("gcj02", "bd09"):
        after = int(np.count_nonzero(still_bad(*convert_xy(lon, lat, src, "wgs84"))))
        if after <= (1.0 - COORDS_CONFIRM_SHARE) * before:
            return WebOffset(src, before, after)
    return None
