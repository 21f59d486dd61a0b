"""The ground of one community cut into pieces: faces of the noded linework of the community
boundary, kept grids, barriers, streets, estate outlines and building footprints with the
tessellation between them (:mod:`gridplan.geometry.featurecells`); where no footprints are
given, the Voronoi edges of the household locations stand in for the tessellation.

Every grid polygon is a union of pieces, so grids tile the community exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.geometry.adjacency import SharedEdges, edge_share_near, shared_boundaries, shared_edges, zones
from gridplan.geometry.featurecells import feature_linework
from gridplan.geometry.quality import ON_FEATURE_M

__all__ = ["MIN_PIECE_AREA", "Features", "Pieces", "first_hit", "locate", "pieces", "polygonal", "union"]

MIN_PIECE_AREA = 1e-2  # m2; slivers from floating-point clipping
#: Faces smaller than this (m2) join the neighbour they share most boundary with: the slivers
#: between nearly parallel lines (a street along a setback line, two rows' produced sides)
#: decide nothing and only slow the search down; merged, not dropped, so the tiling stays exact.
SLIVER_M2 = 1.0
_GRID_SIZE = 1e-4  # m; precision of the noded linework
_SOFT_TOL_M = 1e-3  # m; a noded segment this near a tessellation edge lies on it
_STEP_M = ON_FEATURE_M  # m; boundaries are measured against the city's lines in such steps
_ON_STREET_M = 0.5  # m; the pieces are noded on the street lines, so a line on one lies on it
#: Boundary (m) of all faces together found on no neighbour and not on the community boundary,
#: above which segment matching missed a neighbour (dropped slivers may leave a little)
_UNMATCHED_M = 1.0


@dataclass(frozen=True)
class Pieces:
    """Pieces of a community and their shared boundaries.

    Attributes
    ----------
    geoms : ndarray of Polygon
        The pieces, in a deterministic order.
    zone : ndarray of int
        Barrier zone of every piece (:func:`gridplan.geometry.adjacency.zones`).
    kept : ndarray of int
        Index of the kept grid holding each piece, -1 for free ground.
    i, j : ndarray of int
        Pairs ``i < j`` of pieces sharing a boundary.
    length : ndarray of float
        That shared boundary (m).
    cross : ndarray of bool
        The pair lies on two sides of a barrier (different zones).
    soft : ndarray of float or None
        Share of that boundary on a tessellation edge between buildings (a line no planner
        sees on the ground), None without footprints.
    on_feature : ndarray of float or None
        Share of that boundary within :data:`~gridplan.geometry.quality.ON_FEATURE_M` of a
        street, barrier, estate outline or footprint outline (the line a planner can point to
        on the ground), None without any of these.
    on_street : ndarray of float or None
        Share of that boundary on a street or barrier (within :data:`_ON_STREET_M`), None
        without streets or barriers.
    """

    geoms: np.ndarray
    zone: np.ndarray
    kept: np.ndarray
    i: np.ndarray
    j: np.ndarray
    length: np.ndarray
    cross: np.ndarray
    soft: np.ndarray | None = None
    on_feature: np.ndarray | None = None
    on_street: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.geoms)

    def subset(self, idx: np.ndarray) -> Pieces:
        """The pieces ``idx`` renumbered 0..len(idx)-1, with the boundaries among them."""
        loc = np.full(len(self), -1)
        loc[idx] = np.arange(len(idx))
        m = (loc[self.i] >= 0) & (loc[self.j] >= 0)
        return Pieces(
            self.geoms[idx],
            self.zone[idx],
            self.kept[idx],
            loc[self.i[m]],
            loc[self.j[m]],
            self.length[m],
            self.cross[m],
            None if self.soft is None else self.soft[m],
            None if self.on_feature is None else self.on_feature[m],
            None if self.on_street is None else self.on_street[m],
        )


@dataclass(frozen=True)
class Features:
    """The city's features inside one community (metric), all optional.

    Attributes
    ----------
    streets : array of lines or None
    estates : array of Polygon or None
        Estate polygons.
    footprints : array of Polygon or None
        Building footprints clipped to the community; each one becomes exactly one piece.
    """

    streets: object = None
    estates: object = None
    footprints: object = None


def pieces(polygon, barrier_lines, xy: np.ndarray, kept_polys=(), features: Features | None = None) -> Pieces:
    """Faces of the noded linework: community boundary, kept grids, barriers, the features
    (streets, estate outlines, footprints and their tessellation) and, without footprints, the
    Voronoi edges of the distinct locations in ``xy``.

    Noding all lines together (one ``union_all``) and polygonizing gives pieces whose shared
    edges are identical, so shared-boundary lengths and unions are exact; clipping every cell
    separately would leave edges that differ in the last bits and touch only at points.

    Parameters
    ----------
    polygon : Polygon or MultiPolygon
        The community (metric).
    barrier_lines : array of lines or None
        Barriers near the community (metric).
    xy : ndarray (n, 2)
        Household locations (metric).
    kept_polys : sequence of Polygon
        Kept grids, already clipped to the community.
    features : Features, optional
        Streets, estates and footprints of the community.

    Returns
    -------
    Pieces
    """
    feats = features or Features()
    faces, rp, soft = _faces(polygon, barrier_lines, xy, kept_polys, feats)
    zone = first_hit(rp, zones(polygon, barrier_lines))
    kept = first_hit(rp, np.asarray(kept_polys, dtype=object)) if len(kept_polys) else np.full(len(faces), -1)
    zone[zone < 0] = 0
    edges = _edges(faces, polygon)
    i, j, length = edges.i, edges.j, edges.length
    share = None if soft is None else edge_share_near(edges, soft, _SOFT_TOL_M)
    city = _city_lines(barrier_lines, feats)
    on = None if city is None else edge_share_near(edges, city, ON_FEATURE_M, _STEP_M)
    street = _street_lines(barrier_lines, feats)
    on_street = (
        None if street is None or on is None else edge_share_near(edges, street, _ON_STREET_M, _STEP_M)
    )
    return Pieces(faces, zone, kept, i, j, length, zone[i] != zone[j], share, on, on_street)


def _street_lines(barrier_lines, feats: Features):
    """The streets and barriers near the community (the lines a grid line best follows), or None."""
    parts = [np.asarray(g, dtype=object) for g in (barrier_lines, feats.streets) if g is not None and len(g)]
    return np.concatenate(parts) if parts else None


def _edges(faces: np.ndarray, polygon) -> SharedEdges:
    """The shared boundaries of the faces, by segment matching; if some face lost the vertices
    of its neighbours (repaired by ``make_valid``), so that boundary goes unmatched, by the
    exact intersection of boundaries instead."""
    edges = shared_edges(faces)
    perimeter = float(shapely.length(faces).sum())
    unmatched = perimeter - 2.0 * float(edges.length.sum()) - float(shapely.length(polygon))
    if abs(unmatched) <= 1e-9 * perimeter + _UNMATCHED_M:
        return edges
    i, j, length, shared = shared_boundaries(faces, lines=True)
    order = np.lexsort((j, i))
    xy, part = shapely.get_coordinates(shared[order], return_index=True)
    seg = np.flatnonzero(part[:-1] == part[1:])
    return SharedEdges(i[order], j[order], length[order], xy[seg], xy[seg + 1], part[seg])


def _city_lines(barrier_lines, feats: Features):
    """The lines of the city a grid line may follow (outlines of the polygons), or None."""
    parts = [
        np.asarray(g, dtype=object)
        for g in (barrier_lines, feats.streets, feats.estates, feats.footprints)
        if g is not None and len(g)
    ]
    if not parts:
        return None
    g = np.concatenate(parts)
    poly = np.isin(shapely.get_type_id(g), [3, 6])
    g[poly] = shapely.boundary(g[poly])
    return g


def _faces(polygon, barrier_lines, xy, kept_polys, feats: Features) -> tuple[np.ndarray, np.ndarray, object]:
    """The valid faces inside ``polygon``, a point on each, ordered by that point, and the
    tessellation edges (None without any)."""
    has_fp = feats.footprints is not None and len(feats.footprints) > 0
    hard, tess, setback = feature_linework(
        polygon,
        barriers=barrier_lines,
        streets=feats.streets,
        estates=feats.estates,
        footprints=feats.footprints,
    )
    lines = hard + tess
    soft = np.asarray(tess, dtype=object) if tess else None
    loc = np.unique(np.round(xy, 2), axis=0) if len(xy) else np.empty((0, 2))
    if len(loc) >= 2 and not has_fp:
        # after the boundary, before the rest: the order of the union is the order of today's
        # output bytes
        lines.insert(
            1, shapely.voronoi_polygons(shapely.multipoints(loc), extend_to=polygon, only_edges=True)
        )
    if len(kept_polys):
        kept_all = np.asarray(kept_polys, dtype=object)
        lines.extend(shapely.boundary(kept_all))
        # a kept grid is not divided again: setback lines inside it would only cut slivers
        # off its edge
        setback = [shapely.difference(g, shapely.union_all(kept_all)) for g in setback]
    lines.extend(setback)
    # snap-rounding to 0.1 mm makes near-coincident lines (kept grids read back from a file,
    # barriers along the boundary) coincide, so no sliver or spike faces appear
    noded = shapely.union_all(np.asarray(lines, dtype=object), grid_size=_GRID_SIZE)
    # the polygonizer takes the lines out of the one noded geometry itself (in the order of its
    # parts): splitting it into parts first only copies every line
    faces = shapely.get_parts(shapely.polygonize([noded]))
    rp = shapely.point_on_surface(faces)
    inside = shapely.contains_xy(polygon, shapely.get_x(rp), shapely.get_y(rp))
    faces, rp = faces[inside], rp[inside]
    kept_all = np.asarray(kept_polys, dtype=object)
    faces = _merge_slivers(faces, first_hit(rp, kept_all) if len(kept_all) else np.full(len(faces), -1))
    rp = shapely.point_on_surface(faces)
    bad = ~shapely.is_valid(faces)
    if bad.any():
        faces[bad] = [_polygonal(f, False) for f in faces[bad]]
    # deterministic order regardless of GEOS internals: by representative point
    order = np.lexsort((shapely.get_y(rp), shapely.get_x(rp)))
    return faces[order], rp[order], soft


def _merge_slivers(faces: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Faces of one noding with every face under :data:`SLIVER_M2` merged into the neighbour
    it shares the longest boundary with, larger neighbours first (chains of slivers follow to a
    larger face); slivers touching only slivers merge together, dropped only when all of them
    make less than :data:`MIN_PIECE_AREA`. Faces merge only within one ``side`` (the kept grid
    they lie in, -1 for free ground), so that a kept grid neither gains nor loses ground."""
    area = shapely.area(faces)
    small = area < SLIVER_M2
    if not small.any():
        return faces
    # only the boundaries of slivers are needed; the order of the pairs does not matter below
    # (the sort keys tell every pair apart)
    i, j, length = shared_boundaries(faces, among=small)
    a, b, ln = np.r_[i, j], np.r_[j, i], np.r_[length, length]
    m = small[a] & (side[a] == side[b])
    a, b, ln = a[m], b[m], ln[m]
    # larger neighbours first, then the longest shared boundary
    order = np.lexsort((b, -ln, small[b], a))
    a, b = a[order], b[order]
    first = np.r_[True, a[1:] != a[:-1]] if len(a) else np.empty(0, dtype=bool)
    n = len(faces)
    # each sliver points at one neighbour: a component of these links holds at most one face
    # that is not a sliver (its root), or none (slivers that only touch slivers: merged alone)
    links = sparse.csr_matrix((np.ones(first.sum()), (a[first], b[first])), shape=(n, n))
    ncomp, comp = connected_components(links, directed=False)
    big = np.flatnonzero(~small)
    root = np.full(ncomp, -1)
    root[comp[big]] = big
    members = np.argsort(comp, kind="stable")
    bounds = np.searchsorted(comp[members], np.arange(ncomp + 1))
    out = faces.copy()
    keep = ~small
    for c in np.flatnonzero((np.diff(bounds) > 1) | (root < 0)):
        idx = members[bounds[c] : bounds[c + 1]]
        r = root[c] if root[c] >= 0 else idx[0]
        if len(idx) > 1:
            out[r] = shapely.coverage_union_all(faces[idx])
        keep[r] = root[c] >= 0 or shapely.area(out[r]) > MIN_PIECE_AREA
    return out[keep]


