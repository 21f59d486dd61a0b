"""Candidate sites: walking-network nodes on a lattice over the demand, the user's own sites."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gridplan.errors import InputError
from gridplan.norms import SITING_SPACING_M

__all__ = ["candidate_area", "candidate_sites", "floor_areas"]


def floor_areas(frame: pd.DataFrame, default: float, file: str) -> np.ndarray:
    """Floor areas (m²) from ``area_m2``; missing -> ``default`` (NaN default = unknown).

    Raises
    ------
    InputError
        An area that is zero or negative (rows listed).
    """
    if "area_m2" not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    a = pd.to_numeric(frame["area_m2"], errors="coerce").to_numpy(dtype=float)
    bad = np.isfinite(a) & (a <= 0)
    if bad.any():
        raise InputError(
            "area_m2 must be positive",
            file=file,
            column="area_m2",
            rows=np.flatnonzero(bad).tolist(),
            fix="correct or blank these areas",
            message_zh="面积必须为正数",
        )
    return np.where(np.isfinite(a), a, default)


def candidate_area(points_metric: gpd.GeoSeries, rows: np.ndarray, spacing_m: float):
    """Where lattice candidates may stand: the convex hull of ``rows`` buffered by a spacing.

    Parameters
    ----------
    points_metric : GeoSeries
        Household points in the network's metric CRS.
    rows : ndarray of int
        The households the candidates are for (demand, else those on the network).
    spacing_m : float

    Returns
    -------
    shapely geometry
        Empty when ``rows`` is empty.
    """
    if not rows.size:
        return shapely.Polygon()
    return shapely.convex_hull(
        shapely.multipoints(shapely.get_coordinates(points_metric.values.to_numpy()[rows]))
    ).buffer(spacing_m)


def candidate_sites(
    network,
    area,
    *,
    spacing_m: float = SITING_SPACING_M,
    candidates: gpd.GeoDataFrame | None = None,
    network_nodes: bool = True,
) -> gpd.GeoDataFrame:
    """Candidate sites: network nodes on a lattice over ``area``, user sites, or both.

    Parameters
    ----------
    network : WalkNetwork
    area : shapely geometry or GeoDataFrame/GeoSeries
        Where candidates may stand (e.g. the convex hull of the households); a geometry is taken
        to be in the network's metric CRS.
    spacing_m : float
        Lattice spacing; each lattice point inside ``area`` picks its nearest network node
        (KD-tree), duplicates removed.
    candidates : GeoDataFrame of points, optional
        The user's sites: optional ``candidate_id``, ``name``, ``area_m2``.
    network_nodes : bool
        Include the lattice nodes.

    Returns
    -------
    GeoDataFrame
        In the network's CRS: ``candidate_id``, ``source`` (network_node/user), ``name``,
        ``area_m2`` (NaN when unknown), point geometry.
    """
    if spacing_m <= 0:
        raise InputError(
            "spacing must be positive", fix="e.g. --spacing 150", message_zh="候选点间距必须为正数"
        )
    parts = []
    if network_nodes and network.n_nodes:
        parts.append(_lattice_nodes(network, area, spacing_m))
    if candidates is not None and len(candidates):
        parts.append(_user_sites(network, candidates))
    if not parts:
        return gpd.GeoDataFrame(
            {"candidate_id": [], "source": [], "name": [], "area_m2": []}, geometry=[], crs=network.crs
        )
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=network.crs)


def _lattice_nodes(network, area, spacing_m: float) -> gpd.GeoDataFrame:
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        area = shapely.union_all(area.to_crs(network.crs).geometry.values.to_numpy())
    xmin, ymin, xmax, ymax = area.bounds
    # Lattice anchored on multiples of the spacing, so a bigger area keeps the same points.
    xs = np.arange(math.floor(xmin / spacing_m), math.ceil(xmax / spacing_m) + 1) * spacing_m
    ys = np.arange(math.floor(ymin / spacing_m), math.ceil(ymax / spacing_m) + 1) * spacing_m
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(area, gx, gy) | shapely.intersects_xy(area, gx, gy)
    _, node = cKDTree(network.node_xy).query(np.column_stack([gx[inside], gy[inside]]))
    node = np.unique(node)
    xy = network.node_xy[node]
    return gpd.GeoDataFrame(
        {"candidate_id": [f"N{n}" for n in node], "source": "network_node", "name": None, "area_m2": np.nan},
        geometry=shapely.points(xy),
        crs=network.crs,
    )


def _user_sites(network, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    user = candidates.to_crs(network.crs)
    if "candidate_id" in user.columns:
        ids = user["candidate_id"].astype(str)
        dup = ids.duplicated(keep=False)
        if dup.any():
            raise InputError(
                "candidate_id values are not unique",
                file="candidates",
                column="candidate_id",
                rows=np.flatnonzero(dup.to_numpy()).tolist(),
                fix="give every candidate site its own id",
                message_zh="candidate_id 有重复",
            )
    else:
        ids = pd.Series([f"U{i + 1:03d}" for i in range(len(user))], index=user.index)
    bad = user.geometry.isna() | user.geometry.is_empty
    if bad.any():
        raise InputError(
            "candidate sites without a location",
            file="candidates",
            rows=np.flatnonzero(bad.to_numpy()).tolist(),
            fix="give every candidate a point",
            message_zh="候选点缺少坐标",
        )
    geom = user.geometry.values.to_numpy()
    geom = np.where(shapely.get_type_id(geom) == 0, geom, shapely.point_on_surface(geom))
    return gpd.GeoDataFrame(
        {
            "candidate_id": ids.to_numpy(dtype=object),
            "source": "user",
            "name": user["name"].astype(object).to_numpy() if "name" in user.columns else None,
            "area_m2": floor_areas(user, np.nan, "candidates"),
        },
        geometry=geom,
        crs=network.crs,
    )
