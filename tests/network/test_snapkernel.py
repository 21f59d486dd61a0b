"""The compiled nearest-segment kernel (gridplan/network/_snapkernel.py) against shapely's exact
``STRtree.query_nearest``: distances, the tie rule (lowest edge), limits, far points, threads."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import shapely
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.network.snapping import SnapIndex

# small integer coordinates: exact ties (equidistant edges, shared vertices, duplicate lines,
# repeated vertices) are common, as on real networks digitised on a grid
coord = st.integers(0, 40)
line_st = st.lists(st.tuples(coord, coord), min_size=2, max_size=4)


def _reference(lines, xy, max_snap_m):
    """shapely: the nearest distance of every point (NaN beyond the limit) and the lowest of the
    edges at that distance."""
    tree = shapely.STRtree(lines)
    pts = shapely.points(xy)
    kw = {} if math.isinf(max_snap_m) else {"max_distance": max_snap_m}
    (qi, ti), dist = tree.query_nearest(pts, return_distance=True, all_matches=True, **kw)
    d = np.full(len(xy), np.nan)
    e = np.full(len(xy), -1)
    for q, t, dd in zip(qi, ti, dist):
        if np.isnan(d[q]) or dd < d[q] or (dd == d[q] and t < e[q]):
            d[q], e[q] = dd, t
    return d, e


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(line_st, min_size=1, max_size=25),
    st.lists(st.integers(0, 24), max_size=5),
    st.lists(st.tuples(st.integers(-20, 60), st.integers(-20, 60)), min_size=1, max_size=60),
    st.lists(st.tuples(st.floats(-1e5, 1e5), st.floats(-1e5, 1e5)), max_size=4),
    st.sampled_from([math.inf, 7.0, 25.0]),
    st.sampled_from([None, 0.5, 3.0, 50.0]),
    st.sampled_from([(16,), (1,)]),
)
def test_kernel_distance_equals_shapely(coords, dup, pts, far, max_snap_m, cell, stages):
    lines = [shapely.linestrings(c) for c in coords]
    lines += [lines[i % len(lines)] for i in dup]  # duplicate edges: the first must win
    lines = np.array(lines, dtype=object)
    # integer and half-integer points (midway between parallel edges), and points far off
    xy = np.r_[np.array(pts, dtype=float) / 2, np.reshape(far, (-1, 2))]
    idx = SnapIndex(lines, sample_m=cell, stages=stages)
    e, off, d, q = idx.query(xy, max_snap_m)
    ref_d, ref_e = _reference(lines, xy, max_snap_m)
    hit = ~np.isnan(ref_d)
    assert np.array_equal(e >= 0, hit)
    assert np.all(np.abs(d[hit] - ref_d[hit]) <= 1e-9)
    assert np.isnan(d[~hit]).all() and np.isnan(off[~hit]).all() and np.isnan(q[~hit]).all()
    # the chosen edge is at that distance; where it is the only one, it is shapely's; a duplicate
    # never wins over the same line listed first (an exact tie whatever the arithmetic)
    every = shapely.distance(shapely.points(xy[hit])[:, None], lines[None, :])
    assert np.all(every[np.arange(hit.sum()), e[hit]] <= ref_d[hit] + 1e-9)
    alone = (every <= ref_d[hit][:, None] + 1e-9).sum(axis=1) == 1
    assert np.array_equal(e[hit][alone], ref_e[hit][alone])
    assert (e[hit] < len(coords)).all()
    # the snapped location is on the chosen edge, at the distance, at the offset along it
    on = shapely.points(q[hit])
    assert np.allclose(shapely.distance(on, lines[e[hit]]), 0.0, atol=1e-9)
    assert np.allclose(np.hypot(*(q[hit] - xy[hit]).T), d[hit], atol=1e-9)
    at = shapely.line_interpolate_point(lines[e[hit]], off[hit])
    assert np.allclose(shapely.get_coordinates(at), q[hit], atol=1e-9)


def test_ties_go_to_the_lowest_edge_then_its_first_stretch():
    lines = shapely.from_wkt(
        [
            "LINESTRING (0 2, 10 2)",  # 0: 1 m above (5, 1)
            "LINESTRING (0 0, 10 0)",  # 1: 1 m below (5, 1)
            "LINESTRING (0 0, 10 0)",  # 2: a duplicate of 1
            "LINESTRING (20 0, 30 0, 20 0)",  # 3: doubles back on itself
            "LINESTRING (40 0, 40 0, 50 0)",  # 4: a repeated vertex
        ]
    )
    e, off, d, _ = SnapIndex(lines).query(np.array([[5.0, 1.0], [5.0, -1.0], [25.0, 3.0], [40.0, -2.0]]))
    assert e.tolist() == [0, 1, 3, 4]
    assert np.allclose(d, [1.0, 1.0, 3.0, 2.0])
    assert np.allclose(off, [5.0, 5.0, 5.0, 0.0])  # the outbound stretch of edge 3


def test_limit_is_inclusive_and_far_points_fall_back_exactly():
    lines = shapely.from_wkt(["LINESTRING (0 0, 100 0)", "LINESTRING (0 50, 100 50)"])
    idx = SnapIndex(lines, sample_m=1.0, stages=(8,))
    e, _, d, _ = idx.query(np.array([[50.0, -5.0], [50.0, -5.000001]]), 5.0)
    assert e.tolist() == [0, -1] and d[0] == 5.0
    # 1 km away (1,000 cells of 1 m): beyond 8 rings, the exact STRtree answers
    e, _, d, _ = idx.query(np.array([[50.0, 1050.0], [-1e7, 25.0]]))
    assert e.tolist() == [1, 0] and np.allclose(d, [1000.0, 1e7])
    assert idx.fallbacks == 2
    assert idx.query(np.array([[50.0, 1050.0]]), 300.0)[0].tolist() == [-1]
    assert idx.fallbacks == 2  # proven off the network by the grid's bounds, no fallback


def test_nan_and_empty_inputs():
    idx = SnapIndex(shapely.from_wkt(["LINESTRING (0 0, 10 0)"]))
    e, off, d, q = idx.query(np.array([[np.nan, 1.0], [3.0, 1.0]]), 10.0)
    assert e.tolist() == [-1, 0] and np.isnan(d[0]) and d[1] == 1.0
    assert [len(a) for a in idx.query(np.empty((0, 2)))] == [0, 0, 0, 0]
    e, *_ = SnapIndex(np.empty(0, dtype=object)).query(np.array([[0.0, 0.0]]))
    assert e.tolist() == [-1]


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two threads")
def test_same_bytes_with_one_and_two_threads_and_in_any_order():
    rng = np.random.default_rng(11)
    base = rng.uniform(0, 2000, (3000, 2)).round(0)
    ends = base + rng.uniform(-150, 150, base.shape).round(0)
    lines = shapely.linestrings(np.stack([base, ends], axis=1))
    # repeated points and points on the grid of the coordinates: many exact ties
    xy = np.r_[rng.uniform(-100, 2100, (150_000, 2)), base[:5000], (base[:5000] + ends[:5000]) / 2]
    xy = np.r_[xy, xy[:1000]]
    idx = SnapIndex(lines)
    one = idx.query(xy, 400.0, workers=1)
    two = idx.query(xy, 400.0, workers=2)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()
    perm = rng.permutation(len(xy))
    for a, b in zip(one, idx.query(xy[perm], 400.0)):
        assert a[perm].tobytes() == b.tobytes()
