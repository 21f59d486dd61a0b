"""The one adjacency builder (gridplan.geometry.adjacency) and Voronoi cells in point order."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gridplan.geometry.adjacency import SNAP_M, shared_boundaries, unit_adjacency, voronoi_cells
from gridplan.norms import UNIT_ADJACENCY_MIN_EDGE_M


@pytest.mark.parametrize("seed", range(6))
def test_voronoi_cells_follow_the_points(seed):
    rng = np.random.default_rng(seed)
    xy = np.unique(rng.uniform(0, 500, (int(rng.integers(2, 120)), 2)), axis=0)
    if seed % 2:
        xy = np.unique(np.round(xy / 25) * 25, axis=0)  # collinear and cocircular sites
    poly = shapely.box(-5, -5, 505, 505)
    cells = voronoi_cells(xy, poly)
    assert len(cells) == len(xy)
    assert all(shapely.intersects(c, shapely.Point(p)) for c, p in zip(cells, xy))
    # each point is nearest to the centre of its own cell
    centre = shapely.get_coordinates(shapely.point_on_surface(cells))
    d = np.linalg.norm(centre[:, None] - xy[None], axis=2)
    assert (d[np.arange(len(xy)), np.arange(len(xy))] <= d.min(1) + 1e-6).all()
    assert shapely.union_all(cells).symmetric_difference(poly).area < 1e-6
    # permuting the points permutes the cells
    perm = rng.permutation(len(xy))
    again = voronoi_cells(xy[perm], poly)
    assert all(shapely.equals(a, b) for a, b in zip(again, cells[perm]))


def test_voronoi_cells_small():
    poly = shapely.box(0, 0, 10, 10)
    assert len(voronoi_cells(np.empty((0, 2)), poly)) == 0
    assert voronoi_cells(np.array([[5.0, 5.0]]), poly)[0].equals(poly)


def test_tolerance_finds_edges_that_drifted():
    a = shapely.box(0, 0, 10, 10)
    b = shapely.box(10.01, 0, 20, 10)  # 1 cm apart, as after a reprojection round trip
    corner = shapely.box(10, 10, 20, 20)  # touches a at one point only
    cells = np.array([a, b, corner], dtype=object)
    i, j, length = shared_boundaries(cells)
    assert list(zip(i, j)) == [(1, 2)]  # b and corner share 9.99 m exactly
    i, j, length = shared_boundaries(cells, SNAP_M)
    pairs = dict(zip(zip(i.tolist(), j.tolist()), length))
    assert pairs[(0, 1)] == pytest.approx(10.0, abs=2 * SNAP_M)
    adj = unit_adjacency(cells)
    assert (adj != adj.T).nnz == 0
    assert adj[0, 1] > 0 and adj[1, 2] > 0
    # a contact along the tolerance at the corner is not an edge
    assert adj[0, 2] == 0


def test_short_contacts_are_not_neighbours():
    a = shapely.box(0, 0, 10, 10)
    b = shapely.box(10, 9.8, 20, 20)  # 0.2 m of shared edge
    adj = unit_adjacency(np.array([a, b], dtype=object))
    assert adj.nnz == 0
    adj = unit_adjacency(np.array([a, b], dtype=object), min_length=0.1)
    # within the tolerance, the ends of the neighbouring edges count too (up to 2 x SNAP_M each)
    assert adj[0, 1] == pytest.approx(0.2, abs=4 * SNAP_M)
    assert UNIT_ADJACENCY_MIN_EDGE_M > 0.2
