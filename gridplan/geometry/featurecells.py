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

__all__ = [
    "SETBACK_M",
    "TESSELLATION_SEGMENT_M",
    "feature_lines",
    "feature_linework",
    "side_rays",
    "solid",
    "tessellation_lines",
]

#: Densification step of the footprint outlines in the tessellation (m): coarser than momepy's
#: default (0.5 m) because grid lines need no more precision and time grows with the points.
TESSELLATION_SEGMENT_M = 2.0
#: Where a grid line leaves the streets and walls to pass between buildings, it may follow the
#: buildings of one side at this setback (m) instead of the half-way line of a wide gap: the
#: ground around every footprint is cut at this distance, so the partition can give the rest of
#: a courtyard or a lane to either side. Below :data:`gridplan.geometry.quality.ON_FEATURE_M`,
#: so that such a line counts as drawn along the buildings.
SETBACK_M = 3.0
#: The setback ground of a building is cut further by its sides produced outward this far (m):
#: the ground facing a lane or a courtyard becomes its own piece, apart from the ground that
#: joins the building to its neighbours along the row, so either can change grid alone.
SIDE_RAY_M = 15.0
#: A produced side ending on a street or wall nearer than this (m) to its building's corner
#: would only cut a strip too thin to matter off the setback ground.
_MIN_STOP_M = 0.5
#: Corners of two footprints closer than this (m) are one corner of a common wall.
_TOUCH_M = 1e-3


def _lines(geoms, polygon) -> list:
    """Line parts of ``geoms`` inside ``polygon`` (polygons give their outlines)."""
    if geoms is None or len(geoms) == 0:
        return []
    g = np.asarray(geoms, dtype=object)
    poly = np.isin(shapely.get_type_id(g), [3, 6])
    g = np.where(poly, shapely.boundary(g), g)
    return list(_clip(g, polygon))


def _clip(lines: np.ndarray, polygon) -> np.ndarray:
    """``shapely.intersection(lines, polygon)`` without the empty results, computed only for the
    lines a prepared ``polygon`` does not contain (most street segments lie well inside)."""
    out = np.asarray(lines, dtype=object).copy()
    shapely.prepare(polygon)
    cross = ~shapely.contains_properly(polygon, out)
    out[cross] = shapely.intersection(out[cross], polygon)
    return out[~shapely.is_empty(out)]


def _clip_each(lines: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """:func:`_clip` of every line to its own polygon (``polygons`` aligned to ``lines``)."""
    out = np.asarray(lines, dtype=object).copy()
    shapely.prepare(polygons)
    cross = ~shapely.contains_properly(polygons, out)
    out[cross] = shapely.intersection(out[cross], polygons[cross])
    return out[~shapely.is_empty(out)]


def _cut_away(lines: np.ndarray, cut) -> np.ndarray:
    """``shapely.difference(lines, cut)`` without the empty results, computed only for the lines
    that meet the prepared ``cut``."""
    out = np.asarray(lines, dtype=object).copy()
    shapely.prepare(cut)
    hit = shapely.intersects(cut, out)
    out[hit] = shapely.difference(out[hit], cut)
    return out[~shapely.is_empty(out)]


def _merged(lines):
    """Street lines joined where two of them meet end to end and no third (``line_merge``):
    a walking network comes as short segments (an OSM way per block, cut at every node), and
    every line costs the noding and the clipping of the pieces, whatever its length."""
    if lines is None or len(lines) == 0:
        return lines
    g = np.asarray(lines, dtype=object)
    single = shapely.get_type_id(g) == 1
    if single.sum() < 2:
        return g
    joined = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(g[single])))
    return np.r_[joined, g[~single]]


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
    the densified outlines per street block, its edges kept between buildings and clipped to
    the block. momepy itself builds its diagrams through libpysal (80 ms a block here): the
    sample district took 5x longer to plan.

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
    fp = np.asarray(footprints, dtype=object)
    if len(fp) < 2:
        return []
    noded = _noded(np.asarray(walls, dtype=object))
    blocks = shapely.get_parts(shapely.polygonize([noded]))
    if not len(blocks):
        return []
    block_of = np.full(len(fp), -1, dtype=np.int64)
    bi, fi = shapely.STRtree(fp).query(blocks, predicate="contains_properly")
    block_of[fi] = bi
    miss = np.flatnonzero(block_of < 0)  # footprints across a wall: the block of a point in it
    if len(miss):
        bi, fi = shapely.STRtree(shapely.point_on_surface(fp[miss])).query(blocks, predicate="contains")
        block_of[miss[fi]] = bi
    pts = _points(shapely.boundary(fp), TESSELLATION_SEGMENT_M)
    # one generator per location (qhull rejects coincident points): the first label wins
    _, first = np.unique(np.round(pts[:, :2], 2), axis=0, return_index=True)
    pts = pts[np.sort(first)]
    lab = pts[:, 2].astype(np.int64)
    blk = block_of[lab]
    # the points of every block in their order, grouped by one stable sort
    order = np.argsort(blk, kind="stable")
    order = order[blk[order] >= 0]
    ub, first = np.unique(blk[order], return_index=True)
    bounds = np.r_[first, len(order)]
    raw, raw_block = [], []
    for k, b in enumerate(ub):
        m = order[bounds[k] : bounds[k + 1]]
        if (lab[m] != lab[m[0]]).any():
            e = _block_edges(pts[m, :2], lab[m], blocks[b])
            raw.append(e)
            raw_block.append(np.full(len(e), b))
    if not raw:
        return []
    # every block's edges clipped to it, all blocks in one call
    segs = _clip_each(np.concatenate(raw), blocks[np.concatenate(raw_block)])
    if not len(segs):
        return []
    edges = shapely.line_merge(shapely.union_all(segs))
    edges = shapely.difference(edges, cut)
    return [] if shapely.is_empty(edges) else list(shapely.get_parts(edges))


