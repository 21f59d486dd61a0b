"""An estate held by one grid gets back the empty ground a neighbouring grid took
(gridplan.grids.estateground), never across a barrier and never where the grid or unit that
gave it would fall in two."""

from __future__ import annotations

import numpy as np
import shapely

from gridplan.geometry.adjacency import shared_edges
from gridplan.grids.cells import Pieces
from gridplan.grids.estateground import estate_ground


def _pieces(cols: int, rows: int, cross: set | None = None) -> Pieces:
    """Unit squares, numbered row by row; ``cross``: pairs on two sides of a barrier."""
    geoms = np.array(
        [shapely.box(x, y, x + 1, y + 1) for y in range(rows) for x in range(cols)], dtype=object
    )
    e = shared_edges(geoms)
    i, j = np.asarray(e.i), np.asarray(e.j)
    cr = np.array(
        [(a, b) in (cross or set()) or (b, a) in (cross or set()) for a, b in zip(i, j)], dtype=bool
    )
    return Pieces(
        geoms, np.zeros(len(geoms), dtype=np.int64), np.full(len(geoms), -1), i, j, np.asarray(e.length), cr
    )


def test_a_corner_taken_by_the_neighbour_goes_back_to_the_estates_grid():
    # 0 1 2 | 3 : pieces 0-2 are the estate (two parts, units 0 and 1, both in grid 0); piece 2
    # is its empty corner, which the outside unit 2 (grid 1) took with piece 3
    p = _pieces(4, 1)
    piece_unit = np.array([0, 1, 2, 2])
    unit_grid = np.array([0, 0, 1])
    group = np.array([0, 0, 0, -1])
    hh_piece = np.array([0, 1, 3])  # households in pieces 0, 1 (the estate) and 3
    out = estate_ground(p, piece_unit, unit_grid, group, hh_piece, np.zeros(4, dtype=bool))
    assert out.tolist() == [0, 1, 1, 2]


def test_the_ground_grows_from_the_grid_side_over_several_pieces():
    p = _pieces(5, 1)
    piece_unit = np.array([0, 1, 1, 1, 1])  # pieces 1-3 estate ground held by the outside unit
    out = estate_ground(
        p, piece_unit, np.array([0, 1]), np.array([0, 0, 0, 0, -1]), np.array([0, 4]), np.zeros(5, dtype=bool)
    )
    assert out.tolist() == [0, 0, 0, 0, 1]


def test_nothing_moves_across_a_barrier_or_for_an_estate_in_two_grids_or_a_footprint():
    p = _pieces(4, 1, cross={(1, 2)})
    args = (np.array([0, 1, 2, 2]), np.array([0, 0, 1]), np.array([0, 0, 0, -1]), np.array([0, 1, 3]))
    assert estate_ground(p, *args, np.zeros(4, dtype=bool)).tolist() == [0, 1, 2, 2]
    p = _pieces(4, 1)
    two = (np.array([0, 1, 2, 2]), np.array([0, 1, 1]), np.array([0, 0, 0, -1]), np.array([0, 1, 3]))
    assert estate_ground(p, *two, np.zeros(4, dtype=bool)).tolist() == [0, 1, 2, 2]  # estate in grids 0 and 1
    fp = np.array([False, False, True, False])
    assert estate_ground(p, *args, fp).tolist() == [0, 1, 2, 2]  # a footprint moves with its building


def test_a_piece_the_giving_grid_needs_to_stay_whole_stays():
    # 3 x 2 squares:   3 4 5      the outside grid (unit 2) holds 2, 3, 4, 5 and needs piece 4
    #                  0 1 2      to join 3 with 5; pieces 1 and 4 lie in the estate
    p = _pieces(3, 2)
    piece_unit = np.array([0, 0, 2, 2, 2, 2])
    unit_grid = np.array([0, 1, 1])  # unit 1 has no piece; unit 2 is the outside grid 1
    group = np.array([0, 0, -1, -1, 0, -1])
    hh_piece = np.array([0, 3, 5, 2])
    out = estate_ground(p, piece_unit, unit_grid, group, hh_piece, np.zeros(6, dtype=bool))
    assert out.tolist() == piece_unit.tolist()


def test_estates_that_hold_no_piece_leave_the_pieces_as_they_are():
    p = _pieces(4, 1)
    piece_unit = np.array([0, 1, 2, 2])
    out = estate_ground(
        p, piece_unit, np.array([0, 0, 1]), np.full(4, -1), np.array([0, 1, 3]), np.zeros(4, dtype=bool)
    )
    assert out.tolist() == piece_unit.tolist()
