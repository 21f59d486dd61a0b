"""Planning one community: a pure top-level function (plain arrays in, plain arrays out).

:func:`plan_community` is what runs in a worker process (and what a Dask engine can map over
communities): it takes the community polygon, its household points, barrier lines, locks and the
previous plan in a metric CRS, and returns the grid number of every household, the grid polygons,
the units and the micro-grids. It holds no global state, so the result depends only on its input.

Pipeline: atomic units (:mod:`gridplan.grids.units`) -> Voronoi cells of the distinct household
locations, clipped to the barrier zones of the community ("pieces") -> every piece belongs to one
unit (empty pieces join a neighbour) -> unit adjacency = summed shared boundary of their pieces ->
balanced contiguous partition (:mod:`gridplan.grids.search`) -> grid polygon = union of its pieces.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.geometry.adjacency import shared_boundaries, zones
from gridplan.grids.search import Graph, candidate_ks, plan_graph, violation
from gridplan.grids.units import unit_keys

__all__ = ["plan_community", "REASONS"]

#: Reason codes on grids that are not in the band; the text after the colon gives the numbers.
REASONS = {
    "no_households": "no household lies in the community: one empty grid covers it",
    "community_below_min": "the community has fewer households than the minimum of one grid",
    "part_below_min": "a part of the community cut off (by barriers, kept grids, oversized "
                      "buildings or the community's own shape) has fewer households than the minimum",
    "band_empty": "the households cannot be divided into whole grids within the bounds",
    "unit_over_max": "a single building or address has more households than the maximum",
    "no_contiguous_split": "an exhaustive search showed that the units cannot be grouped into "
                           "contiguous grids within the bounds",
    "search_failed": "no contiguous split within the bounds was found (search limit reached)",
    "kept": "grid kept as given (--keep)",
}

_MIN_PIECE_AREA = 1e-2  # m2; slivers from floating-point clipping
_GRID_SIZE = 1e-4  # m; precision of the noded linework


def _pieces(polygon, barrier_lines, xy, kept_polys=()):
    """Faces of the noded linework: community boundary, kept grids, barriers and the Voronoi edges
    of the distinct locations in ``xy``.

    Noding all lines together (one ``union_all``) and polygonizing gives pieces whose shared
    edges are identical, so shared-boundary lengths and unions are exact; clipping every cell
    separately would leave edges that differ in the last bits and touch only at points.

    Returns
    -------
    faces, zone per face, kept index per face (-1 when free)
    """
    zs = zones(polygon, barrier_lines)
    lines = [shapely.boundary(polygon)]
    loc = np.unique(np.round(xy, 2), axis=0) if len(xy) else np.empty((0, 2))
    if len(loc) >= 2:
        lines.append(shapely.voronoi_polygons(shapely.multipoints(loc), extend_to=polygon,
                                              only_edges=True))
    if barrier_lines is not None and len(barrier_lines):
        lines.extend(shapely.intersection(np.asarray(barrier_lines, dtype=object), polygon))
    lines.extend(shapely.boundary(np.asarray(kept_polys, dtype=object)) if len(kept_polys) else [])
    # snap-rounding to 0.1 mm makes near-coincident lines (kept grids read back from a file,
    # barriers along the boundary) coincide, so no sliver or spike faces appear
    noded = shapely.union_all(np.asarray(lines, dtype=object), grid_size=_GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    rp = shapely.point_on_surface(faces)
    inside = shapely.contains_xy(polygon, shapely.get_x(rp), shapely.get_y(rp))
    keep = inside & (shapely.area(faces) > _MIN_PIECE_AREA)
    faces, rp = faces[keep], rp[keep]
    bad = ~shapely.is_valid(faces)
    if bad.any():
        faces[bad] = [_polygonal(f) for f in faces[bad]]
    # deterministic order regardless of GEOS internals: by representative point
    order = np.lexsort((shapely.get_y(rp), shapely.get_x(rp)))
    faces, rp = faces[order], rp[order]
    zone = _first_hit(rp, zs)
    kept = _first_hit(rp, np.asarray(kept_polys, dtype=object)) if len(kept_polys) else \
        np.full(len(faces), -1)
    zone[zone < 0] = 0
    return faces, zone, kept


def _polygonal(geom):
    """The polygonal part of ``geom`` (valid), or an empty polygon."""
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    if len(parts) == 0:
        return shapely.Polygon()
    if len(parts) > 1:  # degenerate spikes split off by make_valid
        area = shapely.area(parts)
        parts = parts[area >= 1e-7 * area.sum()]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _union(pieces):
    """Union of pieces, always valid and polygonal."""
    return _polygonal(shapely.union_all(pieces))


def _first_hit(points, polys):
    """Index of the first polygon containing each point (-1 if none)."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(polys) == 0 or len(points) == 0:
        return out
    pi, gi = shapely.STRtree(polys).query(points, predicate="intersects")
    order = np.lexsort((gi, pi))[::-1]
    out[pi[order]] = gi[order]
    return out


