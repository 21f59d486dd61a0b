"""The figures of geometry/quality against independent computations (overlay of buffers)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.geometry.adjacency import boundary_share_near, shared_boundaries
from gridplan.geometry.quality import ON_FEATURE_M, boundary_on_features

CRS = "EPSG:32650"


def _by_overlay(grids, community, lines) -> float:
    """The share as a planner would measure it in a GIS: grid lines inside the community,
    intersected with the 5 m buffer of the features, lengths divided."""
    inner = shapely.difference(
        shapely.union_all(shapely.boundary(grids)), shapely.buffer(shapely.boundary(community), 0.5)
    )
    near = shapely.union_all(shapely.buffer(lines, ON_FEATURE_M, quad_segs=32))
    return shapely.length(shapely.intersection(inner, near)) / shapely.length(inner)


@settings(max_examples=examples(30), deadline=None)
@given(
    cut_x=st.floats(30, 170),
    street_x=st.floats(0, 200),
    street_tilt=st.floats(-40, 40),
)
def test_boundary_on_features_equals_the_overlay(cut_x, street_x, street_tilt):
    community = shapely.box(0, 0, 200, 100)
    left, right = shapely.box(0, 0, cut_x, 100), shapely.box(cut_x, 0, 200, 100)
    street = shapely.LineString([(street_x, -10), (street_x + street_tilt, 110)])
    got = boundary_on_features(
        gpd.GeoSeries([left, right], crs=CRS),
        gpd.GeoSeries([community], crs=CRS),
        [gpd.GeoSeries([street], crs=CRS)],
    )
    want = _by_overlay(np.array([left, right]), community, np.array([street]))
    # pieces of at most 1 m counted by their midpoints: off by at most a metre at each end of
    # the stretch near the street, on a 100 m line
    assert abs(got - want) <= 0.021, (got, want)


def test_share_near_of_shared_boundaries_equals_the_overlay():
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(np.random.default_rng(1).uniform(0, 100, (30, 2))),
            extend_to=shapely.box(0, 0, 100, 100),
        )
    )
    cells = shapely.intersection(cells, shapely.box(0, 0, 100, 100))
    i, j, length, shared = shared_boundaries(cells, lines=True)
    street = shapely.LineString([(0, 40), (100, 55)])
    got = boundary_share_near(shared, length, np.array([street]), ON_FEATURE_M, step=0.5)
    want = (
        shapely.length(shapely.intersection(shared, shapely.buffer(street, ON_FEATURE_M, quad_segs=32)))
        / length
    )
    assert np.abs(got - want).max() <= 1.0 / length.min() + 1e-9
    assert (got > 0).any() and (got < 1).any()


def test_enclosed_grids_are_those_in_another_grids_hole():
    import numpy as np
    import shapely

    from gridplan.geometry.quality import enclosed_grids

    outer = shapely.box(0, 0, 100, 100)
    island = shapely.box(40, 40, 60, 60)
    ring = shapely.difference(outer, island)
    side = shapely.box(100, 0, 150, 100)  # touches the ring, in no hole
    two_holes = shapely.difference(shapely.box(200, 0, 300, 100), shapely.box(210, 10, 220, 20))
    filler = shapely.box(210, 10, 220, 20)
    grids = np.array([ring, island, side, two_holes, filler], dtype=object)
    assert enclosed_grids(grids).tolist() == [False, True, False, False, True]
    # a hole left empty (a gap, not a grid) encloses nothing
    assert not enclosed_grids(np.array([ring, side], dtype=object)).any()
    # a multi-part grid's holes count too
    multi = shapely.union(ring, shapely.box(500, 0, 510, 10))
    assert enclosed_grids(np.array([multi, island], dtype=object)).tolist() == [False, True]
