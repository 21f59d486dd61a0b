"""Line work of the city's own features, from which grid pieces are made.

Planners draw grid lines along streets, estate walls and building outlines, never through a
building. The lines here are: the community boundary, barriers, streets, estate outlines, the
footprint outlines and, between loose buildings of one street block, the edges of a
tessellation of the footprints (as :func:`momepy.enclosed_tessellation`: every bit of a block
goes to its nearest building, so the lines between two buildings run half-way between their
walls, not between their centroids, and never across a street; see
:func:`tessellation_lines` for why it is not momepy's own). Every line but the footprint outlines
is cut away inside the footprints, so that each footprint is one face of the noded line work.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["TESSELLATION_SEGMENT_M", "feature_lines", "solid", "tessellation_lines"]

#: Densification step of the footprint outlines in the tessellation (m): coarser than momepy's
#: default (0.5 m) because grid lines need no more precision and time grows with the points.
TESSELLATION_SEGMENT_M = 2.0


def _lines(geoms, polygon) -> list:
    """Line parts of ``geoms`` inside ``polygon`` (polygons give their outlines)."""
    if geoms is None or len(geoms) == 0:
        return []
    g = np.asarray(geoms, dtype=object)
    poly = np.isin(shapely.get_type_id(g), [3, 6])
    g = np.where(poly, shapely.boundary(g), g)
    out = shapely.intersection(g, polygon)
    return list(out[~shapely.is_empty(out)])


def solid(footprints):
    """The union of the footprints (the ground no grid line may cross), or None."""
    if footprints is None or len(footprints) == 0:
        return None
    return shapely.union_all(np.asarray(footprints, dtype=object))


def _points(lines, seg: float) -> np.ndarray:
    """Vertices of ``lines`` densified to ``seg`` metres, with the index of their line."""
    dense = shapely.segmentize(np.asarray(lines, dtype=object), seg)
    xy, idx = shapely.get_coordinates(dense, return_index=True)
    return np.c_[xy, idx]


def tessellation_lines(footprints, walls, cut) -> list:
    """Edges between the footprints of a tessellation bounded by walls, footprints cut away.

    Every point of a street block (a face of the walls: community boundary, streets, barriers,
    estate outlines) goes to the nearest footprint outline of that block: the morphological
    tessellation of :func:`momepy.enclosed_tessellation`, computed from one Voronoi diagram of
    the densified outlines per community, its edges kept between buildings of one block and
    clipped to it. momepy itself builds one diagram per street block through
    libpysal (80 ms a block here): the sample district took 5x longer to plan.

    Parameters
    ----------
    footprints : array of Polygon
        Metric, valid.
    walls : array of lines
        Lines no tessellation edge crosses.
    cut : Geometry
        The union of the footprints.

    Returns
    -------
    list of lines
    """
    from scipy.spatial import Voronoi

    fp = np.asarray(footprints, dtype=object)
    if len(fp) < 2:
        return []
    noded = shapely.union_all(np.asarray(walls, dtype=object), grid_size=1e-3)
    blocks = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if not len(blocks):
        return []
    block_of = np.full(len(fp), -1, dtype=np.int64)
    bi, fi = shapely.STRtree(fp).query(blocks, predicate="contains_properly")
    block_of[fi] = bi
    miss = np.flatnonzero(block_of < 0)  # footprints across a wall: the block of a point in it
    if len(miss):
        bi, fi = shapely.STRtree(shapely.point_on_surface(fp[miss])).query(
            blocks, predicate="contains")
        block_of[miss[fi]] = bi
    pts = _points(shapely.boundary(fp), TESSELLATION_SEGMENT_M)
    # one generator per location (qhull rejects coincident points): the first label wins
    _, first = np.unique(np.round(pts[:, :2], 2), axis=0, return_index=True)
    pts = pts[np.sort(first)]
    lab = pts[:, 2].astype(np.int64)
    if len(pts) < 4 or len(np.unique(lab)) < 2:
        return []
    vor = Voronoi(pts[:, :2], qhull_options="Qbb Qc Qz")
    rp = vor.ridge_points
    rv = np.asarray(vor.ridge_vertices, dtype=np.int64)
    a, b = lab[rp[:, 0]], lab[rp[:, 1]]
    # only between two buildings of one street block: a wall stops the tessellation
    m = (a != b) & (block_of[a] == block_of[b]) & (block_of[a] >= 0) & (rv >= 0).all(axis=1)
    if not m.any():
        return []
    seg = shapely.intersection(shapely.linestrings(vor.vertices[rv[m]]), blocks[block_of[a[m]]])
    edges = shapely.line_merge(shapely.union_all(seg[~shapely.is_empty(seg)]))
    edges = shapely.difference(edges, cut)
    return [] if shapely.is_empty(edges) else list(shapely.get_parts(edges))


def feature_lines(polygon, *, barriers=None, streets=None, estates=None, footprints=None
                  ) -> list:
    """All lines of the features of one community, footprints kept whole.

    Parameters
    ----------
    polygon : Polygon or MultiPolygon
        The community (metric).
    barriers, streets : array of lines, optional
    estates : array of Polygon, optional
        Estate polygons (their outlines are walls).
    footprints : array of Polygon, optional
        Building footprints, already clipped to the community.

    Returns
    -------
    list of lines
        Community boundary first; not noded.
    """
    base = [shapely.boundary(polygon)]
    feats = _lines(barriers, polygon) + _lines(streets, polygon) + _lines(estates, polygon)
    cut = solid(footprints)
    if cut is None:
        return base + feats
    walls = np.asarray(base + feats, dtype=object)
    feats = [g for g in shapely.difference(np.asarray(feats, dtype=object), cut)
             if not shapely.is_empty(g)] if feats else []
    tess = shapely.intersection(np.asarray(tessellation_lines(footprints, walls, cut),
                                           dtype=object), polygon)
    tess = list(tess[~shapely.is_empty(tess)])
    return base + feats + list(shapely.boundary(np.asarray(footprints, dtype=object))) + tess
