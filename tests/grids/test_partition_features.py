"""Grid lines from the city's features: a footprint is never cut when streets are given."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.geometry.quality import buildings_cut
from gridplan.grids.api import partition

UTM = "EPSG:32649"
X0, Y0 = 300_000.0, 3_390_000.0


def _city(seed: int, n: int):
    rng = np.random.default_rng(seed)
    cells = rng.choice(np.arange(100), size=n, replace=False)
    x = X0 + (cells % 10) * 40.0 + rng.uniform(2, 10, n)
    y = Y0 + (cells // 10) * 40.0 + rng.uniform(2, 10, n)
    w, h = rng.uniform(10, 25, n), rng.uniform(8, 25, n)
    fps = shapely.box(x, y, x + w, y + h)
    bid = [f"B{i}" for i in range(n)]
    hh = rng.integers(20, 120, n)
    households = gpd.GeoDataFrame(
        {"households": hh, "building_id": bid}, geometry=shapely.centroid(fps), crs=UTM
    ).to_crs(4326)
    buildings = gpd.GeoDataFrame({"building_id": bid}, geometry=fps, crs=UTM).to_crs(4326)
    comm = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["c"]},
        geometry=[shapely.box(X0 - 5, Y0 - 5, X0 + 405, Y0 + 405)],
        crs=UTM,
    ).to_crs(4326)
    streets = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(X0 + 200 + 35, Y0 - 10), (X0 + 200 + 35, Y0 + 410)])], crs=UTM
    ).to_crs(4326)
    return households, comm, buildings, streets


@settings(max_examples=examples(5), deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000), n=st.integers(6, 30))
def test_no_generated_footprint_is_ever_cut(seed, n):
    households, comm, buildings, streets = _city(seed, n)
    res = partition(
        households,
        comm,
        buildings=buildings,
        streets=streets,
        min_households=150,
        max_households=400,
        n_jobs=1,
    )
    crs = UTM
    assert len(buildings_cut(res.grids.to_crs(crs).geometry, buildings.to_crs(crs).geometry)) == 0
    assert int(res.grids["households"].sum()) == int(households["households"].sum())
    assert (res.grids.geom_type == "Polygon").all()
    union = shapely.union_all(res.grids.to_crs(crs).geometry.values)
    assert abs(union.area - comm.to_crs(crs).area.iloc[0]) < 1.0
