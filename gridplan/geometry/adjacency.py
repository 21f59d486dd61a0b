"""Geometry of units: barrier zones, Voronoi cells and shared-boundary adjacency of cells.

All work is vectorised with shapely 2 (STRtree candidate pairs, ``intersection`` of boundaries
over all pairs at once).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["shared_boundaries", "zones", "voronoi_cells"]

#: Shared boundaries shorter than this (metres) count as touching at a point, not as adjacency.
MIN_SHARED_M = 1e-3


def shared_boundaries(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` of polygons sharing a boundary of positive length, with that length (m)."""
    cells = np.asarray(cells, dtype=object)
    if len(cells) < 2:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0)
    tree = shapely.STRtree(cells)
    i, j = tree.query(cells, predicate="intersects")
    m = i < j
    i, j = i[m], j[m]
    bnd = shapely.boundary(cells)
    length = shapely.length(shapely.intersection(bnd[i], bnd[j]))
    keep = length > MIN_SHARED_M
    return i[keep].astype(np.int64), j[keep].astype(np.int64), length[keep]


def zones(polygon, barriers) -> np.ndarray:
    """Split ``polygon`` by barrier lines into zones (polygons), in a deterministic order.

    Barrier lines that do not cross the polygon from edge to edge (dangling ends) do not split it.
    """
    if barriers is None or len(barriers) == 0:
        parts = shapely.get_parts(polygon)
        return _order(parts)
    lines = shapely.intersection(np.asarray(barriers, dtype=object), polygon)
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return _order(shapely.get_parts(polygon))
    noded = shapely.union_all(np.r_[np.asarray(lines, dtype=object), [shapely.boundary(polygon)]])
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    # polygonize also returns the holes of the polygon as faces: keep faces inside it
    inside = shapely.contains(polygon, shapely.point_on_surface(polys))
    polys = polys[inside]
    if len(polys) == 0:
        return _order(shapely.get_parts(polygon))
    # polygonize rebuilds faces from noded lines; clip back to the original to keep the tiling exact
    polys = shapely.intersection(polys, polygon)
    polys = np.concatenate([shapely.get_parts(p) for p in polys]) if len(polys) else polys
    polys = polys[shapely.area(polys) > 0]
    return _order(polys)


def _order(polys: np.ndarray) -> np.ndarray:
    """North-west first: by descending y then ascending x of a point on the surface."""
    polys = np.asarray(polys, dtype=object)
    rp = shapely.point_on_surface(polys)
    order = np.lexsort((shapely.get_x(rp), -shapely.get_y(rp)))
    return polys[order]


def voronoi_cells(xy: np.ndarray, polygon) -> np.ndarray:
    """Voronoi cell of each (distinct) point, clipped to ``polygon``; same order as ``xy``."""
    n = len(xy)
    if n == 0:
        return np.empty(0, dtype=object)
    if n == 1:
        return np.array([polygon], dtype=object)
    pts = shapely.points(xy)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=polygon))
    pi, vi = shapely.STRtree(vor).query(pts, predicate="intersects")
    # a point on a cell edge can hit two cells; keep the first cell in (point, cell) order
    order = np.lexsort((vi, pi))
    pi, vi = pi[order], vi[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    cells = np.empty(n, dtype=object)
    cells[pi[first]] = vor[vi[first]]
    return shapely.intersection(cells, polygon)
