"""Micro-grids: every grid split into parts of at most ``micro_max`` households, by the same
machinery as the grids (units on the grid's pieces, then the balanced partition)."""

from __future__ import annotations

import numpy as np

from gridplan.grids.cells import Pieces, union
from gridplan.grids.numbering import grid_order
from gridplan.grids.regions import plan_units
from gridplan.grids.unitgraph import unit_graph, units_on_pieces
from gridplan.grids.units import unit_keys

__all__ = ["micro_grids"]


def _rows(values, rows: np.ndarray):
    return None if values is None else np.asarray(values, dtype=object)[rows]


def micro_grids(
    task: dict, hh_grid: np.ndarray, code: np.ndarray, p: Pieces, hh_piece: np.ndarray, piece_grid: np.ndarray
) -> tuple[np.ndarray, list[dict]]:
    """Split every grid of a community into micro-grids of at most ``task["micro_max"]``.

    Parameters
    ----------
    task : dict
        The community's task (:func:`gridplan.grids.community.plan_community`).
    hh_grid : ndarray of int
        Grid of every household row.
    code : ndarray of object
        Code of every grid.
    p : Pieces
        The community's pieces.
    hh_piece, piece_grid : ndarray of int
        Piece of every household row, grid of every piece.

    Returns
    -------
    micro_of : ndarray of object
        micro_grid_id per household row.
    rows : list of dict
        One row per micro-grid (metric geometry).
    """
    mm = int(task["micro_max"])
    xy = np.asarray(task["xy"], dtype=float).reshape(-1, 2)
    hh = np.asarray(task["hh"], dtype=np.int64)
    micro_of = np.empty(len(hh), dtype=object)
    rows_out = []
    for g in range(len(code)):
        rows = np.flatnonzero(hh_grid == g)
        if len(rows) == 0:
            continue
        pidx = np.flatnonzero(piece_grid == g)
        keys = unit_keys(
            xy[rows], hh[rows], _rows(task.get("building"), rows), _rows(task.get("estate"), rows), mm
        )
        sp = p.subset(pidx)
        loc = np.full(len(p), -1)
        loc[pidx] = np.arange(len(pidx))
        pu, hu, nu = units_on_pieces(sp, loc[hh_piece[rows]], keys.codes)
        w = np.bincount(hu, weights=hh[rows], minlength=nu).astype(np.int64)
        plan = plan_units(unit_graph(pu, nu, sp, w), 1, mm, int(task["seed"]), target=float(mm))
        nm = len(plan.reasons)
        mg = plan.labels[pu]
        geoms = np.array([union(sp.geoms[mg == k]) for k in range(nm)], dtype=object)
        order = grid_order(geoms)
        num = np.empty(nm, dtype=np.int64)
        num[order] = np.arange(1, nm + 1)
        mw = np.bincount(plan.labels[hu], weights=hh[rows], minlength=nm).astype(np.int64)
        micro_of[rows] = [f"{code[g]}-{num[k]:02d}" for k in plan.labels[hu]]
        for k in order:
            over = mw[k] > mm
            reason = plan.reasons[k] if over else None
            rows_out.append(
                {
                    "micro_grid_id": f"{code[g]}-{num[k]:02d}",
                    "grid_id": code[g],
                    "households": int(mw[k]),
                    "status": "over" if over else "ok",
                    "reason": None if reason is None else reason.text(),
                    "geometry": geoms[k],
                }
            )
    return micro_of, rows_out
