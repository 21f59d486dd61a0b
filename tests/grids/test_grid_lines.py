"""Where grid lines run between buildings when no street separates two grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridplan.geometry.featurecells import SETBACK_M
from gridplan.geometry.quality import ON_FEATURE_M, boundary_on_features
from gridplan.grids.api import partition

UTM = "EPSG:32649"
X0, Y0 = 300_000.0, 3_390_000.0
GAP_M = 30.0  # between the two rows: the half-way line is 15 m from both


def _two_rows():
    """Two groups of three lines of slab blocks (400 households each), 30 m apart, no street
    between, in a narrow community: the natural split is one group per grid."""
    x = X0 + np.array([5.0, 45.0])
    ys = [10.0, 30.0, 50.0, 60.0 + GAP_M, 80.0 + GAP_M, 100.0 + GAP_M]
    fps = [shapely.box(xi, Y0 + y, xi + 30, Y0 + y + 10) for y in ys for xi in x]
    bid = [f"B{i}" for i in range(len(fps))]
    hh = [67, 67, 66, 67, 67, 66] * 2
    buildings = gpd.GeoDataFrame({"building_id": bid}, geometry=fps, crs=UTM)
    households = gpd.GeoDataFrame(
        {"households": hh, "building_id": bid}, geometry=shapely.centroid(fps), crs=UTM
    )
    comm = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["c"]},
        geometry=[shapely.box(X0, Y0, X0 + 80, Y0 + 120 + GAP_M)],
        crs=UTM,
    )
    # the street around the block: footprints shape the grid lines when streets are given
    streets = gpd.GeoDataFrame(geometry=[comm.geometry.iloc[0].exterior], crs=UTM)
    return households.to_crs(4326), comm.to_crs(4326), buildings.to_crs(4326), streets.to_crs(4326)


def test_line_between_two_rows_follows_one_row_not_the_half_way_line():
    households, comm, buildings, streets = _two_rows()
    res = partition(households, comm, buildings=buildings, streets=streets, n_jobs=1)
    grids = res.grids.to_crs(UTM)
    assert sorted(grids["households"]) == [400, 400]
    # each group of lines is one grid
    groups = res.assignment.groupby("grid_id")["building_id"].agg(
        lambda b: tuple({int(v[1:]) // 6 for v in b})
    )
    assert sorted(groups) == [(0,), (1,)]
    fp = buildings.to_crs(UTM).geometry
    share = boundary_on_features(grids.geometry, comm.to_crs(UTM).geometry, [fp])
    assert share is not None and share >= 0.95, share
    # it runs at the setback of one group (the ends bend to the community boundary): every point
    # of it is near a footprint, none on the half-way line
    line = shapely.intersection(*shapely.boundary(grids.geometry.values))
    d = shapely.distance(
        shapely.points(shapely.get_coordinates(shapely.segmentize(line, 1.0))), fp.union_all()
    )
    assert d.max() <= ON_FEATURE_M + 1e-6 < GAP_M / 2
    assert np.median(d) <= SETBACK_M + 1e-6
