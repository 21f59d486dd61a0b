"""The line work of the city's features with estates kept whole: no tessellation, setback or side
ray divides the ground of an estate that stays in one grid, and every footprint is still one
piece of its own."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.geometry.featurecells import feature_linework
from gridplan.grids.cells import Features, pieces

COMMUNITY = shapely.box(0, 0, 400, 300)
ESTATE = shapely.box(40, 40, 200, 260)


def _row(x0: float, y0: float, n: int) -> list:
    return [shapely.box(x0, y0 + 40 * k, x0 + 30, y0 + 40 * k + 12) for k in range(n)]


FOOTPRINTS = np.array(_row(60, 60, 5) + _row(130, 60, 5) + _row(250, 40, 6) + _row(320, 40, 6), dtype=object)
INSIDE = shapely.contains(ESTATE, FOOTPRINTS)


def _drawn_inside(lines: list, area) -> float:
    """Metres of ``lines`` inside ``area`` (its boundary excluded)."""
    if not lines:
        return 0.0
    inner = shapely.buffer(area, -0.01)
    return float(shapely.length(shapely.intersection(shapely.union_all(lines), inner)))


def test_no_construction_line_divides_an_estate_kept_whole():
    _, tess, construction = feature_linework(
        COMMUNITY, estates=np.array([ESTATE], dtype=object), footprints=FOOTPRINTS, whole=ESTATE
    )
    ground = shapely.difference(ESTATE, shapely.union_all(FOOTPRINTS[INSIDE]))
    assert _drawn_inside(tess + construction, ground) == 0.0
    # outside the estate the loose buildings are still tessellated and set back
    loose = shapely.difference(COMMUNITY, ESTATE)
    assert _drawn_inside(tess, loose) > 100 and _drawn_inside(construction, loose) > 100


def test_without_it_the_estate_ground_is_divided():
    _, tess, construction = feature_linework(
        COMMUNITY, estates=np.array([ESTATE], dtype=object), footprints=FOOTPRINTS
    )
    ground = shapely.difference(ESTATE, shapely.union_all(FOOTPRINTS[INSIDE]))
    assert _drawn_inside(tess, ground) > 100 and _drawn_inside(construction, ground) > 100


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(45, 170), st.floats(45, 245)), min_size=1, max_size=12, unique=True))
def test_every_footprint_is_one_piece_and_the_estate_ground_one(corners):
    fp = [shapely.box(x, y, x + 8, y + 5) for x, y in corners]
    fp = np.array([f for k, f in enumerate(fp) if not any(f.intersects(g) for g in fp[:k])], dtype=object)
    xy = shapely.get_coordinates(shapely.centroid(fp))
    p = pieces(COMMUNITY, None, xy, (), Features(None, np.array([ESTATE], dtype=object), fp, ESTATE))
    rp = shapely.point_on_surface(p.geoms)
    inside = shapely.contains(ESTATE, rp)
    # each footprint exactly one piece (the noding snaps to 0.1 mm), and the ground around them
    # not divided at all
    on_fp = np.zeros(len(p.geoms), dtype=bool)
    for f in fp:
        mine = np.flatnonzero(shapely.contains(f, rp))
        assert len(mine) == 1 and abs(shapely.area(p.geoms[mine[0]]) - f.area) < 1e-2
        on_fp[mine] = True
    assert (inside & ~on_fp).sum() == 1
    assert abs(shapely.area(shapely.union_all(p.geoms)) - COMMUNITY.area) < 1e-6
