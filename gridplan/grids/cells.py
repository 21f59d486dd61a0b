"""The ground of one community cut into pieces: faces of the noded linework of the community
boundary, kept grids, barriers, streets, estate outlines and building footprints with the
tessellation between them (:mod:`gridplan.geometry.featurecells`); where no footprints or
no streets are given, the Voronoi edges of the household locations stand in for the
tessellation, and footprints and estates given without streets each lie wholly in one of
those cells.

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
    # without streets the footprints are kept whole in the household cells (see
    # _footprint_cells), not tessellated: the tessellation of open ground leaves the search
    # few contiguous grids in the band
    tessellate = has_fp and feats.streets is not None
    # nor are the estates walls of the linework without streets: each one given then (held by
    # one unit, gridplan.grids.footprints.held_estates) lies wholly in one cell too
    walls = feats.streets is not None
    held = np.asarray([] if walls or feats.estates is None else feats.estates, dtype=object)
    hard, tess, setback = feature_linework(
        polygon,
        barriers=barrier_lines,
        streets=feats.streets,
        estates=feats.estates if walls else None,
        footprints=feats.footprints if tessellate else None,
    )
    lines = hard + tess
    soft = np.asarray(tess, dtype=object) if tess else None
    loc = np.unique(np.round(xy, 2), axis=0) if len(xy) else np.empty((0, 2))
    if len(loc) >= 2 and not tessellate:
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
    faces, rp = _polygonized(noded, polygon)
    kept_all = np.asarray(kept_polys, dtype=object)
    if (has_fp and not tessellate) or len(held):
        fps = np.asarray(feats.footprints if has_fp else [], dtype=object)
        faces = _footprint_cells(faces, polygon, loc, fps, held, kept_all)
        rp = shapely.point_on_surface(faces)
    faces = _merge_slivers(faces, first_hit(rp, kept_all) if len(kept_all) else np.full(len(faces), -1))
    rp = shapely.point_on_surface(faces)
    bad = ~shapely.is_valid(faces)
    if bad.any():
        faces[bad] = [_polygonal(f, False) for f in faces[bad]]
    # deterministic order regardless of GEOS internals: by representative point
    order = np.lexsort((shapely.get_y(rp), shapely.get_x(rp)))
    return faces[order], rp[order], soft


def _polygonized(noded, polygon) -> tuple[np.ndarray, np.ndarray]:
    """The faces of the noded lines inside ``polygon`` and a point on each."""
    # the polygonizer takes the lines out of the one noded geometry itself (in the order of its
    # parts): splitting it into parts first only copies every line
    faces = shapely.get_parts(shapely.polygonize([noded]))
    rp = shapely.point_on_surface(faces)
    inside = shapely.contains_xy(polygon, shapely.get_x(rp), shapely.get_y(rp))
    return faces[inside], rp[inside]


def _footprint_cells(cells, polygon, loc, footprints, estates, kept_all) -> np.ndarray:
    """The household cells ``cells`` (faces of one noding) with every footprint wholly in one:
    the cell of a household location inside it (the lowest), else the cell holding most of it;
    the ground of every estate in the cells of its household locations, that of the other cells
    inside it going to the cell of its first location (a footprint across its outline stays
    whole, with its own cell).

    The cells near the footprints and estates they cross are noded again together with their
    outlines, so the cells stay one exact tiling: every face of that noding goes to the cell it
    lies in or, inside a footprint or estate, to that one's cell. A cell left in several parts
    keeps the one holding its household (its largest without one); every other part joins the
    cell it shares the longest boundary with.
    """
    whole = np.r_[footprints, estates]
    fi = np.unique(shapely.STRtree(whole).query(cells, predicate="overlaps")[1])
    if not len(fi):
        return cells
    fp = whole[fi]
    # every cell near those footprints (one they touch gains vertices on its edge) or near the
    # outline of those estates: a cell wholly inside an estate is not cut, only owned
    near = shapely.STRtree(cells).query(
        np.where(fi < len(footprints), fp, shapely.boundary(fp)), predicate="dwithin", distance=1e-3
    )[1]
    near = np.unique(near)
    lines = np.r_[shapely.boundary(cells[near]), shapely.boundary(fp)]
    faces, rp = _polygonized(shapely.union_all(lines, grid_size=_GRID_SIZE), polygon)
    cell = locate(shapely.get_coordinates(rp), cells)
    local = np.zeros(len(cells), dtype=bool)
    local[near] = True
    far = np.flatnonzero(~local)
    # the far cells stay as they are, one face each, before the faces of the near ones
    faces, cell = np.r_[cells[far], faces[local[cell]]], np.r_[far, cell[local[cell]]]
    rp = shapely.point_on_surface(faces)
    pts = shapely.points(loc)
    gen_face = first_hit(pts, faces)
    own = np.full(len(faces), -1, dtype=np.int64)
    estate = np.full(len(faces), -1, dtype=np.int64)
    # estates first, footprints over them
    for k, group in enumerate((fp[fi >= len(footprints)], fp[fi < len(footprints)])):
        if not len(group):
            continue
        inside, gen = first_hit(rp, group), first_hit(pts, group)
        if k == 0:
            own = _estate_owners(faces, cell, rp, inside, gen, gen_face, pts, len(cells))
            estate = inside
            continue
        owner = _owners(faces, cell, inside, gen, gen_face, len(group))
        own = np.where(inside >= 0, owner[np.maximum(inside, 0)], own)
    side = first_hit(rp, kept_all) if len(kept_all) else np.full(len(faces), -1)
    # a kept grid neither gains nor loses ground: a footprint across its edge stays cut there
    move = (own >= 0) & (side[_first_face(cell, len(cells))[np.maximum(own, 0)]] == side)
    return _connected_cells(faces, np.where(move, own, cell), gen_face, len(cells), estate)


def _estate_owners(faces, cell, rp, inside, gen, gen_face, pts, n: int) -> np.ndarray:
    """The cell every face inside an estate goes to, -1 for the others: the cells of the
    estate's own household locations keep their ground in it (their units may be split apart
    again, micro-grids divide them); the ground of any other cell goes to the cell of the
    estate's location nearest to it (else to the cell holding most of the estate)."""
    home = np.full(n, -1, dtype=np.int64)
    g = np.flatnonzero(gen_face >= 0)
    home[cell[gen_face[g]]] = gen[g]
    own = np.full(len(faces), -1, dtype=np.int64)
    take = (inside >= 0) & (home[cell] != inside)
    if not take.any():
        return own
    owner = _owners(faces, cell, inside, gen, gen_face, int(inside.max()) + 1)
    own[take] = owner[inside[take]]
    for e in np.unique(inside[take]):
        at = np.flatnonzero((gen == e) & (gen_face >= 0))
        if len(at):
            f = np.flatnonzero(take & (inside == e))
            near = shapely.STRtree(pts[at]).query_nearest(rp[f], all_matches=False)[1]
            own[f] = cell[gen_face[at[near]]]
    return own