def _noded(walls: np.ndarray):
    """The walls noded exactly: edges clipped to blocks of snapped walls would end a hair off
    the walls themselves, and the faces of the grid pieces would not close."""
    try:
        return shapely.union_all(walls)
    except shapely.errors.GEOSException:  # robustness failure of exact noding: snap-round
        return shapely.union_all(walls, grid_size=1e-3)


def _block_edges(xy: np.ndarray, lab: np.ndarray, block) -> np.ndarray:
    """The Voronoi edges between different footprints of one street block (to be clipped to it).

    One diagram per block, as momepy: in one diagram of the whole community the buildings across
    a street take the strip along the wall, and the edges between this block's buildings stop
    short of it, so that the block's ground is not divided. Four far points close every cell
    near the block (their ridges are dropped).
    """
    from scipy.spatial import Voronoi

    x0, y0, x1, y1 = shapely.bounds(block)
    r = 10.0 * max(x1 - x0, y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    far = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])
    vor = Voronoi(np.r_[xy, far], qhull_options="Qbb Qc Qz")
    lab = np.r_[lab, -np.ones(4, dtype=np.int64)]
    rp = vor.ridge_points
    rv = np.asarray(vor.ridge_vertices, dtype=np.int64)
    a, b = lab[rp[:, 0]], lab[rp[:, 1]]
    m = (a != b) & (a >= 0) & (b >= 0) & (rv >= 0).all(axis=1)
    if not m.any():
        return np.empty(0, dtype=object)
    return shapely.linestrings(vor.vertices[rv[m]])


