"""An estate kept in one grid keeps all its ground: the empty pieces inside its polygon that a
neighbouring grid took go back to it.

Before the plan is known, an empty piece (a lawn, a corner between a street and the wall) joins
whichever unit borders it, unless its estate is a single unit (see
``gridplan.grids.community._preset``). An estate split into parts for the search, whose parts
all end in one grid, can so lose a corner to the grid next door: its households are in one grid
but its wall is cut (``estates_cut`` in the report). Line placement never moves the ground of
such an estate (it is not movable), so the corner is given back here, piece by piece from the
grid's side, never across a barrier, and only where the grid that gave it, and each of its
units, stays one piece.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.grids.cells import Pieces

__all__ = ["estate_ground"]


def estate_ground(
    p: Pieces,
    piece_unit: np.ndarray,
    unit_grid: np.ndarray,
    group: np.ndarray,
    hh_piece: np.ndarray,
    footprint: np.ndarray,
) -> np.ndarray:
    """Give the empty ground of every estate held by one grid to that grid.

    Parameters
    ----------
    p : Pieces
    piece_unit : ndarray of int
        Unit of every piece.
    unit_grid : ndarray of int
        Grid of every unit.
    group : ndarray of int
        Per piece: the estate polygon it lies in, -1 for none.
    hh_piece : ndarray of int
        Piece of every household row.
    footprint : ndarray of bool
        Per piece: part of a building footprint (a footprint moves with its building only).

    Returns
    -------
    ndarray of int
        The unit of every piece, with the estates' ground given back.
    """
    n = len(p)
    if not (group >= 0).any():  # estates given, none of them holding a piece of this community
        return piece_unit
    piece_grid = unit_grid[piece_unit]
    # the grid of every estate whose households are all in one grid, -1 for the others
    e_hh, g_hh = group[hh_piece], piece_grid[hh_piece]
    m = e_hh >= 0
    n_est = int(group.max()) + 1
    lo = np.full(n_est, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n_est, -1, dtype=np.int64)
    np.minimum.at(lo, e_hh[m], g_hh[m])
    np.maximum.at(hi, e_hh[m], g_hh[m])
    target = np.where(lo == hi, hi, -1)
    has_hh = np.zeros(n, dtype=bool)
    has_hh[hh_piece] = True
    own = np.where(group >= 0, target[np.maximum(group, 0)], -1)
    want = (own >= 0) & (own != piece_grid) & ~has_hh & ~footprint & (p.kept < 0)
    if not want.any():
        return piece_unit
    a, b = np.r_[p.i, p.j], np.r_[p.j, p.i]
    same_side = ~np.r_[p.cross, p.cross]
    out = piece_unit.copy()
    while True:  # grow from the estate's grid into its ground, one ring of pieces at a time
        grid = unit_grid[out]
        step = same_side & want[a] & (grid[a] != own[a]) & (grid[b] == own[a])
        if not step.any():
            break
        first = np.unique(a[step], return_index=True)[1]
        out[a[step][first]] = out[b[step][first]]
    moved = out != piece_unit
    # the grids and units that gave ground must stay one piece each; else they keep it
    for label in (lambda units: unit_grid[units], lambda units: units):
        before, after = label(piece_unit), label(out)
        k = int(max(before.max(), after.max())) + 1
        broken = np.flatnonzero(_count(p, after, k) > _count(p, before, k))
        back = moved & np.isin(before, broken)
        out[back] = piece_unit[back]
        moved &= ~back
    return out


def _count(p: Pieces, labels: np.ndarray, k: int) -> np.ndarray:
    """Connected parts per label (pieces joined by a shared boundary within one label)."""
    n = len(labels)
    same = labels[p.i] == labels[p.j]
    adj = sparse.coo_matrix((np.ones(int(same.sum())), (p.i[same], p.j[same])), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    pairs = np.unique(np.stack([labels, comp], 1), axis=0)
    return np.bincount(pairs[:, 0], minlength=k)
