"""Units on the pieces of a community, and the graph of units the partition searches.

Every piece belongs to one unit (empty pieces join a neighbour); two units are neighbours when
their pieces share boundary, weighted by its summed length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.grids.cells import Pieces
from gridplan.grids.search import Graph

__all__ = ["SOFT_EDGE_WEIGHT", "UnitGraph", "symmetric", "unit_graph", "units_on_pieces"]

#: How many metres of boundary one metre of tessellation edge (between buildings, on no street
#: or wall) counts for in the search: planners draw grid lines on streets and walls.
SOFT_EDGE_WEIGHT = 3.0


def symmetric(n: int, i: np.ndarray, j: np.ndarray, data: np.ndarray) -> sparse.csr_matrix:
    """The symmetric n x n matrix with ``data`` at (i, j) and (j, i).

    Parameters
    ----------
    n : int
    i, j : ndarray of int
    data : ndarray

    Returns
    -------
    scipy.sparse.csr_matrix
        Duplicate pairs summed.
    """
    return sparse.csr_matrix((np.r_[data, data], (np.r_[i, j], np.r_[j, i])), shape=(n, n))


@dataclass(frozen=True)
class UnitGraph:
    """Units of one community (or part of it) and the boundaries they share.

    Attributes
    ----------
    weights : ndarray of int64
        Households per unit.
    i, j : ndarray of int
        Pairs ``i < j`` of neighbouring units.
    length : ndarray of float
        Their shared boundary (m).
    same_zone : ndarray of bool
        Some of that boundary is not along a barrier (the pair is on one side of it).
    area, perim : ndarray of float
        Area and outer perimeter of every unit (m2, m).
    """

    weights: np.ndarray
    i: np.ndarray
    j: np.ndarray
    length: np.ndarray
    same_zone: np.ndarray
    area: np.ndarray
    perim: np.ndarray

    @property
    def n(self) -> int:
        return len(self.weights)

    def subset(self, idx: np.ndarray) -> UnitGraph:
        """Units ``idx`` renumbered 0..len(idx)-1, with the edges among them (same order)."""
        pos = np.full(self.n, -1)
        pos[idx] = np.arange(len(idx))
        m = (pos[self.i] >= 0) & (pos[self.j] >= 0)
        return UnitGraph(
            self.weights[idx],
            pos[self.i[m]],
            pos[self.j[m]],
            self.length[m],
            self.same_zone[m],
            self.area[idx],
            self.perim[idx],
        )

    def with_edges(self, keep: np.ndarray) -> UnitGraph:
        """The same units with only the edges where ``keep`` holds."""
        return UnitGraph(
            self.weights,
            self.i[keep],
            self.j[keep],
            self.length[keep],
            self.same_zone[keep],
            self.area,
            self.perim,
        )

    def adjacency(self, keep: np.ndarray | None = None, *, lengths: bool = True) -> sparse.csr_matrix:
        """Symmetric adjacency of the edges ``keep`` (all by default): shared lengths, or ones."""
        m = np.ones(len(self.i), dtype=bool) if keep is None else keep
        data = self.length[m] if lengths else np.ones(int(m.sum()))
        return symmetric(self.n, self.i[m], self.j[m], data)

    def search_graph(self) -> Graph:
        """The graph :func:`gridplan.grids.search.plan_graph` partitions."""
        return Graph(self.weights, self.adjacency(), self.area, self.perim)


def _attach(piece_unit: np.ndarray, p: Pieces, group: np.ndarray | None = None) -> np.ndarray:
    """Give every empty piece (unit -1) the unit of a neighbour, wave by wave.

    Same-zone neighbours first, then neighbours in the same estate (``group``: the ground of an
    estate without a building of its own, a lawn between estate paths, stays in the estate),
    then the longest shared boundary. Pieces that touch nothing get the nearest unit later (the
    caller), so that every bit of the community lands in a grid.
    """
    piece_unit = piece_unit.copy()
    a = np.r_[p.i, p.j]
    b = np.r_[p.j, p.i]
    ln = np.r_[p.length, p.length]
    cr = np.r_[p.cross, p.cross].astype(np.int64)
    other = np.zeros(len(a), dtype=np.int64) if group is None else (group[a] != group[b]).astype(np.int64)
    while True:
        m = (piece_unit[a] < 0) & (piece_unit[b] >= 0)
        if not m.any():
            break
        aa, bb, ll, cc, oo = a[m], b[m], ln[m], cr[m], other[m]
        uu = piece_unit[bb]
        order = np.lexsort((uu, -ll, oo, cc, aa))
        aa, uu = aa[order], uu[order]
        first = np.r_[True, aa[1:] != aa[:-1]]
        piece_unit[aa[first]] = uu[first]
    return piece_unit


def units_on_pieces(
    p: Pieces,
    hh_piece: np.ndarray,
    hh_unit: np.ndarray,
    preset: np.ndarray | None = None,
    group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Make units and pieces consistent: one unit per piece, units connected.

    Units sharing a piece are merged; empty pieces join neighbours; a unit whose pieces fall
    apart is split into its connected parts (each part holds households).

    Parameters
    ----------
    p : Pieces
    hh_piece, hh_unit : ndarray of int
        Piece and unit of every household (or anchor).
    preset : ndarray of int, optional
        Unit (numbered as ``hh_unit``) every empty piece joins first, -1 where none: the
        rest of a footprint, the courtyards of an estate.
    group : ndarray of int, optional
        Estate of every piece (-1 for none): empty pieces join a neighbour of their estate first.

    Returns
    -------
    piece_unit : ndarray of int
        Unit of every piece; units are renumbered 0..n-1 by first household.
    hh_unit : ndarray of int
        Unit of every household.
    n : int
        Number of units.
    """
    np_ = len(p)
    nu = int(hh_unit.max()) + 1 if len(hh_unit) else 0
    # units that share a piece are merged (connected components over piece-unit incidence)
    inc = sparse.csr_matrix((np.ones(len(hh_unit)), (hh_unit, hh_piece)), shape=(nu, np_))
    _, merged = connected_components((inc @ inc.T).tocsr(), directed=False)
    piece_unit = np.full(np_, -1, dtype=np.int64)
    piece_unit[hh_piece] = merged[hh_unit]
    if preset is not None:
        m = (piece_unit < 0) & (preset >= 0)
        piece_unit[m] = merged[preset[m]]
    piece_unit = _attach(piece_unit, p, group)
    lost = np.flatnonzero(piece_unit < 0)
    if len(lost):  # pieces that touch no unit at all: the nearest one takes them
        have = np.flatnonzero(piece_unit >= 0)
        tree = shapely.STRtree(p.geoms[have])
        li, hi_ = tree.query_nearest(p.geoms[lost], all_matches=False)
        piece_unit[lost[li]] = piece_unit[have[hi_]]
    key = _connected_parts(p, piece_unit, hh_piece)
    # renumber by first household row so units are ordered deterministically
    hkey = key[hh_piece]
    _, first_idx = np.unique(hkey, return_index=True)
    rank = np.empty(len(first_idx), dtype=np.int64)
    rank[np.argsort(first_idx, kind="stable")] = np.arange(len(first_idx))
    piece_final = rank[np.searchsorted(np.unique(hkey), key)]
    return piece_final, piece_final[hh_piece], len(rank)


