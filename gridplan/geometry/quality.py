"""How well grid lines follow the city: the figures a planner checks before signing a plan.

Planners draw grids "按照小区界线、路弄范围": along estate walls, lanes and streets, with every
building wholly in one grid. These functions measure a set of grid polygons against the
footprints, estates and street lines they were drawn from, in metres of one projected CRS:

- ``buildings_cut``: footprints with less than :data:`WHOLE_SHARE` of their area in any one grid
  (a building split on purpose, by entrance, is not counted);
- ``estates_cut``: estates whose households all belong to one grid but whose polygon lies less
  than :data:`WHOLE_SHARE` inside it;
- ``boundary_on_features``: the share of grid-boundary length, without the community boundary,
  that lies within :data:`ON_FEATURE_M` of a street, wall (estate outline), footprint outline
  or barrier.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.geometry.adjacency import boundary_share_near

__all__ = [
    "WHOLE_SHARE",
    "ON_FEATURE_M",
    "buildings_cut",
    "estates_cut",
    "boundary_on_features",
    "boundary_lengths",
    "enclosed_grids",
    "geometry_quality",
]

#: A footprint or an estate counts as whole in a grid when this share of its area is inside.
WHOLE_SHARE = 0.99
#: A grid line within this distance (metres) of a street, wall or outline lies "on" it.
ON_FEATURE_M = 5.0
_STEP_M = 1.0  # m; grid lines are measured in pieces of at most this length


def _best_share(parts: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """For each polygon of ``parts``, the largest share of its area inside one grid."""
    area = shapely.area(parts)
    best = np.zeros(len(parts))
    if not len(parts) or not len(grids):
        return best
    p, g = shapely.STRtree(grids).query(parts, predicate="intersects")
    inter = shapely.area(shapely.intersection(parts[p], grids[g]))
    share = np.divide(inter, area[p], out=np.zeros(len(p)), where=area[p] > 0)
    np.maximum.at(best, p, share)
    return best


def buildings_cut(
    grids: gpd.GeoSeries, footprints: gpd.GeoSeries, split_on_purpose: np.ndarray | None = None
) -> np.ndarray:
    """Positions of the footprints cut by a grid line (see the module docstring).

    Parameters
    ----------
    grids, footprints : GeoSeries
        In the same projected CRS.
    split_on_purpose : array of bool, optional
        Aligned to ``footprints``: buildings divided by entrance on purpose, never counted.
    """
    share = _best_share(np.asarray(footprints.values), np.asarray(grids.values))
    cut = share < WHOLE_SHARE
    if split_on_purpose is not None:
        cut &= ~np.asarray(split_on_purpose, dtype=bool)
    return np.flatnonzero(cut)


def estates_cut(grids: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, estate_grids: pd.Series) -> list[str]:
    """Ids of estates held by one grid whose polygon lies less than 99% inside that grid.

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_id`` and polygons (projected).
    estates : GeoDataFrame
        ``estate_id`` and polygons (same CRS).
    estate_grids : Series
        ``estate_id`` -> the set of grid ids its households belong to.
    """
    single = {e: next(iter(g)) for e, g in estate_grids.items() if len(g) == 1}
    est = estates[estates["estate_id"].isin(single)]
    if not len(est):
        return []
    poly = grids.set_index("grid_id").geometry
    target = poly.reindex([single[e] for e in est["estate_id"]]).values
    area = shapely.area(est.geometry.values)
    inside = shapely.area(shapely.intersection(est.geometry.values, target))
    share = np.divide(inside, area, out=np.ones(len(area)), where=area > 0)
    return sorted(est["estate_id"].to_numpy(object)[share < WHOLE_SHARE].tolist())


def enclosed_grids(grids: np.ndarray) -> np.ndarray:
    """Which grids lie in a hole of another grid: an island (飞地) that its grid worker reaches
    only through the grid around it, and that a planner would rather give a side on a street.

    Parameters
    ----------
    grids : array of Polygon or MultiPolygon
        The grids of one set (one community or all), not overlapping.

    Returns
    -------
    ndarray of bool
        Aligned to ``grids``.
    """
    g = np.asarray(grids, dtype=object)
    out = np.zeros(len(g), dtype=bool)
    parts, owner = shapely.get_parts(g, return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)
    hole = np.r_[False, part[1:] == part[:-1]]  # a part's first ring is its exterior
    if not hole.any():
        return out
    holes = shapely.polygons(rings[hole])
    inside, h = shapely.STRtree(holes).query(shapely.point_on_surface(g), predicate="within")
    # a grid that does not overlap the grid around the hole and has a point in it lies in it
    out[inside[owner[part[hole]][h] != inside]] = True
    return out


def boundary_on_features(
    grids: gpd.GeoSeries, communities: gpd.GeoSeries, features: Iterable[gpd.GeoSeries]
) -> float | None:
    """Share of grid-boundary length, community boundary left out, on a feature (or None when
    no grid line is drawn inside a community): :func:`boundary_lengths` divided."""
    on, total = boundary_lengths(grids, communities, features)
    return None if total <= 0 else on / total


def boundary_lengths(
    grids: gpd.GeoSeries, communities: gpd.GeoSeries, features: Iterable[gpd.GeoSeries]
) -> tuple[float, float]:
    """Metres of grid line, community boundary left out, on a feature, and in all.

    The lengths add up over communities (a grid line lies inside one community), so a city's
    share is the sum of its communities' metres on features over the sum of their metres.

    The grid lines are cut into pieces of at most :data:`_STEP_M` metres, and a piece counts as
    on a feature when its midpoint is within :data:`ON_FEATURE_M` of one (an R-tree query, the
    one the partition scores its lines with: :func:`~gridplan.geometry.adjacency.boundary_share_near`):
    a union of buffers around every street of a city costs minutes, this seconds, and the two
    agree within the step (``tests/geometry/test_quality.py``).
    """
    inner = shapely.difference(
        shapely.union_all(shapely.boundary(np.asarray(grids.values))),
        shapely.union_all(shapely.buffer(shapely.boundary(np.asarray(communities.values)), 0.5)),
    )
    total = float(shapely.length(inner))
    if total <= 0:
        return 0.0, 0.0
    lines = [
        shapely.boundary(np.asarray(f.values))
        if f.geom_type.isin(["Polygon", "MultiPolygon"]).any()
        else np.asarray(f.values)
        for f in features
        if len(f)
    ]
    if not lines:
        return 0.0, total
    share = boundary_share_near(
        np.array([inner], dtype=object), np.array([total]), np.concatenate(lines), ON_FEATURE_M, step=_STEP_M
    )
    return float(share[0]) * total, total


def geometry_quality(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    estates: gpd.GeoDataFrame | None = None,
    estate_grids: pd.Series | None = None,
    streets: gpd.GeoSeries | None = None,
    barriers: gpd.GeoSeries | None = None,
    split_buildings: Iterable[str] = (),
) -> dict:
    """The three figures of the module docstring, for one set of grids (one community or all).

    Every layer must be in the same projected CRS. Layers not given are left out of the figures
    that need them (``None`` when a figure cannot be computed at all).

    Returns
    -------
    dict
        ``buildings_cut`` (count), ``buildings_cut_ids`` (all), ``estates_cut`` (count),
        ``estates_cut_ids`` (all), ``boundary_on_features`` (share, rounded to 4 decimals), and
        the metres behind it: ``boundary_on_features_m`` and ``boundary_m``.
    """
    out: dict = {
        "buildings_cut": None,
        "buildings_cut_ids": [],
        "estates_cut": None,
        "estates_cut_ids": [],
        "boundary_on_features": None,
        "boundary_on_features_m": 0.0,
        "boundary_m": 0.0,
    }
    if buildings is not None and len(buildings):
        ids = (
            buildings["building_id"].astype(str).to_numpy(object)
            if "building_id" in buildings
            else np.arange(len(buildings)).astype(str)
        )
        cut = buildings_cut(grids.geometry, buildings.geometry, np.isin(ids, list(split_buildings)))
        out["buildings_cut"] = int(len(cut))
        out["buildings_cut_ids"] = ids[cut].tolist()
    if estates is not None and len(estates) and estate_grids is not None:
        cut_e = estates_cut(grids, estates, estate_grids)
        out["estates_cut"], out["estates_cut_ids"] = len(cut_e), cut_e
    features = [
        f
        for f in (
            streets,
            barriers,
            None if estates is None else estates.geometry,
            None if buildings is None else buildings.geometry,
        )
        if f is not None
    ]
    on, total = boundary_lengths(grids.geometry, communities.geometry, features)
    out["boundary_on_features"] = None if total <= 0 else round(on / total, 4)
    out["boundary_on_features_m"], out["boundary_m"] = on, total
    return out
