"""Warnings of a coverage run: centres off the network, web-map points read as WGS-84."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import GridplanWarning, format_rows
from gridplan.io.coords import detect_web_offset
from gridplan.io.join import polygon_ids
from gridplan.network.graph import WalkNetwork

__all__ = ["warn_far_facilities", "warn_web_offset"]


def warn_far_facilities(
    net: WalkNetwork, fac: gpd.GeoDataFrame, fac_snap: pd.DataFrame, max_snap_m: float, file: str
) -> None:
    """A centre farther than ``max_snap_m`` from every walkway covers nobody: say which.

    Warns
    -----
    GridplanWarning
        Listing each such centre's id and distance to the nearest walkway.
    """
    off = fac_snap["off_network"].to_numpy()
    if not off.any():
        return
    far = net.snap(fac[off], max_snap_m=np.inf)["snap_m"].to_numpy()
    ids = fac["facility_id"].to_numpy()[off]
    listed = format_rows(
        [f"{i} ({d:,.0f} m)" if np.isfinite(d) else f"{i} (no walkway)" for i, d in zip(ids, far)]
    )
    warnings.warn(
        f"{file}: {int(off.sum())} centre(s) lie more than {max_snap_m:g} m from every walkway "
        f"and cover nobody: {listed}. Fix: check their coordinates (--coords gcj02/bd09 for "
        f"Amap/Baidu points), extend the walking network to them, or raise --max-snap. "
        f"{int(off.sum())} 个服务中心距路网超过 {max_snap_m:g} 米，不计覆盖：{listed}",
        GridplanWarning,
        stacklevel=3,
    )


def warn_web_offset(
    households: gpd.GeoDataFrame,
    net: WalkNetwork,
    bad: np.ndarray,
    weights: np.ndarray,
    communities: gpd.GeoDataFrame | None,
    max_snap_m: float,
    file: str,
) -> None:
    """Warn when the points look like GCJ-02 (Amap, Tencent) or BD-09 (Baidu) coordinates.

    ``bad`` marks rows off the network or outside every community (``communities`` given only
    when some row is outside one); the test is :func:`gridplan.io.coords.detect_web_offset`.

    Warns
    -----
    GridplanWarning
        Naming the rows, the likely system and the ``--coords`` that fixes it.
    """

    def still_bad(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        pts = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(net.crs)
        after = net.snap(pts, max_snap_m=max_snap_m)["off_network"].to_numpy()
        if communities is not None:
            after = after | pd.isna(polygon_ids(pts, communities, "community_id"))
        return after

    guess = detect_web_offset(households.geometry, bad, still_bad)
    if guess is None:
        return
    n = len(households)
    src = guess.system
    rows = np.flatnonzero(bad)
    where = (
        "off the walking network or outside every community"
        if communities is not None
        else "off the walking network"
    )
    warnings.warn(
        f"{file}: {len(rows):,} of {n:,} rows ({int(weights[bad].sum()):,} households) are "
        f"{where} (rows {format_rows(rows.tolist())}), but "
        f"{guess.fixed_share:.0%} of them would be within {max_snap_m:g} m "
        f"of a walkway{' and inside a community' if communities is not None else ''} if "
        f"the points were {guess.label} coordinates, which are "
        f"offset by a few hundred metres from WGS-84. Fix: read the households with "
        f'--coords {src} (coords="{src}"). {len(rows):,} 行户点距路网过远或不在社区内，'
        f"疑似 {src.upper()} 坐标：请使用 --coords {src}",
        GridplanWarning,
        stacklevel=3,
    )