def _connected_parts(p: Pieces, piece_unit: np.ndarray, hh_piece: np.ndarray) -> np.ndarray:
    """A key per piece: the connected part of its unit (through the unit's own pieces)."""
    np_ = len(p)
    same = piece_unit[p.i] == piece_unit[p.j]
    g = sparse.csr_matrix((np.ones(same.sum()), (p.i[same], p.j[same])), shape=(np_, np_))
    _, comp = connected_components(g, directed=False)
    has_hh = np.zeros(np_, dtype=bool)
    has_hh[hh_piece] = True
    # components holding households are units; an empty component (an island attached by
    # distance) stays with the first household component of its unit
    comp_hh = np.zeros(comp.max() + 1, dtype=bool)
    comp_hh[comp[has_hh]] = True
    if comp_hh[comp].all():
        return comp
    first_comp_of_unit: dict = {}
    for q in np.flatnonzero(has_hh):
        first_comp_of_unit.setdefault(int(piece_unit[q]), int(comp[q]))
    key = comp.copy()
    for q in np.flatnonzero(~comp_hh[comp]):
        key[q] = first_comp_of_unit[int(piece_unit[q])]
    return key


def unit_graph(piece_unit: np.ndarray, nunits: int, p: Pieces, weights: np.ndarray) -> UnitGraph:
    """The unit graph of units made of pieces: summed shared lengths, outer perimeters.

    Parameters
    ----------
    piece_unit : ndarray of int
        Unit of every piece.
    nunits : int
    p : Pieces
    weights : ndarray of int
        Households per unit.

    Returns
    -------
    UnitGraph
    """
    ua, ub = piece_unit[p.i], piece_unit[p.j]
    inside = ua == ub
    area = np.bincount(piece_unit, weights=shapely.area(p.geoms), minlength=nunits)
    plen = p.length
    piece_perim = shapely.length(p.geoms)
    if p.soft is not None:
        # a grid line between buildings, off every street and wall, costs more than its metres
        plen = p.length * (1.0 + (SOFT_EDGE_WEIGHT - 1.0) * p.soft)
        extra = plen - p.length
        piece_perim = (
            piece_perim
            + np.bincount(p.i, weights=extra, minlength=len(p))
            + np.bincount(p.j, weights=extra, minlength=len(p))
        )
    perim = np.bincount(piece_unit, weights=piece_perim, minlength=nunits)
    perim -= 2 * np.bincount(ua[inside], weights=plen[inside], minlength=nunits)
    m = ~inside
    lo_, hi_ = np.minimum(ua[m], ub[m]), np.maximum(ua[m], ub[m])
    code = lo_ * nunits + hi_
    uc, inv = np.unique(code, return_inverse=True)
    length = np.bincount(inv, weights=plen[m])
    samezone = np.bincount(inv, weights=(~p.cross[m]).astype(float)) > 0
    return UnitGraph(
        np.asarray(weights, dtype=np.int64),
        uc // nunits,
        uc % nunits,
        length,
        samezone,
        area,
        np.maximum(perim, 0),
    )