def side_rays(footprints, stops=None, length: float = SIDE_RAY_M):
    """The sides of every footprint's oriented envelope produced beyond each corner, as one
    MultiLineString (empty for no footprints).

    Without ``stops`` every side is produced ``length`` metres. With ``stops`` (the city's lines
    and the setback line) a produced side is kept only where it reaches one of them within
    ``length``, and ends there: a side that ends in open ground closes no piece of its own but
    crosses the setback lines and sides of the neighbours into slivers, which only slow the
    search down (on the generated city they were two thirds of all pieces). The setback line
    counts from past the building's own (:data:`SETBACK_M` plus half a metre), so that a side
    reaches the setback ground of another building, not its own.

    Parameters
    ----------
    footprints : array of Polygon
    stops : tuple (array of lines, Geometry), optional
        The lines a produced side may end on: the city's lines, and the setback line.
    length : float
        Longest produced side (m).

    Returns
    -------
    MultiLineString
    """
    fp = np.asarray(footprints, dtype=object)
    env = shapely.oriented_envelope(fp)
    has = np.flatnonzero(shapely.get_type_id(env) == 3)
    env = env[has]
    if not len(env):
        return shapely.MultiLineString()
    ring = shapely.get_coordinates(shapely.get_exterior_ring(env)).reshape(len(env), 5, 2)
    c = ring[:, :4]
    side = np.roll(c, -1, axis=1) - c  # side k runs from corner k to corner k+1
    unit = side / np.maximum(np.linalg.norm(side, axis=2, keepdims=True), 1e-9)
    # at corner k: side k-1 carried on forward, side k carried on backward
    direction = np.concatenate([np.roll(unit, 1, axis=1), -unit], axis=1).reshape(-1, 2)
    starts = np.concatenate([c, c], axis=1).reshape(-1, 2)
    reach = np.full(len(starts), float(length))
    if stops is not None:
        reach = _first_stop(starts, direction, length, stops)
        # where two footprints touch (a row of terraced houses, the slices of a tower split by
        # entrance) their common wall produced divides the ground between them: kept whole
        pts, owner = shapely.points(starts), has[np.arange(len(starts)) // 8]
        ri, fi = shapely.STRtree(fp).query(pts, predicate="dwithin", distance=_TOUCH_M)
        touch = np.zeros(len(starts), dtype=bool)
        touch[ri[fi != owner[ri]]] = True
        reach[touch] = np.minimum(reach[touch], length)
    keep = np.isfinite(reach)
    if not keep.any():
        return shapely.MultiLineString()
    s, d = starts[keep], direction[keep]
    return shapely.multilinestrings(shapely.linestrings(np.stack([s, s + reach[keep, None] * d], 1)))


def _first_stop(starts: np.ndarray, direction: np.ndarray, length: float, stops) -> np.ndarray:
    """Distance from every start along its direction to the first stop line farther than
    :data:`_MIN_STOP_M` (the setback line: farther than :data:`SETBACK_M` + 0.5 m) within
    ``length``; inf where none."""
    lines, setback = stops
    rays = shapely.linestrings(np.stack([starts, starts + length * direction], 1))
    lines = shapely.get_parts(np.asarray(lines, dtype=object))
    setback = shapely.get_parts(np.asarray(setback, dtype=object))
    targets = np.r_[lines, setback]
    near = np.r_[np.full(len(lines), _MIN_STOP_M), np.full(len(setback), SETBACK_M + 0.5)]
    ri, si = shapely.STRtree(targets).query(rays, predicate="intersects")
    xy, k = shapely.get_coordinates(shapely.intersection(rays[ri], targets[si]), return_index=True)
    r = ri[k]
    dist = ((xy - starts[r]) * direction[r]).sum(axis=1)
    ok = dist > near[si[k]]
    best = np.full(len(starts), np.inf)
    np.minimum.at(best, r[ok], dist[ok])
    return best


def _open_ground_lines(polygon, barriers, estates, footprints, tess: list) -> list:
    """The tessellation edges where no street divides the ground between the estates.

    Without streets, the ground outside the estates is one enclosure of the community boundary
    and the barriers: tessellated among the loose buildings alone, one face of it (or one
    building's cell) would reach every estate, the only way from one estate to the next, and
    the search could hardly find contiguous grids. There the estates are generators of the
    tessellation too, as whole polygons beside the loose footprints, so that every estate gets
    the ground in front of its wall and touches its neighbours half-way between them, as a
    street would have it; inside the estates ``tess`` (their own footprints, walled by the
    estate outline) is kept.
    """
    est = np.asarray(estates, dtype=object)
    est = est[np.isin(shapely.get_type_id(est), [3, 6]) & (shapely.area(est) > 0)]
    if not len(est):
        return tess
    inside = shapely.union_all(est)
    fp = np.asarray(footprints, dtype=object)
    loose = fp[~shapely.intersects(inside, shapely.point_on_surface(fp))]
    gens = np.r_[est, loose]
    walls = np.asarray([shapely.boundary(polygon), *_lines(barriers, polygon)], dtype=object)
    kept = shapely.intersection(np.asarray(tess, dtype=object), inside) if tess else np.empty(0, dtype=object)
    kept = [g for g in kept if not shapely.is_empty(g)]
    return kept + tessellation_lines(gens, walls, shapely.union_all(gens))


def feature_lines(polygon, *, barriers=None, streets=None, estates=None, footprints=None) -> list:
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
    hard, soft, setback = feature_linework(
        polygon, barriers=barriers, streets=streets, estates=estates, footprints=footprints
    )
    return hard + soft + setback


def feature_linework(
    polygon, *, barriers=None, streets=None, estates=None, footprints=None
) -> tuple[list, list, list]:
    """The lines of :func:`feature_lines` in three lists: the city's own lines (boundary,
    barriers, streets, estate outlines, footprint outlines), the tessellation edges, which no
    planner sees on the ground, and the construction lines that cut the ground around the
    footprints (:data:`SETBACK_M`, :func:`side_rays`)."""
    base = [shapely.boundary(polygon)]
    feats = _lines(barriers, polygon) + _lines(_merged(streets), polygon) + _lines(estates, polygon)
    cut = solid(footprints)
    if cut is None:
        return base + feats, [], []
    walls = np.asarray(base + feats, dtype=object)
    feats = list(_cut_away(np.asarray(feats, dtype=object), cut)) if feats else []
    tess = tessellation_lines(footprints, walls, cut)
    if (streets is None or not len(streets)) and estates is not None and len(estates):
        tess = _open_ground_lines(polygon, barriers, estates, footprints, tess)
    tess = list(_clip(np.asarray(tess, dtype=object), polygon))
    ring = shapely.boundary(shapely.buffer(cut, SETBACK_M, quad_segs=2))
    setback = shapely.intersection(ring, polygon)
    rays = side_rays(footprints, (walls, ring))
    rays = shapely.intersection(shapely.difference(rays, cut), polygon)
    outlines = list(shapely.boundary(np.asarray(footprints, dtype=object)))
    construction = [g for g in (setback, rays) if not shapely.is_empty(g)]
    return base + feats + outlines, tess, construction