def polygonal(geom):
    """The polygonal part of ``geom``, made valid.

    Parameters
    ----------
    geom : Geometry

    Returns
    -------
    Polygon or MultiPolygon
        Empty when ``geom`` has no polygonal part; degenerate spikes split off by
        ``make_valid`` are dropped.
    """
    # the scalar property asks GEOS the same as shapely.is_valid, without the warnings filter
    # that costs that function more than the check itself on a footprint (read one by one)
    valid = geom.is_valid if isinstance(geom, shapely.Geometry) else bool(shapely.is_valid(geom))
    return _polygonal(geom, valid)


def _polygonal(geom, valid: bool):
    """:func:`polygonal` of ``geom`` whose validity is known."""
    if not valid:
        geom = shapely.make_valid(geom)
    elif isinstance(geom, shapely.Polygon) and not geom.is_empty:
        return geom  # a valid polygon, the common case, is its own polygonal part
    parts = shapely.get_parts(geom)
    types = shapely.get_type_id(parts)
    parts = parts[(types == 3) | (types == 6)]
    if len(parts) == 0:
        return shapely.Polygon()
    if len(parts) > 1:  # degenerate spikes split off by make_valid
        area = shapely.area(parts)
        parts = parts[area >= 1e-7 * area.sum()]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def union(geoms):
    """Union of pieces, always valid and polygonal.

    Parameters
    ----------
    geoms : array of Polygon

    Returns
    -------
    Polygon or MultiPolygon
    """
    # pieces of one noding form a coverage (no overlaps, shared edges identical), which GEOS
    # unions 4-5x faster than the general overlay and with the same result
    out = shapely.coverage_union_all(np.asarray(geoms, dtype=object))
    if out.is_valid:
        return _polygonal(out, True)
    return polygonal(shapely.union_all(geoms))


def first_hit(points, polys) -> np.ndarray:
    """Index of the first polygon containing each point.

    Parameters
    ----------
    points : array of Point
    polys : array of Polygon

    Returns
    -------
    ndarray of int64
        The lowest index of a polygon the point intersects, -1 if none.
    """
    out = np.full(len(points), -1, dtype=np.int64)
    if len(polys) == 0 or len(points) == 0:
        return out
    pi, gi = shapely.STRtree(polys).query(points, predicate="intersects")
    order = np.lexsort((gi, pi))[::-1]
    out[pi[order]] = gi[order]
    return out


def locate(points_xy: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Index of the piece holding each point.

    Parameters
    ----------
    points_xy : ndarray (n, 2)
    geoms : array of Polygon

    Returns
    -------
    ndarray of int64
        The lowest index of a piece the point intersects; the nearest piece for points in
        dropped slivers.
    """
    pts = shapely.points(points_xy)
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    order = np.lexsort((gi, pi))[::-1]  # the lowest piece index wins
    out[pi[order]] = gi[order]
    miss = np.flatnonzero(out < 0)
    if len(miss):
        mi, mg = tree.query_nearest(pts[miss], all_matches=False)
        out[miss[mi]] = mg
    return out
