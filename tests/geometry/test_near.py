"""Points near lines (the k-d tree that sorts out the plain cases) agree with GEOS's dwithin."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gridplan.geometry.adjacency import _near

X0, Y0 = 300_000.0, 3_390_000.0  # metric coordinates of city size, where rounding shows


def _lines(rng: np.random.Generator) -> np.ndarray:
    """Streets (long polylines), footprint outlines and a barrier across them."""
    streets = [
        shapely.LineString(np.c_[X0 + np.sort(rng.uniform(0, 400, 6)), Y0 + rng.uniform(0, 400, 6)])
        for _ in range(5)
    ]
    boxes = [
        shapely.box(x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 40)).exterior
        for x, y in zip(X0 + rng.uniform(0, 380, 30), Y0 + rng.uniform(0, 380, 30))
    ]
    return np.array([*streets, *boxes, shapely.LineString([(X0, Y0), (X0 + 400, Y0 + 400)])], dtype=object)


def _dwithin(xy: np.ndarray, lines: np.ndarray, distance: float) -> np.ndarray:
    near, _ = shapely.STRtree(lines).query(shapely.points(xy), predicate="dwithin", distance=distance)
    out = np.zeros(len(xy), dtype=bool)
    out[near] = True
    return out


@pytest.mark.parametrize("distance", [1e-3, 0.5, 5.0, 12.0])
@pytest.mark.parametrize("seed", range(4))
def test_near_is_geos_dwithin(seed, distance):
    rng = np.random.default_rng(seed)
    lines = _lines(rng)
    # points anywhere, points on the lines, and points at the distance itself (give or take
    # a rounding) off the lines, where a wrong shortcut would show
    anywhere = np.c_[X0 + rng.uniform(-20, 420, 3000), Y0 + rng.uniform(-20, 420, 3000)]
    on = shapely.get_coordinates(shapely.line_interpolate_point(lines, rng.uniform(0, 1, len(lines))))
    ring = np.concatenate(
        [
            shapely.get_coordinates(shapely.boundary(shapely.buffer(lines, distance * f)))
            for f in (0.999999, 1.0)
        ]
    )
    xy = np.concatenate([anywhere, on, ring[rng.choice(len(ring), 3000)]])
    got = _near(xy, lines, distance)
    want = _dwithin(xy, lines, distance)
    assert np.array_equal(got, want)
    assert want.any() and not want.all()


def test_near_without_points_or_coordinates():
    lines = np.array([shapely.LineString([(X0, Y0), (X0 + 10, Y0)])], dtype=object)
    assert _near(np.empty((0, 2)), lines, 5.0).shape == (0,)
    empty = np.array([shapely.LineString()], dtype=object)
    assert not _near(np.array([[X0, Y0]]), empty, 5.0).any()