def _locate(points_xy, pieces):
    """Index of the piece holding each point (nearest piece for points in dropped slivers)."""
    pts = shapely.points(points_xy)
    tree = shapely.STRtree(pieces)
    pi, gi = tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    order = np.lexsort((gi, pi))[::-1]  # the lowest piece index wins
    out[pi[order]] = gi[order]
    miss = np.flatnonzero(out < 0)
    if len(miss):
        mi, mg = tree.query_nearest(pts[miss], all_matches=False)
        out[miss[mi]] = mg
    return out


def _attach(npieces, piece_unit, ei, ej, elen, ecross):
    """Give every empty piece (unit -1) the unit of a neighbour, wave by wave.

    Same-zone neighbours first, then the longest shared boundary. Pieces that touch nothing get the nearest unit
    later (the caller), so that every bit of the community lands in a grid.
    """
    piece_unit = piece_unit.copy()
    a = np.r_[ei, ej]
    b = np.r_[ej, ei]
    ln = np.r_[elen, elen]
    cr = np.r_[ecross, ecross].astype(np.int64)
    while True:
        m = (piece_unit[a] < 0) & (piece_unit[b] >= 0)
        if not m.any():
            break
        aa, bb, ll, cc = a[m], b[m], ln[m], cr[m]
        uu = piece_unit[bb]
        order = np.lexsort((uu, -ll, cc, aa))
        aa, uu = aa[order], uu[order]
        first = np.r_[True, aa[1:] != aa[:-1]]
        piece_unit[aa[first]] = uu[first]
    return piece_unit


def _units_on_pieces(pieces, zone, hh_piece, hh_unit, edges):
    """Make units and pieces consistent: one unit per piece, units connected.

    Units sharing a piece are merged; empty pieces join neighbours; a unit whose pieces fall apart
    is split into its connected parts (each part holds households). Returns (unit per piece,
    unit per household, number of units); units are renumbered 0..n-1 by first household.
    """
    ei, ej, elen, ecross = edges
    np_ = len(pieces)
    nu = int(hh_unit.max()) + 1 if len(hh_unit) else 0
    # units that share a piece are merged (connected components over piece-unit incidence)
    inc = sparse.csr_matrix((np.ones(len(hh_unit)), (hh_unit, hh_piece)), shape=(nu, np_))
    link = (inc @ inc.T).tocsr()
    _, merged = connected_components(link, directed=False)
    hu = merged[hh_unit]
    piece_unit = np.full(np_, -1, dtype=np.int64)
    piece_unit[hh_piece] = hu
    piece_unit = _attach(np_, piece_unit, ei, ej, elen, ecross)
    lost = np.flatnonzero(piece_unit < 0)
    if len(lost):  # pieces that touch no unit at all: the nearest one takes them
        have = np.flatnonzero(piece_unit >= 0)
        tree = shapely.STRtree(pieces[have])
        li, hi_ = tree.query_nearest(pieces[lost], all_matches=False)
        piece_unit[lost[li]] = piece_unit[have[hi_]]
    # split units whose household pieces are not connected through their own pieces
    same = piece_unit[ei] == piece_unit[ej]
    g = sparse.csr_matrix((np.ones(same.sum()), (ei[same], ej[same])), shape=(np_, np_))
    _, comp = connected_components(g, directed=False)
    has_hh = np.zeros(np_, dtype=bool)
    has_hh[hh_piece] = True
    # components holding households are units; an empty component (an island attached by
    # distance) stays with the first household component of its unit
    comp_hh = np.zeros(comp.max() + 1, dtype=bool)
    comp_hh[comp[has_hh]] = True
    key = comp
    if not comp_hh[comp].all():
        first_comp_of_unit: dict = {}
        for p in np.flatnonzero(has_hh):
            first_comp_of_unit.setdefault(int(piece_unit[p]), int(comp[p]))
        key = comp.copy()
        for p in np.flatnonzero(~comp_hh[comp]):
            key[p] = first_comp_of_unit[int(piece_unit[p])]
    # renumber by first household row so units are ordered deterministically
    hkey = key[hh_piece]
    _, first_idx, inv = np.unique(hkey, return_index=True, return_inverse=True)
    rank = np.empty(len(first_idx), dtype=np.int64)
    rank[np.argsort(first_idx, kind="stable")] = np.arange(len(first_idx))
    uk = np.unique(hkey)
    piece_final = rank[np.searchsorted(uk, key)]
    return piece_final, piece_final[hh_piece], len(rank)


def _unit_graph(piece_unit, nunits, pieces, edges):
    ei, ej, elen, ecross = edges
    ua, ub = piece_unit[ei], piece_unit[ej]
    inside = ua == ub
    area = np.bincount(piece_unit, weights=shapely.area(pieces), minlength=nunits)
    perim = np.bincount(piece_unit, weights=shapely.length(pieces), minlength=nunits)
    perim -= 2 * np.bincount(ua[inside], weights=elen[inside], minlength=nunits)
    m = ~inside
    lo_, hi_ = np.minimum(ua[m], ub[m]), np.maximum(ua[m], ub[m])
    code = lo_ * nunits + hi_
    uc, inv = np.unique(code, return_inverse=True)
    length = np.bincount(inv, weights=elen[m])
    samezone = np.bincount(inv, weights=(~ecross[m]).astype(float)) > 0
    return uc // nunits, uc % nunits, length, samezone, area, np.maximum(perim, 0)


