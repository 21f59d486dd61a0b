"""Geometry of units: barrier zones, Voronoi cells and the shared-boundary adjacency of cells.

:func:`shared_boundaries` is the one adjacency builder of the package: the partition measures its
pieces with it (exactly, they come from one noding), and :func:`unit_adjacency` gives the unit
graph of cells read back from files (plan edits, reconciliation) with one snapping tolerance and
one minimum shared length. All work is vectorised with shapely 2 (STRtree candidate pairs,
``intersection`` of boundaries over all pairs at once).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import shapely
from scipy import sparse
from scipy.spatial import KDTree

from gridplan.norms import UNIT_ADJACENCY_MIN_EDGE_M

__all__ = [
    "MIN_SHARED_M",
    "SNAP_M",
    "SharedEdges",
    "boundary_share_near",
    "edge_share_near",
    "shared_boundaries",
    "shared_edges",
    "unit_adjacency",
    "voronoi_cells",
    "zones",
]

#: Shared boundaries shorter than this (metres) count as touching at a point, not as adjacency.
MIN_SHARED_M = 1e-3
#: Cells that went through a reprojection (WGS-84 files and back) no longer share their edges
#: exactly: a straight edge of one cell and the same edge of its neighbour with an extra vertex
#: part by millimetres. Boundary within this distance (m) of the neighbour's counts as shared.
SNAP_M = 0.05
#: Longest gap (m) between the points :func:`_near` takes on the lines, at least: points farther
#: than half of it beyond the distance from all of them are beyond the distance from the lines.
_SAMPLE_M = 1.0
#: A point this much (m) nearer than the distance to a point on a line, or farther than the
#: distance from the line, is so beyond any rounding of GEOS's own distance (errors of about
#: 1e-12 m at city coordinates)
_SURE_M = 1e-6


def shared_boundaries(
    cells: np.ndarray, tolerance: float = 0.0, *, lines: bool = False, among: np.ndarray | None = None
) -> tuple:
    """Pairs of polygons sharing a boundary of positive length, with that length.

    Parameters
    ----------
    cells : array of Polygon
        In a metric CRS.
    tolerance : float
        0 (default) for cells of one noding, whose shared edges are identical: the exact
        intersection of their boundaries. Above 0, the length of each cell's boundary within
        ``tolerance`` metres of the other's (cells read back from files: :data:`SNAP_M`).

    lines : bool
        Also return the shared boundaries themselves (``tolerance`` 0 only).
    among : ndarray of bool, optional
        Only the pairs with at least one cell marked here, ordered by ``(i, j)`` (without it,
        in the order of the R-tree query); each length is the same as without it.

    Returns
    -------
    i, j : ndarray of int64
        Pairs ``i < j``.
    length : ndarray of float
        Shared boundary (m), above :data:`MIN_SHARED_M`.
    shared : ndarray of Geometry
        Only with ``lines``: the shared boundary of every pair.
    """
    cells = np.asarray(cells, dtype=object)
    if len(cells) < 2:
        e = np.empty(0, dtype=np.int64)
        return (e, e, np.empty(0)) + ((np.empty(0, dtype=object),) if lines else ())
    tree = shapely.STRtree(cells)
    some = np.arange(len(cells)) if among is None else np.flatnonzero(among)
    if tolerance > 0:
        i, j = tree.query(cells[some], predicate="dwithin", distance=tolerance)
    else:
        i, j = tree.query(cells[some], predicate="intersects")
    i = some[i]
    if among is None:
        m = i < j
        i, j = i[m], j[m]
    else:
        # a pair of two marked cells comes twice, once from each side
        ij = np.unique(np.stack([np.minimum(i, j), np.maximum(i, j)], 1)[i != j], axis=0)
        i, j = ij[:, 0], ij[:, 1]
    need = np.zeros(len(cells), dtype=bool)
    need[i] = need[j] = True
    bnd = np.empty(len(cells), dtype=object)
    bnd[need] = shapely.boundary(cells[need])
    if tolerance > 0:
        # a coarse buffer is enough: it only has to hold the neighbour's edge, not measure area
        halo = shapely.buffer(bnd, tolerance, quad_segs=1)
        shared = shapely.intersection(bnd[i], halo[j])
        length = shapely.length(shared)
    else:
        shared = shapely.intersection(bnd[i], bnd[j])
        length = shapely.length(shared)
    keep = length > MIN_SHARED_M
    out = (i[keep].astype(np.int64), j[keep].astype(np.int64), length[keep])
    return out + (shared[keep],) if lines else out


def boundary_share_near(
    shared: np.ndarray, length: np.ndarray, lines: np.ndarray, distance: float, step: float | None = None
) -> np.ndarray:
    """Share of every shared boundary within ``distance`` of ``lines``.

    Each segment of a shared boundary counts whole by its midpoint; ``step`` (m) first cuts the
    boundaries into segments no longer than that, so that a long straight edge that only partly
    runs along a line counts in part.

    Parameters
    ----------
    shared : array of lines
        Shared boundaries (:func:`shared_boundaries` with ``lines=True``).
    length : ndarray of float
        Their lengths.
    lines : array of Geometry
        The lines to be near.
    distance : float
        Metres.
    step : float, optional
        Longest segment (m); None keeps the noded segments.

    Returns
    -------
    ndarray of float
        In [0, 1], aligned to ``shared``.
    """
    if not len(shared) or lines is None or not len(lines):
        return np.zeros(len(shared))
    if step is not None:
        shared = shapely.segmentize(shared, step)
    parts, edge = shapely.get_parts(shared, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    seg = np.flatnonzero(part[:-1] == part[1:])
    seg_len = np.hypot(*(xy[seg + 1] - xy[seg]).T)
    on = _near((xy[seg] + xy[seg + 1]) / 2, lines, distance)
    total = np.bincount(edge[part[seg]], weights=seg_len * on, minlength=len(shared))
    return np.clip(np.divide(total, length, out=np.zeros(len(shared)), where=length > 0), 0, 1)


class SharedEdges(NamedTuple):
    """Pairs of faces of one noding and the segments of their shared boundaries.

    Attributes
    ----------
    i, j : ndarray of int64
        Pairs ``i < j``, sorted.
    length : ndarray of float
        Shared boundary of every pair (m).
    start, end : ndarray (m, 2)
        The shared segments.
    pair : ndarray of int64
        The pair (position in ``i``, ``j``) of every segment.
    """

    i: np.ndarray
    j: np.ndarray
    length: np.ndarray
    start: np.ndarray
    end: np.ndarray
    pair: np.ndarray


def shared_edges(cells: np.ndarray) -> SharedEdges:
    """Shared boundaries of polygons of one noding, matched segment by segment.

    Faces polygonized from one noded line work share their edges vertex for vertex, so two faces
    are neighbours exactly where the same segment (same end coordinates, bit for bit) lies on
    both their boundaries: a sort of all boundary segments finds them, with no geometric
    intersection (:func:`shared_boundaries` with ``tolerance=0`` gives the same pairs and
    lengths, several times slower).

    Parameters
    ----------
    cells : array of Polygon
        Faces of one noding (their unions by ``coverage_union`` keep the vertices too).

    Returns
    -------
    SharedEdges
        Pairs with at least :data:`MIN_SHARED_M` of shared boundary.
    """
    cells = np.asarray(cells, dtype=object)
    parts, cell = shapely.get_parts(shapely.boundary(cells), return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    seg = np.flatnonzero(part[:-1] == part[1:])
    a, b, owner = xy[seg], xy[seg + 1], cell[part[seg]]
    # each segment once, from its lower end: both faces then list it alike
    swap = (b[:, 0] < a[:, 0]) | ((b[:, 0] == a[:, 0]) & (b[:, 1] < a[:, 1]))
    a, b = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    order = np.lexsort((owner, b[:, 1], b[:, 0], a[:, 1], a[:, 0]))
    a, b, owner = a[order], b[order], owner[order]
    same = (a[1:] == a[:-1]).all(axis=1) & (b[1:] == b[:-1]).all(axis=1) & (owner[1:] != owner[:-1])
    k = np.flatnonzero(same)
    u, v = owner[k], owner[k + 1]
    a, b = a[k], b[k]
    seg_len = np.hypot(*(b - a).T)
    # one integer key per pair sorts as the pairs do, several times faster than rows
    n = max(len(cells), 1)
    keys, pair = np.unique(u * n + v, return_inverse=True)
    pairs = np.stack([keys // n, keys % n], 1)
    pair = pair.ravel()
    length = np.bincount(pair, weights=seg_len, minlength=len(pairs))
    keep = length > MIN_SHARED_M
    renum = np.cumsum(keep) - 1
    m = keep[pair]
    return SharedEdges(
        pairs[keep, 0].astype(np.int64),
        pairs[keep, 1].astype(np.int64),
        length[keep],
        a[m],
        b[m],
        renum[pair[m]].astype(np.int64),
    )


def edge_share_near(edges: SharedEdges, lines, distance: float, step: float | None = None) -> np.ndarray:
    """:func:`boundary_share_near` on :func:`shared_edges`: the share of every pair's shared
    boundary within ``distance`` of ``lines``, each segment (cut into equal parts no longer
    than ``step`` metres) counting whole by its midpoint.

    Parameters
    ----------
    edges : SharedEdges
    lines : array of Geometry or None
    distance : float
        Metres.
    step : float, optional
        Longest part (m); None keeps the segments whole.

    Returns
    -------
    ndarray of float
        In [0, 1], aligned to ``edges.i``.
    """
    n = len(edges.i)
    if not n or lines is None or not len(lines):
        return np.zeros(n)
    a, b, pair = edges.start, edges.end, edges.pair
    seg_len = np.hypot(*(b - a).T)
    cuts = (
        np.ones(len(a), dtype=np.int64)
        if step is None
        else np.maximum(np.ceil(seg_len / step), 1).astype(np.int64)
    )
    owner = np.repeat(np.arange(len(a)), cuts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(cuts) - cuts, cuts)
    t = ((k + 0.5) / cuts[owner])[:, None]
    on = _near(a[owner] + t * (b[owner] - a[owner]), lines, distance)
    total = np.bincount(pair[owner], weights=(seg_len / cuts)[owner] * on, minlength=n)
    return np.clip(total / np.where(edges.length > 0, edges.length, 1.0), 0, 1)


def _near(xy: np.ndarray, lines, distance: float) -> np.ndarray:
    """Which points lie within ``distance`` of ``lines``: GEOS's ``dwithin`` (an R-tree query).

    Most points are plainly near or plainly far: the lines are densified to vertices at most
    ``gap`` (1.5 x ``distance``, at least :data:`_SAMPLE_M`) apart, and a point nearer than
    ``distance`` to a vertex (by :data:`_SURE_M`) is within it of the line, one farther than
    ``distance + gap / 2`` from every vertex is not. A k-d tree of the vertices (SciPy) sorts
    the points at a fraction of the cost of GEOS's exact distances, which are left for the
    others only.
    """
    lines = np.asarray(lines, dtype=object)
    out = np.zeros(len(xy), dtype=bool)
    gap = max(1.5 * distance, _SAMPLE_M)
    samples = shapely.get_coordinates(shapely.segmentize(lines, gap)) if len(xy) else np.empty((0, 2))
    todo = np.arange(len(xy))
    if len(samples):
        far = distance + gap / 2 + _SURE_M
        d, _ = KDTree(samples).query(xy, distance_upper_bound=far)
        out[d < distance - _SURE_M] = True
        todo = np.flatnonzero((d >= distance - _SURE_M) & (d <= far))
    if len(todo):
        near, _ = shapely.STRtree(lines).query(
            shapely.points(xy[todo]), predicate="dwithin", distance=distance
        )
        out[todo[near]] = True
    return out


def unit_adjacency(
    cells: np.ndarray, *, tolerance: float = SNAP_M, min_length: float = UNIT_ADJACENCY_MIN_EDGE_M
) -> sparse.csr_matrix:
    """Which units are neighbours: cells sharing at least ``min_length`` metres of boundary.

    Parameters
    ----------
    cells : array of Polygon
        Unit cells in a metric CRS (e.g. ``PartitionResult.units`` projected back).
    tolerance : float
        Snapping distance of :func:`shared_boundaries` (default :data:`SNAP_M`).
    min_length : float
        Least shared boundary (m) of neighbours (default
        :data:`gridplan.norms.UNIT_ADJACENCY_MIN_EDGE_M`): a contact at a corner only does not
        make a grid contiguous.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric n x n, the shared length (m) of every neighbouring pair.
    """
    n = len(cells)
    i, j, length = shared_boundaries(cells, tolerance)
    keep = length >= min_length
    i, j, length = i[keep], j[keep], length[keep]
    return sparse.csr_matrix((np.r_[length, length], (np.r_[i, j], np.r_[j, i])), shape=(n, n))


def zones(polygon, barriers) -> np.ndarray:
    """Split ``polygon`` by barrier lines into zones.

    Barrier lines that do not cross the polygon from edge to edge (dangling ends) do not split it.

    Parameters
    ----------
    polygon : Polygon or MultiPolygon
    barriers : array of lines or None

    Returns
    -------
    ndarray of Polygon
        The zones, north-west first.
    """
    if barriers is None or len(barriers) == 0:
        parts = shapely.get_parts(polygon)
        return _order(parts)
    lines = shapely.intersection(np.asarray(barriers, dtype=object), polygon)
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return _order(shapely.get_parts(polygon))
    noded = shapely.union_all(np.r_[np.asarray(lines, dtype=object), [shapely.boundary(polygon)]])
    polys = shapely.get_parts(shapely.polygonize([noded]))
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
    """Voronoi cell of each point, clipped to ``polygon``.

    Parameters
    ----------
    xy : ndarray (n, 2)
        Distinct points (metric).
    polygon : Polygon or MultiPolygon
        The area to cover.

    Returns
    -------
    ndarray of Polygon
        In the order of ``xy``.
    """
    n = len(xy)
    if n == 0:
        return np.empty(0, dtype=object)
    if n == 1:
        return np.array([polygon], dtype=object)
    # ordered=True (shapely >= 2.1, GEOS >= 3.12) returns the cells in the order of the points
    vor = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=polygon, ordered=True)
    return shapely.intersection(shapely.get_parts(vor), polygon)
