"""Planning one community: a pure top-level function (plain arrays in, plain arrays out).

:func:`plan_community` is what runs in a worker process (and what a Dask engine can map over
communities): it takes the community polygon, its household points, barrier lines, locks and the
previous plan in a metric CRS, and returns the grid number of every household, the grid polygons,
the units and the micro-grids. It holds no global state, so the result depends only on its input.

Pipeline: atomic units (:mod:`gridplan.grids.units`) -> pieces of the community, the faces of
the Voronoi edges of the distinct household locations, barriers and kept grids
(:mod:`gridplan.grids.cells`) -> every piece belongs to one unit (empty pieces join a
neighbour) -> unit graph = summed shared boundary of their pieces (:mod:`gridplan.grids.unitgraph`)
-> balanced contiguous partition per barrier-free region (:mod:`gridplan.grids.regions`,
:mod:`gridplan.grids.search`), or a repair of the previous grids (:mod:`gridplan.grids.replan`),
planned again with estates split while a part has no plan -> for the plan kept: an estate held by
one grid takes back its ground (:mod:`gridplan.grids.estateground`), the empty ground goes to the
side that puts the lines on streets and walls (:mod:`gridplan.grids.lines`) -> grid polygon =
union of its pieces, codes (:mod:`gridplan.grids.numbering`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely

from gridplan.geometry.featurecells import SETBACK_M
from gridplan.grids.cells import (
    MIN_PIECE_AREA,
    Features,
    Pieces,
    first_hit,
    locate,
    pieces,
    polygonal,
    union,
)
from gridplan.grids.estateground import estate_ground
from gridplan.grids.footprints import cell_owner
from gridplan.grids.lines import place_lines
from gridplan.grids.micro import micro_grids
from gridplan.grids.numbering import grid_codes
from gridplan.grids.reasons import REASONS, Reason
from gridplan.grids.regions import UnitPlan, plan_units
from gridplan.grids.replan import Previous, replan
from gridplan.grids.unitgraph import UnitGraph, unit_graph, units_on_pieces
from gridplan.grids.units import UnitKeys, unit_keys

__all__ = ["REASONS", "plan_community"]

#: Placeholder reason of a kept grid; its figures are known once its households are counted.
_KEPT = Reason("kept")


def plan_community(task: dict) -> dict:
    """Plan the grids of one community.

    Estates are kept whole first. When some part of the community has no valid plan with whole
    estates, the estates there are split along building lines (into halves of the bound, then
    into single buildings) and the community is planned again; the report counts split estates.
    A replan starts with the estates its previous plan split already split.

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
    hi = int(task["hi"])
    half = max(1, hi // 2)
    base = _previous_splits(task)
    refine: dict = dict(base)
    merge = False
    cache: dict = {}  # the pieces do not depend on the estate refinement: cut them once
    kept = _kept_grids(task)
    if len(task["hh"]) == 0 and not kept:
        return _empty_community(task, {k: v for k, v in _stats().items() if k != "mergeable"})
    # only the plan decides whether to plan again: lines and polygons are drawn for the last one
    planned = _plan_once(task, kept, refine, merge, cache)
    for _ in range(6):
        bad = [e for e in planned.failed_estates if refine.get(e) != 1]
        if bad:
            refine = {**refine, **{e: (1 if refine.get(e) == half else half) for e in bad}}
        elif planned.stats["mergeable"] and not merge:
            # splitting estates did not help: allow grids across barriers, estates whole again
            merge, refine = True, dict(base)
        else:
            break
        planned = _plan_once(task, kept, refine, merge, cache)
    planned.stats.pop("mergeable", None)
    return _drawn(task, kept, planned, cache)


def _rows(values, rows: np.ndarray):
    return None if values is None else np.asarray(values, dtype=object)[rows]


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
    xy = np.asarray(task["xy"], dtype=float).reshape(-1, 2)
    keys = unit_keys(
        xy[rows],
        np.asarray(task["hh"], dtype=np.int64)[rows],
        _rows(task.get("building"), rows),
        np.asarray(est, dtype=object)[rows],
        int(task["hi"]),
    )
    grids_of: dict = {}
    for u, p in zip(keys.codes.tolist(), prev[rows].tolist()):
        grids_of.setdefault(u, set()).add(p)
    t_est = keys.table["estate_id"].to_numpy(object)
    return {t_est[u]: 1 for u, g in sorted(grids_of.items()) if len(g) > 1 and isinstance(t_est[u], str)}


def _kept_grids(task: dict) -> list[tuple[str, object]]:
    """The kept grids (grid_id, polygon) clipped to the community, slivers dropped."""
    given = task.get("kept") or []
    if not given:
        return []
    poly = task["polygon"]
    # kept polygons read back from a file differ from the community in the last digits: snap
    # them to its vertices first so that shared edges coincide (no slivers, valid unions)
    bl = task.get("barriers")
    snap_to = shapely.union_all(
        np.r_[np.array([poly], dtype=object), np.asarray(bl if bl is not None else [], dtype=object)]
    )
    kept = [
        (gid, polygonal(shapely.intersection(shapely.make_valid(shapely.snap(g, snap_to, 0.05)), poly)))
        for gid, g in given
    ]
    return [(gid, g) for gid, g in kept if shapely.area(g) > MIN_PIECE_AREA]


def _empty_community(task: dict, stats: dict) -> dict:
    """Nothing to anchor units to: the whole community is one empty grid, so that the grids
    still tile the community and the planner sees it flagged."""
    cid, poly = task["community_id"], task["polygon"]
    stats["multipart_grids"] = int(shapely.get_type_id(polygonal(poly)) != 3)
    grids = [
        {
            "grid_id": f"{cid}-01",
            "households": 0,
            "status": "under",
            "reason": Reason("no_households", {"lo": int(task["lo"])}).text(),
            "geometry": polygonal(poly),
            "barrier_crossing": False,
            "kept": False,
        }
    ]
    return {
        "grid_of": np.empty(0, dtype=object),
        "micro_of": np.empty(0, dtype=object) if task.get("micro_max") else None,
        "grids": grids,
        "units": [],
        "micro": [],
        "stats": stats,
    }


@dataclass(frozen=True)
class _Units:
    """The units of a community on its pieces; kept grids are units 0..nk-1."""

    keys: UnitKeys  # units of the free households
    free: np.ndarray  # household rows outside kept grids
    pieces: Pieces
    hh_piece: np.ndarray  # piece of every household row
    piece_unit: np.ndarray
    hh_unit: np.ndarray
    kept_of_unit: np.ndarray  # kept grid of every unit, -1 for free units
    graph: UnitGraph


def _units(task: dict, refine: dict, kept: list, in_kept: np.ndarray, cache: dict) -> _Units:
    """Units of the free households and kept grids, consistent with the pieces."""
    cid = task["community_id"]
    xy = np.asarray(task["xy"], dtype=float).reshape(-1, 2)
    hh = np.asarray(task["hh"], dtype=np.int64)
    n, nk = len(hh), len(kept)
    free = np.flatnonzero(in_kept < 0)
    keys = unit_keys(
        xy[free],
        hh[free],
        _rows(task.get("building"), free),
        _rows(task.get("estate"), free),
        int(task["hi"]),
        prefix=f"{cid}/",
        refine=refine,
    )
    fp = task.get("footprints")
    if "pieces" not in cache:
        cache["pieces"] = pieces(
            task["polygon"],
            task.get("barriers"),
            xy[free],
            np.array([g for _, g in kept], dtype=object),
            Features(task.get("streets"), task.get("estate_polys"), fp),
        )
    p = cache["pieces"]
    # every face inside a kept grid is anchored to it; free units follow the kept ones
    hh_piece = np.empty(n, dtype=np.int64)
    unit0 = np.empty(n, dtype=np.int64)
    rows_kept = np.flatnonzero(in_kept >= 0)
    if len(rows_kept):
        first_face = np.full(nk, -1)
        kf = np.flatnonzero(p.kept >= 0)
        first_face[p.kept[kf[::-1]]] = kf[::-1]
        hh_piece[rows_kept] = first_face[in_kept[rows_kept]]
        unit0[rows_kept] = in_kept[rows_kept]
    if len(free):
        free_faces = np.flatnonzero(p.kept < 0)
        hh_piece[free] = free_faces[locate(xy[free], p.geoms[free_faces])]
        unit0[free] = keys.codes + nk
    anchors = np.flatnonzero(p.kept >= 0)
    if "where" not in cache:
        cache["where"] = _where(task, p)
        cache["group"] = cache["where"].estate
    preset = _preset(task, p, cache["where"], unit0, free, keys.codes + nk)
    piece_unit, hh_unit_all, nunits = units_on_pieces(
        p, np.r_[hh_piece, anchors], np.r_[unit0, p.kept[anchors]], preset, cache["group"]
    )
    hh_unit = hh_unit_all[:n]
    kept_of_unit = np.full(nunits, -1)
    kept_of_unit[hh_unit_all[n:]] = p.kept[anchors]
    w = np.bincount(hh_unit, weights=hh, minlength=nunits).astype(np.int64)
    return _Units(
        keys, free, p, hh_piece, piece_unit, hh_unit, kept_of_unit, unit_graph(piece_unit, nunits, p, w)
    )


def _preset(
    task: dict, p: Pieces, where: _Where, unit0: np.ndarray, free: np.ndarray, codes: np.ndarray
) -> np.ndarray | None:
    """The unit each empty piece should join before any neighbour: the other pieces of a
    footprint go to its households' unit, the ground around a footprint (its tessellation cell)
    too, the other pieces of an estate (courtyards, lawns) to the estate's unit when the estate
    is one unit. The cell wins over the estate: a building left alone inside another unit's
    ground would become a unit of its own, an island.

    Returns
    -------
    ndarray of int or None
        Unit (as in ``unit0``) per piece, -1 where free to join a neighbour.
    """
    fp, est_polys = task.get("footprints"), task.get("estate_polys")
    if (fp is None or not len(fp)) and (est_polys is None or not len(est_polys)):
        return None
    preset = np.full(len(p), -1, dtype=np.int64)
    free_piece = p.kept < 0
    if est_polys is not None and len(est_polys) and task.get("estate") is not None:
        est = np.asarray(task["estate"], dtype=object)[free]
        unit_of: dict = {}
        for e, u in zip(est.tolist(), codes.tolist()):
            unit_of.setdefault(e, set()).add(u)
        ids = np.asarray(task["estate_poly_ids"], dtype=object)
        whole = np.array([len(unit_of.get(e, ())) == 1 for e in ids], dtype=bool)
        unit = np.array([min(unit_of[e]) if w else -1 for e, w in zip(ids, whole)], dtype=np.int64)
        face_est = where.estate
        m = free_piece & (face_est >= 0)
        preset[m] = unit[face_est[m]]
    row_fp = task.get("row_fp")
    if fp is not None and len(fp) and row_fp is not None:
        row_fp = np.asarray(row_fp, dtype=np.int64)
        fp_unit = np.full(len(fp), -1, dtype=np.int64)
        has = np.flatnonzero(row_fp >= 0)
        fp_unit[row_fp[has[::-1]]] = unit0[has[::-1]]  # the footprint's first row decides
        face_fp = where.footprint
        m = free_piece & (face_fp >= 0) & (fp_unit[np.maximum(face_fp, 0)] >= 0)
        preset[m] = fp_unit[face_fp[m]]
        ring = cell_owner(p, np.where(face_fp >= 0, fp_unit[np.maximum(face_fp, 0)], -1))
        m = free_piece & (face_fp < 0) & (ring >= 0)
        preset[m] = ring[m]
    return preset


def _plan_all(task: dict, cu: _Units, nk: int, merge: bool, stats: dict) -> UnitPlan:
    """Grids of all units: kept grids first (one each), then the plan of the free units."""
    lo, hi, seed = int(task["lo"]), int(task["hi"]), int(task["seed"])
    out = UnitPlan(np.full(cu.graph.n, -1, dtype=np.int64), [], [], [])
    for k_i in range(nk):
        out.labels[cu.kept_of_unit == k_i] = k_i
        out.reasons.append(_KEPT)
        out.crossing.append(False)
        out.failed.append(False)
    free_units = np.flatnonzero(cu.kept_of_unit < 0)
    if not len(free_units):
        return out
    g = cu.graph.subset(free_units)
    whole_total = int(g.weights.sum()) if not nk else -1
    plan = plan_units(g, lo, hi, seed, whole_total=whole_total, merge=merge)
    stats["mergeable"] = plan.mergeable
    if task.get("previous") is not None:
        pos = np.full(cu.graph.n, -1)
        pos[free_units] = np.arange(len(free_units))
        previous = Previous(
            np.asarray(task["previous"], dtype=object),
            pos[cu.hh_unit],
            np.asarray(task["hh"], dtype=np.int64),
            bool(task.get("previous_unchanged")),
        )
        plan, stats["replanned"] = replan(plan, g, previous, lo, hi, seed, whole_total)
    out.labels[free_units] = plan.labels + nk
    out.reasons += plan.reasons
    out.crossing += plan.crossing
    out.failed += plan.failed
    return out


def _stats() -> dict:
    """The figures a plan counts, all zero."""
    return {
        "estates_split": 0,
        "barrier_crossings": 0,
        "multipart_grids": 0,
        "replanned": False,
        "mergeable": False,
    }


@dataclass(frozen=True)
class _Planned:
    """A plan of a community's units, before its lines and polygons are drawn."""

    cu: _Units
    plan: UnitPlan
    hh_grid: np.ndarray  # grid of every household row
    stats: dict
    failed_estates: list  # estates that splitting may help


def _plan_once(task: dict, kept: list, refine: dict, merge: bool, cache: dict) -> _Planned:
    """Plan the grids of one community with the given estate refinement.

    Parameters
    ----------
    task : dict
        See :func:`plan_community`.
    kept : list
        The kept grids (:func:`_kept_grids`).
    refine : dict
        ``estate_id -> cap`` (:func:`gridplan.grids.units.unit_keys`).
    merge : bool
        Merge parts without a plan across barriers.
    cache : dict
        Shared by the calls of one community (its pieces).
    """
    xy = np.asarray(task["xy"], dtype=float).reshape(-1, 2)
    stats = _stats()
    nk = len(kept)
    if "in_kept" not in cache:
        kg = np.array([g for _, g in kept], dtype=object)
        cache["in_kept"] = first_hit(shapely.points(xy), kg) if nk else np.full(len(xy), -1)
    cu = _units(task, refine, kept, cache["in_kept"], cache)
    plan = _plan_all(task, cu, nk, merge, stats)
    hh_grid = plan.labels[cu.hh_unit]
    est = task.get("estate")
    stats["estates_split"] = _estates_split(est, hh_grid, stats["estates_split"])
    failed_estates: set = set()
    if est is not None and any(plan.failed):
        e = np.asarray(est, dtype=object)
        bad_rows = np.asarray(plan.failed, dtype=bool)[hh_grid]
        failed_estates = {v for v in e[bad_rows] if isinstance(v, str) and refine.get(v) != 1}
    return _Planned(cu, plan, hh_grid, stats, sorted(failed_estates))


def _drawn(task: dict, kept: list, planned: _Planned, cache: dict) -> dict:
    """The grids of a plan: lines placed on the features, polygons, codes and rows.

    Returns
    -------
    dict
        As :func:`plan_community`.
    """
    cid = task["community_id"]
    hh = np.asarray(task["hh"], dtype=np.int64)
    cu, plan, hh_grid, stats, nk = planned.cu, planned.plan, planned.hh_grid, planned.stats, len(kept)
    ngrids = len(plan.reasons)
    where, group = cache["where"], cache["group"]
    movable = _movable(task, cu, where.point)
    if group is not None:
        on_fp = np.zeros(len(cu.pieces), dtype=bool) if where.footprint is None else where.footprint >= 0
        cu = replace(
            cu, piece_unit=estate_ground(cu.pieces, cu.piece_unit, plan.labels, group, cu.hh_piece, on_fp)
        )
        movable = movable & ~_whole(group, cu.hh_piece, plan.labels[cu.piece_unit])
    fixed = np.arange(ngrids) < nk
    cu = replace(cu, piece_unit=place_lines(cu.pieces, cu.piece_unit, plan.labels, movable, fixed, group))
    piece_grid = plan.labels[cu.piece_unit]
    # grid polygons: union of pieces per grid
    order = np.argsort(piece_grid, kind="stable")
    bounds = np.searchsorted(piece_grid[order], np.arange(ngrids + 1))
    geoms = np.array(
        [union(cu.pieces.geoms[order[bounds[g] : bounds[g + 1]]]) for g in range(ngrids)], dtype=object
    )
    code = grid_codes(cid, [gid for gid, _ in kept], geoms, hh_grid, hh, task.get("previous"))
    gw = np.bincount(hh_grid, weights=hh, minlength=ngrids).astype(np.int64)
    grids = _grid_rows(task, plan, code, geoms, gw, nk, stats)
    units_out = _unit_rows(cid, cu, kept, plan.labels, code)
    micro_of, micro = None, []
    if task.get("micro_max"):
        micro_of, micro = micro_grids(task, hh_grid, code, cu.pieces, cu.hh_piece, piece_grid)
    return {
        "grid_of": code[hh_grid] if len(hh) else np.empty(0, dtype=object),
        "micro_of": micro_of,
        "grids": grids,
        "units": units_out,
        "micro": micro,
        "stats": stats,
    }


def _whole(group: np.ndarray, hh_piece: np.ndarray, piece_grid: np.ndarray) -> np.ndarray:
    """Pieces of estates whose households are all in one grid: their ground stays with it, or
    the estate would be cut by another grid."""
    g, grids = group[hh_piece], piece_grid[hh_piece]
    m = g >= 0
    pairs = np.unique(np.stack([g[m], grids[m]], 1), axis=0)
    # sized by the estates, not by the pairs: a community whose households all lie outside
    # its estates has none
    size = int(group.max()) + 1 if len(group) else 0
    n_grids = np.bincount(pairs[:, 0], minlength=size) if len(pairs) else np.zeros(size, dtype=np.int64)
    whole = np.zeros(len(n_grids) + 1, dtype=bool)
    whole[: len(n_grids)] = n_grids == 1
    return whole[np.where(group >= 0, group, len(n_grids))]


@dataclass(frozen=True)
class _Where:
    """Where every piece of a community lies, found once (the plans of a community share its
    pieces): its representative point, the estate polygon and the footprint it lies in (-1 for
    none; None without estates or footprints)."""

    point: np.ndarray
    estate: np.ndarray | None
    footprint: np.ndarray | None


def _where(task: dict, p: Pieces) -> _Where:
    rp = shapely.point_on_surface(p.geoms)

    def inside(polys):
        return None if polys is None or not len(polys) else first_hit(rp, np.asarray(polys, dtype=object))

    return _Where(rp, inside(task.get("estate_polys")), inside(task.get("footprints")))


def _movable(task: dict, cu: _Units, rp: np.ndarray) -> np.ndarray:
    """Pieces whose grid only decides where a line runs: no household, no footprint, no kept
    grid, farther than the setback from every footprint (the ground within it stays with its
    building, so that buildings stay joined to their grid)."""
    p = cu.pieces
    out = p.kept < 0
    out[cu.hh_piece] = False
    fp = task.get("footprints")
    if fp is not None and len(fp):
        near, _ = shapely.STRtree(np.asarray(fp, dtype=object)).query(
            rp, predicate="dwithin", distance=SETBACK_M
        )
        out[near] = False
    return out


def _grid_rows(
    task: dict, plan: UnitPlan, code: np.ndarray, geoms: np.ndarray, gw: np.ndarray, nk: int, stats: dict
) -> list[dict]:
    """One row per grid (metric geometry); counts multipart grids and barrier crossings."""
    lo, hi = int(task["lo"]), int(task["hi"])
    grids = []
    for g in range(len(code)):
        geom = geoms[g]
        status = "ok" if lo <= gw[g] <= hi else ("under" if gw[g] < lo else "over")
        reason = plan.reasons[g]
        if status == "ok" or reason is None:
            text = None
        elif reason is _KEPT:
            text = Reason("kept", {"households": int(gw[g])}).text()
        else:
            text = reason.text()
        multipart = shapely.get_type_id(geom) != 3
        stats["multipart_grids"] += int(multipart)
        stats["barrier_crossings"] += int(plan.crossing[g])
        grids.append(
            {
                "grid_id": code[g],
                "households": int(gw[g]),
                "status": status,
                "reason": text,
                "geometry": geom,
                "barrier_crossing": bool(plan.crossing[g]),
                "kept": g < nk,
            }
        )
    return grids


def _unit_rows(cid: str, cu: _Units, kept: list, labels: np.ndarray, code: np.ndarray) -> list[dict]:
    """One row per unit (free units and kept grids as units), metric geometry."""
    nunits, n = cu.graph.n, len(cu.hh_unit)
    uorder = np.argsort(cu.piece_unit, kind="stable")
    ub = np.searchsorted(cu.piece_unit[uorder], np.arange(nunits + 1))
    ugeom = [union(cu.pieces.geoms[uorder[ub[u] : ub[u + 1]]]) for u in range(nunits)]
    first_row = np.full(nunits, n)
    np.minimum.at(first_row, cu.hh_unit, np.arange(n))
    unit_name = np.empty(nunits, dtype=object)
    unit_kind = np.empty(nunits, dtype=object)
    unit_est = np.empty(nunits, dtype=object)
    t_id = cu.keys.table["unit_id"].to_numpy(object)
    t_kind = cu.keys.table["kind"].to_numpy(object)
    t_est = cu.keys.table["estate_id"].to_numpy(object)
    for u in range(nunits):
        r = first_row[u]
        if cu.kept_of_unit[u] >= 0:
            unit_name[u] = f"{cid}/kept:{kept[cu.kept_of_unit[u]][0]}"
            unit_kind[u], unit_est[u] = "kept", None
        elif r < n:
            ki = cu.keys.codes[np.searchsorted(cu.free, r)]
            unit_name[u], unit_kind[u], unit_est[u] = t_id[ki], t_kind[ki], t_est[ki]
    # a unit split into detached parts gets a suffix so that ids stay unique
    seen: dict = {}
    for u in range(nunits):
        base = unit_name[u]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            unit_name[u] = f"{base}~{seen[base]}"
    return [
        {
            "unit_id": unit_name[u],
            "grid_id": code[labels[u]],
            "kind": unit_kind[u],
            "estate_id": unit_est[u],
            "households": int(cu.graph.weights[u]),
            "geometry": ugeom[u],
        }
        for u in range(nunits)
    ]


def _estates_split(est, hh_grid: np.ndarray, default: int) -> int:
    """Estates whose households are in more than one grid (``default`` without estates)."""
    if est is None:
        return default
    e = np.asarray(est, dtype=object)
    ok = np.array([isinstance(v, str) for v in e])
    if not ok.any():
        return default
    per: dict = {}
    for ee, _ in set(zip(e[ok].tolist(), hh_grid[ok].tolist())):
        per[ee] = per.get(ee, 0) + 1
    return sum(1 for v in per.values() if v > 1)