def _adj(n, i, j, length):
    return sparse.csr_matrix((np.r_[length, length], (np.r_[i, j], np.r_[j, i])), shape=(n, n))


def _plan_units(w, ui, uj, ulen, usame, area, perim, lo, hi, seed, target, whole_total,
                merge=True):
    """Grid label per unit and (status, reason) per grid, handling oversized units, barriers
    and detached parts before the balanced partition.

    Returns labels, then reasons, crossing and failed (one entry per grid label, in label
    order), then whether a failed part could merge across a barrier."""
    n = len(w)
    labels = np.full(n, -1, dtype=np.int64)
    reasons: list[str | None] = []
    crossing: list[bool] = []
    failed: list[bool] = []
    over = np.flatnonzero(w > hi)
    for u in over:
        labels[u] = len(reasons)
        reasons.append(f"unit_over_max: {int(w[u])} households in one building or address "
                       f"(> {hi})")
        crossing.append(False)
        failed.append(False)
    rest = w <= hi
    keep_e = rest[ui] & rest[uj]
    ui, uj, ulen, usame = ui[keep_e], uj[keep_e], ulen[keep_e], usame[keep_e]
    # components without crossing barriers
    same = _adj(n, ui[usame], uj[usame], np.ones(usame.sum()))
    _, comp = connected_components(same, directed=False)
    comp = np.where(rest, comp, -1)
    ids = np.unique(comp[comp >= 0])
    group = {int(c): int(c) for c in ids}

    def find(c):
        while group[c] != c:
            group[c] = group[group[c]]
            c = group[c]
        return c

    def feasible(total):
        return math.ceil(total / hi) <= total // lo if lo > 0 else True

    # lengths of barrier-crossing boundaries between components
    cross_len: dict = {}
    for a, b, ln in zip(comp[ui[~usame]], comp[uj[~usame]], ulen[~usame]):
        if a != b:
            key = (int(min(a, b)), int(max(a, b)))
            cross_len[key] = cross_len.get(key, 0.0) + float(ln)

    def members(r):
        return np.flatnonzero(np.isin(comp, [c for c in ids if find(int(c)) == r]))

    def neighbour_of(r):
        best = None
        for (a, b), ln in sorted(cross_len.items()):
            ra, rb = find(a), find(b)
            if ra != rb and r in (ra, rb) and (best is None or ln > best[0]):
                best = (ln, rb if ra == r else ra)
        return None if best is None else best[1]

    def plan(r):
        idx = members(r)
        sub_m = np.isin(ui, idx) & np.isin(uj, idx)
        pos = np.full(n, -1)
        pos[idx] = np.arange(len(idx))
        g = Graph(w[idx], _adj(len(idx), pos[ui[sub_m]], pos[uj[sub_m]], ulen[sub_m]),
                  area[idx], perim[idx])
        total = int(w[idx].sum())
        ks = candidate_ks(total, lo, hi, len(idx), target)
        lab, info = plan_graph(g, lo, hi, seed=seed, ks=ks)
        return idx, lab, info, total

    # A component that cannot be planned on its own is merged across a barrier with the
    # neighbour it shares most boundary with, and planned again (the report counts crossings).
    results: dict = {}
    mergeable = False
    while True:
        roots = sorted({find(int(c)) for c in ids})
        for r in roots:
            if r not in results:
                results[r] = plan(r)
        # not `failed`: that list holds one flag per grid label and is indexed by the caller
        failed_roots = [r for r in roots if results[r][2]["violation"] > 0]
        if not merge:
            mergeable = any(neighbour_of(r) is not None for r in failed_roots)
            break
        merged = False
        for r in sorted(failed_roots, key=lambda r: (results[r][3], r)):
            other = neighbour_of(r)
            if other is not None:
                group[other] = r
                results.pop(r), results.pop(other)
                merged = True
                break
        if not merged:
            break
    for r in sorted(results):
        idx, lab, info, total = results[r]
        gw = np.bincount(lab, weights=w[idx]).astype(np.int64)
        base = len(reasons)
        labels[idx] = lab + base
        zones_of = comp[idx]
        refinable = info["violation"] > 0 and total >= lo and feasible(total)
        failed += [bool(refinable)] * len(gw)
        for k in range(len(gw)):
            if violation(gw[k:k + 1], lo, hi)[0] == 0:
                reasons.append(None)
            elif total < lo and total == whole_total:
                reasons.append(f"community_below_min: {total} households in the community (< {lo})")
            elif total < lo:
                reasons.append(f"part_below_min: {total} households in a detached part (< {lo})")
            elif not feasible(total):
                reasons.append(f"band_empty: {total} households cannot form grids of {lo}-{hi}")
            elif info.get("proven_infeasible"):
                reasons.append(f"no_contiguous_split: {total} households in {len(idx)} units "
                               f"have no contiguous split into grids of {lo}-{hi} (exhaustive search)")
            else:
                reasons.append(f"search_failed: {total} households, {len(idx)} units")
            crossing.append(len(np.unique(zones_of[lab == k])) > 1)
    return labels, reasons, crossing, failed, mergeable