def _owners(faces, cell, in_fp, gen_fp, gen_face, n: int) -> np.ndarray:
    """The cell of every footprint: that of its first household location, else the cell of its
    largest face."""
    m = np.flatnonzero(in_fp >= 0)
    order = m[np.lexsort((-shapely.area(faces[m]), in_fp[m]))][::-1]
    owner = np.full(n, -1, dtype=np.int64)
    owner[in_fp[order]] = cell[order]
    g = np.flatnonzero((gen_fp >= 0) & (gen_face >= 0))[::-1]
    owner[gen_fp[g]] = cell[gen_face[g]]
    return owner


def _first_face(cell: np.ndarray, n: int) -> np.ndarray:
    """A face of every cell (the first), by the cell of every face."""
    out = np.zeros(n, dtype=np.int64)
    out[cell[::-1]] = np.arange(len(cell))[::-1]
    return out


def _connected_cells(
    faces: np.ndarray, label: np.ndarray, gen_face: np.ndarray, n: int, group: np.ndarray
) -> np.ndarray:
    """The union of the faces of every label, each in one part: a part of a label that is not
    connected to its household's face (its largest part without one) goes to the neighbouring
    label it shares the longest boundary with, one across a face of its own ``group`` (estate,
    -1 for none) first, until every label is connected."""
    anchor = np.zeros(len(faces))
    anchor[gen_face[gen_face >= 0]] = 1.0
    edges = None
    out = _unions(faces, label, n, np.ones(n, dtype=bool))
    for _ in range(8):
        if not (shapely.get_num_geometries(out) > 1).any():
            break
        if edges is None:
            edges = shared_edges(faces)
        new = _reattached(faces, label, edges, anchor, group)
        moved = np.zeros(n, dtype=bool)
        moved[label[new != label]] = True
        moved[new[new != label]] = True
        label = new
        out = np.where(moved, _unions(faces, label, n, moved), out)
    return out[~shapely.is_empty(out)]


def _reattached(
    faces: np.ndarray, label: np.ndarray, edges: SharedEdges, anchor: np.ndarray, group: np.ndarray
) -> np.ndarray:
    """``label`` with every part of a label but its kept one (:func:`_connected_cells`) moved."""
    i, j = edges.i, edges.j
    n = len(faces)
    same = label[i] == label[j]
    links = sparse.csr_matrix((np.ones(same.sum()), (i[same], j[same])), shape=(n, n))
    ncomp, comp = connected_components(links, directed=False)
    lab = np.zeros(ncomp, dtype=np.int64)
    lab[comp] = label
    has = np.bincount(comp, weights=anchor, minlength=ncomp) > 0
    order = np.lexsort((-np.bincount(comp, weights=shapely.area(faces), minlength=ncomp), ~has, lab))
    keep = np.zeros(ncomp, dtype=bool)
    keep[order[np.r_[True, lab[order][1:] != lab[order][:-1]]]] = True
    a, b, ln = np.r_[i, j], np.r_[j, i], np.r_[edges.length, edges.length]
    x = ~keep[comp[a]] & (label[b] != label[a])
    pair, inv = np.unique(np.stack([comp[a[x]], label[b[x]]], 1), axis=0, return_inverse=True)
    tot = np.bincount(inv.ravel(), weights=ln[x])
    other = np.ones(len(pair), dtype=np.int64)
    np.minimum.at(other, inv.ravel(), (group[a[x]] != group[b[x]]).astype(np.int64))
    order = np.lexsort((pair[:, 1], -tot, other, pair[:, 0]))
    first = order[np.r_[True, pair[order][1:, 0] != pair[order][:-1, 0]]]
    target = np.full(ncomp, -1, dtype=np.int64)
    target[pair[first, 0]] = pair[first, 1]
    return np.where(target[comp] >= 0, target[comp], label)


def _unions(faces: np.ndarray, label: np.ndarray, n: int, which: np.ndarray) -> np.ndarray:
    """The faces of every label 0..n-1 marked in ``which`` united (one face as it is; empty for
    none and for the labels not marked)."""
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(n + 1))
    out = np.full(n, shapely.Polygon(), dtype=object)
    size = np.diff(bounds)
    one = which & (size == 1)
    out[one] = faces[order[bounds[:-1][one]]]
    for c in np.flatnonzero(which & (size > 1)):
        out[c] = union(faces[order[bounds[c] : bounds[c + 1]]])
    return out


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