def _grid_order(geoms):
    """Spatial order, north-west first (by x - y of a point on the surface, then by -y)."""
    rp = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(rp), shapely.get_y(rp)
    return np.lexsort((np.round(x, 3), -np.round(y, 3), np.round(x - y, 3)))


def plan_community(task: dict) -> dict:
    """Plan the grids of one community.

    Estates are kept whole first. When some part of the community has no valid plan with whole
    estates, the estates there are split along building lines (into halves of the bound, then
    into single buildings) and the community is planned again; the report counts split estates.
    A replan starts with the estates its previous plan split already split.

    Parameters
    ----------
    task : dict
        See :func:`_plan_once`.

    Returns
    -------
    dict
    """
    hi = int(task["hi"])
    half = max(1, hi // 2)
    base = _previous_splits(task)
    refine: dict = dict(base)
    merge = False
    res = _plan_once(task, refine, merge)
    for _ in range(6):
        bad = [e for e in res["failed_estates"] if refine.get(e) != 1]
        if bad:
            refine = {**refine, **{e: (1 if refine.get(e) == half else half) for e in bad}}
        elif res["stats"]["mergeable"] and not merge:
            # splitting estates did not help: allow grids across barriers, estates whole again
            merge, refine = True, dict(base)
        else:
            break
        res = _plan_once(task, refine, merge)
    res.pop("failed_estates", None)
    res["stats"].pop("mergeable", None)
    return res


def _previous_splits(task: dict) -> dict:
    """Estates to split into buildings from the start of a replan: those whose default units
    (whole estates, or their building-line pieces) straddle two previous grids.

    The previous plan split them further (estate refinement); from the default units the
    replan could not rebuild its grids, not even for a community that did not change.
    """
    est, prev = task.get("estate"), task.get("previous")
    if est is None or prev is None or len(prev) == 0:
        return {}
    prev = np.asarray(prev, dtype=object)
    kept_ids = {gid for gid, _ in task.get("kept") or []}
    rows = np.flatnonzero([isinstance(p, str) and p not in kept_ids for p in prev])
    if len(rows) == 0:
        return {}
    bld = task.get("building")
    xy = np.asarray(task["xy"], dtype=float).reshape(-1, 2)
    keys = unit_keys(xy[rows], np.asarray(task["hh"], dtype=np.int64)[rows],
                     None if bld is None else np.asarray(bld, dtype=object)[rows],
                     np.asarray(est, dtype=object)[rows], int(task["hi"]))
    grids_of: dict = {}
    for u, p in zip(keys.codes.tolist(), prev[rows].tolist()):
        grids_of.setdefault(u, set()).add(p)
    t_est = keys.table["estate_id"].to_numpy(object)
    return {t_est[u]: 1 for u, g in sorted(grids_of.items())
            if len(g) > 1 and isinstance(t_est[u], str)}


def _plan_once(task: dict, refine: dict, merge: bool) -> dict:
    """Plan the grids of one community with the given estate refinement.

    Parameters
    ----------
    task : dict
        ``community_id``, ``polygon`` (metric), ``barriers`` (array of lines, metric),
        ``xy`` (n, 2), ``hh`` (int), ``building``, ``estate`` (object arrays or None),
        ``lo``, ``hi``, ``seed``, ``micro_max`` (or None), ``kept`` (list of (grid_id, polygon)),
        ``previous`` (previous grid id per household or None), ``previous_unchanged`` (True
        when the community's households are exactly those of its previous grids).

    Returns
    -------
    dict
        ``grid_of`` (grid_id per household), ``micro_of`` (or None), ``grids``, ``units``,
        ``micro`` (lists of dict rows with metric geometry), ``stats``.
    """
    cid = task["community_id"]
    poly = task["polygon"]
    xy = np.asarray(task["xy"], dtype=float).reshape(-1, 2)
    hh = np.asarray(task["hh"], dtype=np.int64)
    lo, hi, seed = int(task["lo"]), int(task["hi"]), int(task["seed"])
    n = len(hh)
    grid_of = np.empty(n, dtype=object)
    grids, units_out = [], []
    stats = {"estates_split": 0, "barrier_crossings": 0, "multipart_grids": 0, "replanned": False,
             "mergeable": False}

    # --- kept grids: their households and ground are taken out before planning -------------
    # kept polygons read back from a file differ from the community in the last digits: snap
    # them to its vertices first so that shared edges coincide (no slivers, valid unions)
    bl = task.get("barriers")
    snap_to = shapely.union_all(np.r_[np.array([poly], dtype=object),
                                      np.asarray(bl if bl is not None else [], dtype=object)])
    kept = [(gid, _polygonal(shapely.intersection(shapely.make_valid(shapely.snap(g, snap_to, 0.05)),
                                                  poly)))
            for gid, g in task.get("kept") or []]
    kept = [(gid, g) for gid, g in kept if shapely.area(g) > _MIN_PIECE_AREA]
    nk = len(kept)
    kg = np.array([g for _, g in kept], dtype=object)
    in_kept = _first_hit(shapely.points(xy), kg) if nk else np.full(n, -1)
    free = np.flatnonzero(in_kept < 0)
    if n == 0 and nk == 0:
        # nothing to anchor units to: the whole community is one empty grid, so that the grids
        # still tile the community and the planner sees it flagged
        stats["multipart_grids"] = int(shapely.get_type_id(_polygonal(poly)) != 3)
        grids.append({"grid_id": f"{cid}-01", "households": 0, "status": "under",
                      "reason": f"no_households: no households in the community (< {lo})",
                      "geometry": _polygonal(poly), "barrier_crossing": False, "kept": False})
        return {"grid_of": grid_of, "micro_of": np.empty(0, dtype=object) if task.get("micro_max")
                else None, "grids": grids, "units": units_out, "micro": [], "stats": stats,
                "failed_estates": []}

    # --- units of the free households ----------------------------------------------------------
    bld = task.get("building")
    est = task.get("estate")
    keys = unit_keys(xy[free], hh[free], None if bld is None else np.asarray(bld, dtype=object)[free],
                     None if est is None else np.asarray(est, dtype=object)[free], hi,
                     prefix=f"{cid}/", refine=refine)

    all_pieces, all_zone, face_kept = _pieces(poly, task.get("barriers"), xy[free], kg)
    ei, ej, elen = shared_boundaries(all_pieces)
    ecross = all_zone[ei] != all_zone[ej]
    edges = (ei, ej, elen, ecross)

    # kept grids are units 0..nk-1 (every face inside one is anchored to it); free units follow
    free_faces = np.flatnonzero(face_kept < 0)
    hh_piece = np.empty(n, dtype=np.int64)
    unit0 = np.empty(n, dtype=np.int64)
    rows_kept = np.flatnonzero(in_kept >= 0)
    if len(rows_kept):
        first_face = np.full(nk, -1)
        kf = np.flatnonzero(face_kept >= 0)
        first_face[face_kept[kf[::-1]]] = kf[::-1]
        hh_piece[rows_kept] = first_face[in_kept[rows_kept]]
        unit0[rows_kept] = in_kept[rows_kept]
    if len(free):
        hh_piece[free] = free_faces[_locate(xy[free], all_pieces[free_faces])]
        unit0[free] = keys.codes + nk
    anchors = np.flatnonzero(face_kept >= 0)
    hh_piece_all = np.r_[hh_piece, anchors]
    unit_all = np.r_[unit0, face_kept[anchors]]
    piece_unit, hh_unit_all, nunits = _units_on_pieces(all_pieces, all_zone, hh_piece_all, unit_all,
                                                       edges)
    hh_unit = hh_unit_all[:n]
    kept_of_unit = np.full(nunits, -1)
    kept_of_unit[hh_unit_all[n:]] = face_kept[anchors]
    w = np.bincount(hh_unit, weights=hh, minlength=nunits).astype(np.int64)
    ui, uj, ulen, usame, area, perim = _unit_graph(piece_unit, nunits, all_pieces, edges)

    free_units = np.flatnonzero(kept_of_unit < 0)
    labels = np.full(nunits, -1, dtype=np.int64)
    reasons: list = []
    crossing: list = []
    failed: list = []
    for k_i in range(nk):
        labels[kept_of_unit == k_i] = k_i
        reasons.append("kept")
        crossing.append(False)
        failed.append(False)
    if len(free_units):
        pos = np.full(nunits, -1)
        pos[free_units] = np.arange(len(free_units))
        m = (pos[ui] >= 0) & (pos[uj] >= 0)
        whole_total = int(w[free_units].sum()) if not kept else -1
        prev = task.get("previous")
        lab, rs, cr, fl, stats["mergeable"] = _plan_units(
            w[free_units], pos[ui[m]], pos[uj[m]], ulen[m], usame[m], area[free_units],
            perim[free_units], lo, hi, seed, None, whole_total, merge)
        if prev is not None:
            lab, rs, cr, moved = _replan(lab, rs, cr, fl, prev, hh_unit, free_units, w, pos, ui,
                                         uj, ulen, usame, area, perim, lo, hi, seed, whole_total,
                                         hh, unchanged=bool(task.get("previous_unchanged")))
            stats["replanned"] = moved
            if moved:
                fl = [False] * len(rs)
        labels[free_units] = lab + nk
        reasons += rs
        crossing += cr
        failed += fl
    ngrids = len(reasons)
    hh_grid = labels[hh_unit]
    piece_grid = labels[piece_unit]
    # grid polygons: union of pieces per grid
    order = np.argsort(piece_grid, kind="stable")
    bounds = np.searchsorted(piece_grid[order], np.arange(ngrids + 1))
    geoms = np.array([_union(all_pieces[order[bounds[g]:bounds[g + 1]]])
                      for g in range(ngrids)], dtype=object)
    gw = np.bincount(hh_grid, weights=hh, minlength=ngrids).astype(np.int64)

    # --- codes: kept grids keep theirs; new grids are numbered north-west first ------------------
    used = set()
    code = np.empty(ngrids, dtype=object)
    for k_i, (gid, _) in enumerate(kept):
        code[k_i] = gid
        used.add(_number(gid, cid))
    new = np.arange(nk, ngrids)
    ordered = new[_grid_order(geoms[new])] if len(new) else new
    # replanned grids take the code of the previous grid they mostly continue (one-to-one)
    if task.get("previous") is not None and len(new):
        prev = np.asarray(task["previous"], dtype=object)
        pairs = {}
        for g, p, h in zip(hh_grid, prev, hh):
            if g >= nk and p is not None and isinstance(p, str) and p.startswith(f"{cid}-"):
                pairs[(int(g), p)] = pairs.get((int(g), p), 0) + int(h)
        for (g, p), h in sorted(pairs.items(), key=lambda t: (-t[1], t[0])):
            if code[g] is None and _number(p, cid) not in used:
                code[g] = p
                used.add(_number(p, cid))
    nxt = 1
    for g in ordered:
        if code[g] is not None:
            continue
        while nxt in used:
            nxt += 1
        code[g] = f"{cid}-{nxt:02d}"
        used.add(nxt)
    grid_of[:] = code[hh_grid]

    for g in range(ngrids):
        geom = geoms[g]
        status = "ok" if lo <= gw[g] <= hi else ("under" if gw[g] < lo else "over")
        reason = reasons[g]
        if reason == "kept":
            reason = None if status == "ok" else f"kept: grid kept as given with {gw[g]} households"
        elif status == "ok":
            reason = None
        multipart = shapely.get_type_id(geom) != 3
        stats["multipart_grids"] += int(multipart)
        stats["barrier_crossings"] += int(crossing[g])
        grids.append({"grid_id": code[g], "households": int(gw[g]), "status": status,
                      "reason": reason, "geometry": geom, "barrier_crossing": bool(crossing[g]),
                      "kept": g < nk})
    # --- units out (free units and kept grids as units) ------------------------------------------
    uorder = np.argsort(piece_unit, kind="stable")
    ub = np.searchsorted(piece_unit[uorder], np.arange(nunits + 1))
    ugeom = [_union(all_pieces[uorder[ub[u]:ub[u + 1]]]) for u in range(nunits)]
    first_row = np.full(nunits, n)
    np.minimum.at(first_row, hh_unit, np.arange(n))
    unit_name = np.empty(nunits, dtype=object)
    unit_kind = np.empty(nunits, dtype=object)
    unit_est = np.empty(nunits, dtype=object)
    t_id = keys.table["unit_id"].to_numpy(object)
    t_kind = keys.table["kind"].to_numpy(object)
    t_est = keys.table["estate_id"].to_numpy(object)
    for u in range(nunits):
        r = first_row[u]
        if kept_of_unit[u] >= 0:
            unit_name[u], unit_kind[u], unit_est[u] = f"{cid}/kept:{kept[kept_of_unit[u]][0]}", "kept", None
        elif r < n:
            ki = keys.codes[np.searchsorted(free, r)]
            unit_name[u], unit_kind[u], unit_est[u] = t_id[ki], t_kind[ki], t_est[ki]
    # a unit split into detached parts gets a suffix so that ids stay unique
    seen: dict = {}
    for u in range(nunits):
        base = unit_name[u]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            unit_name[u] = f"{base}~{seen[base]}"
    for u in range(nunits):
        units_out.append({"unit_id": unit_name[u], "grid_id": code[labels[u]], "kind": unit_kind[u],
                          "estate_id": unit_est[u], "households": int(w[u]), "geometry": ugeom[u]})
    # estates split: estates whose households are in more than one grid
    if est is not None:
        e = np.asarray(est, dtype=object)
        ok = np.array([isinstance(v, str) for v in e])
        if ok.any():
            pairs = set(zip(e[ok].tolist(), hh_grid[ok].tolist()))
            per = {}
            for ee, _ in pairs:
                per[ee] = per.get(ee, 0) + 1
            stats["estates_split"] = sum(1 for v in per.values() if v > 1)

    failed_estates: set = set()
    if est is not None and any(failed):
        e = np.asarray(est, dtype=object)
        bad_rows = np.asarray(failed, dtype=bool)[hh_grid]
        failed_estates = {v for v in e[bad_rows] if isinstance(v, str) and refine.get(v) != 1}
    micro_of, micro = None, []
    if task.get("micro_max"):
        micro_of, micro = _micro(task, cid, xy, hh, hh_grid, code, all_pieces, all_zone, edges,
                                 hh_piece, piece_grid, seed)
    return {"grid_of": grid_of, "micro_of": micro_of, "grids": grids, "units": units_out,
            "micro": micro, "stats": stats, "failed_estates": sorted(failed_estates)}


def _number(gid: str, cid: str) -> int | None:
    tail = str(gid)[len(cid) + 1:] if str(gid).startswith(f"{cid}-") else ""
    return int(tail) if tail.isdigit() else None


def _replan(lab, rs, cr, fl, prev, hh_unit, free_units, w, pos, ui, uj, ulen, usame, area, perim,
            lo, hi, seed, whole_total, hh, unchanged=False):
    """Start from the previous grids instead of METIS and repair only what the changes broke.

    Each unit starts in the previous grid that held most of its households; new units join a
    neighbour; a unit over the maximum is a grid of its own, as in a fresh plan. A community whose
    households did not change keeps its previous grids as they are. The result replaces the fresh
    plan when it meets the bounds, or when it is no further outside them than the fresh plan and
    that one cannot be improved by splitting estates (few households move); otherwise the fresh
    plan stands.
    """
    from gridplan.grids.search import _relabel, _repair, make_contiguous

    prev = np.asarray(prev, dtype=object)
    nf = len(free_units)
    # previous grid per free unit: the one holding most of its households
    votes: dict = {}
    for r in range(len(prev)):
        p = prev[r]
        u = pos[hh_unit[r]]
        if u >= 0 and isinstance(p, str):
            votes[(u, p)] = votes.get((u, p), 0) + int(hh[r])
    best: dict = {}
    for (u, p), v in sorted(votes.items(), key=lambda t: (t[0][0], -t[1], t[0][1])):
        best.setdefault(u, p)
    names = sorted(set(best.values()))
    init = np.full(nf, -1, dtype=np.int64)
    for u, p in best.items():
        init[u] = names.index(p)
    if (init < 0).all():
        return lab, rs, cr, False
    wf = w[free_units].astype(np.int64)
    m = (pos[ui] >= 0) & (pos[uj] >= 0)
    fresh_v = int(violation(np.bincount(lab, weights=wf).astype(np.int64), lo, hi).sum())
    over = wf > hi
    # oversized units stand alone (no edges), as in _plan_units; the rest is repaired per
    # connected component so that grids never span components
    em = m & ~over[np.maximum(pos[ui], 0)] & ~over[np.maximum(pos[uj], 0)]
    adj = _adj(nf, pos[ui[em]], pos[uj[em]], ulen[em])
    _, comp = connected_components(adj, directed=False)
    sz = _adj(nf, pos[ui[em & usame]], pos[uj[em & usame]], np.ones(int((em & usame).sum())))
    _, zone_comp = connected_components(sz, directed=False)

    def assemble(repair: bool) -> np.ndarray:
        out = np.full(nf, -1, dtype=np.int64)
        base = 0
        for c in np.unique(comp):
            idx = np.flatnonzero(comp == c)
            sub = Graph(wf[idx], adj[idx][:, idx], area[free_units][idx], perim[free_units][idx])
            start = init[idx].copy()
            if over[idx].all() or (start < 0).all():
                start[:] = 0
            start = make_contiguous(sub, _fill_orphans(sub, start))
            if repair:
                start = _repair(sub, start, lo, hi, seed, 4 * len(idx) + 20).labels
            lab_c = _relabel(start)
            out[idx] = lab_c + base
            base += lab_c.max() + 1
        return out

    def v_of(out):
        return int(violation(np.bincount(out, weights=wf).astype(np.int64), lo, hi).sum())

    def local_fresh(out):
        """Plan afresh only around the grids still outside the bounds: the grid, then it with
        its neighbouring grids, ring by ring, until that region has a plan within the bounds
        (the rest of the community keeps its grids)."""
        out = out.copy()
        coo = adj.tocoo()

        def bad_grids(o):
            gw = np.bincount(o, weights=wf).astype(np.int64)
            cnt = np.bincount(o)
            return [int(k) for k in np.flatnonzero(violation(gw, lo, hi) > 0)
                    if not (cnt[k] == 1 and gw[k] > hi)]

        tried: set = set()
        for _ in range(4 * nf + 4):
            bad = [k for k in bad_grids(out) if k not in tried]
            if not bad:
                break
            region = {bad[0]}
            while True:
                idx = np.flatnonzero(np.isin(out, sorted(region)))
                t = int(wf[idx].sum())
                if math.ceil(t / hi) <= t // lo:
                    sub = Graph(wf[idx], adj[idx][:, idx], area[free_units][idx],
                                perim[free_units][idx])
                    lab_s, info = plan_graph(sub, lo, hi, seed=seed,
                                             ks=candidate_ks(t, lo, hi, len(idx)))
                    if info["violation"] == 0:
                        out[idx] = out.max() + 1 + lab_s
                        out = _relabel(out)
                        break
                inr = np.isin(out[coo.row], sorted(region))
                ring = set(np.unique(out[coo.col[inr]]).tolist()) - region
                if not ring:
                    tried |= region
                    break
                region |= ring
        return out

    out, v = None, None
    if unchanged:
        out = assemble(repair=False)
        v = v_of(out)
    if out is None or v > 0:
        rep = assemble(repair=True)
        rv = v_of(rep)
        if out is None or rv < v:
            out, v = rep, rv
    if v > fresh_v or (v > 0 and any(fl)):
        loc = local_fresh(out)
        lv = v_of(loc)
        if lv < v:
            out, v = loc, lv
    if v > 0 and (v > fresh_v or any(fl)):
        # a repaired plan further outside the bounds, or one that splitting estates might
        # still fix, is no use: the fresh plan (and the estate refinement that follows) decides
        return lab, rs, cr, False
    if v == fresh_v and _moved(lab, init, wf) < _moved(out, init, wf):
        return lab, rs, cr, False  # as good, and the fresh plan happens to move fewer
    gw = np.bincount(out, weights=wf).astype(np.int64)
    total = int(wf.sum())
    ctot = np.bincount(comp, weights=wf).astype(np.int64)
    rs2, cr2 = [], []
    for k in range(len(gw)):
        members = np.flatnonzero(out == k)
        t = int(ctot[comp[members[0]]])
        if violation(gw[k:k + 1], lo, hi)[0] == 0:
            rs2.append(None)
        elif gw[k] > hi and len(members) == 1:
            rs2.append(f"unit_over_max: {int(gw[k])} households in one building or address (> {hi})")
        elif total < lo and total == whole_total:
            rs2.append(f"community_below_min: {total} households in the community (< {lo})")
        elif t < lo:
            rs2.append(f"part_below_min: {t} households in a detached part (< {lo})")
        elif math.ceil(t / hi) > t // lo:
            rs2.append(f"band_empty: {t} households cannot form grids of {lo}-{hi}")
        else:
            rs2.append(f"search_failed: replanned from the previous grids ({t} households)")
        cr2.append(bool(len(np.unique(zone_comp[members])) > 1))
    return out, rs2, cr2, True


def _moved(labels: np.ndarray, init: np.ndarray, w: np.ndarray) -> int:
    """Households of previously planned units not in the grid that continues their previous
    grid (new grids matched one-to-one to previous ones by shared households, largest first)."""
    had = init >= 0
    share: dict = {}
    for a, b, x in zip(labels[had].tolist(), init[had].tolist(), w[had].tolist()):
        share[(a, b)] = share.get((a, b), 0) + x
    used_a, used_b, kept = set(), set(), 0
    for (a, b), x in sorted(share.items(), key=lambda t: (-t[1], t[0])):
        if a not in used_a and b not in used_b:
            used_a.add(a), used_b.add(b)
            kept += x
    return int(w[had].sum()) - kept


def _fill_orphans(g: Graph, start: np.ndarray) -> np.ndarray:
    """Units without a previous grid join the neighbouring grid with the longest shared edge."""
    lab = start.copy()
    while (lab < 0).any():
        un = np.flatnonzero(lab < 0)
        coo = g.adj[un].tocoo()
        nb = lab[coo.col]
        ok = nb >= 0
        if not ok.any():
            lab[un[0]] = lab.max() + 1
            continue
        rows, labs, lens = un[coo.row[ok]], nb[ok], coo.data[ok]
        order = np.lexsort((labs, -lens, rows))
        rows, labs = rows[order], labs[order]
        first = np.r_[True, rows[1:] != rows[:-1]]
        lab[rows[first]] = labs[first]
    return lab


def _micro(task, cid, xy, hh, hh_grid, code, pieces, zone, edges, hh_piece, piece_grid, seed):
    """Split every grid into micro-grids of at most ``micro_max`` households, same machinery."""
    mm = int(task["micro_max"])
    bld = task.get("building")
    est = task.get("estate")
    micro_of = np.empty(len(hh), dtype=object)
    rows_out = []
    ei, ej, elen, ecross = edges
    for g in range(len(code)):
        rows = np.flatnonzero(hh_grid == g)
        pidx = np.flatnonzero(piece_grid == g)
        if len(rows) == 0:
            continue
        keys = unit_keys(xy[rows], hh[rows], None if bld is None else np.asarray(bld, dtype=object)[rows],
                         None if est is None else np.asarray(est, dtype=object)[rows], mm)
        loc = np.full(len(pieces), -1)
        loc[pidx] = np.arange(len(pidx))
        m = (loc[ei] >= 0) & (loc[ej] >= 0)
        sub_edges = (loc[ei[m]], loc[ej[m]], elen[m], ecross[m])
        sp = pieces[pidx]
        pu, hu, nu = _units_on_pieces(sp, zone[pidx], loc[hh_piece[rows]], keys.codes, sub_edges)
        w = np.bincount(hu, weights=hh[rows], minlength=nu).astype(np.int64)
        ui, uj, ulen, usame, area, perim = _unit_graph(pu, nu, sp, sub_edges)
        lab, rs, _, _, _ = _plan_units(w, ui, uj, ulen, usame, area, perim, 1, mm, seed, float(mm),
                                    -1)
        nm = len(rs)
        mg = lab[pu]
        geoms = np.array([_union(sp[mg == k]) for k in range(nm)], dtype=object)
        order = _grid_order(geoms)
        num = np.empty(nm, dtype=np.int64)
        num[order] = np.arange(1, nm + 1)
        mw = np.bincount(lab[hu], weights=hh[rows], minlength=nm).astype(np.int64)
        micro_of[rows] = [f"{code[g]}-{num[k]:02d}" for k in lab[hu]]
        for k in order:
            rows_out.append({"micro_grid_id": f"{code[g]}-{num[k]:02d}", "grid_id": code[g],
                             "households": int(mw[k]),
                             "status": "ok" if mw[k] <= mm else "over",
                             "reason": None if mw[k] <= mm else rs[k],
                             "geometry": geoms[k]})
    return micro_of, rows_out
