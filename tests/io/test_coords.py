"""gridplan.io.coords: GCJ-02 / BD-09 conversions, checked against published reference points and
by round trips over China's bounding box (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gridplan.io import coords

GEOD = Geod(ellps="WGS84")
lons = st.floats(73.7, 134.8, allow_nan=False)
lats = st.floats(18.2, 53.5, allow_nan=False)


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.tuples(lons, lats), min_size=1, max_size=50))
def test_gcj_round_trip_under_1cm(points):
    lon, lat = np.array(points).T
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    back = coords.gcj02_to_wgs84(glon, glat)
    err = _metres(lon, lat, *back)
    assert np.max(err) < 0.01
    # The shift itself is real (hundreds of metres) wherever GCJ-02 applies.
    assert np.all(_metres(lon, lat, glon, glat) > 1.0)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(lons, lats), min_size=1, max_size=50))
def test_bd09_round_trips(points):
    lon, lat = np.array(points).T
    assert np.max(_metres(lon, lat, *coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat)))) < 0.01
    g = coords.wgs84_to_gcj02(lon, lat)
    assert np.max(_metres(*g, *coords.bd09_to_gcj02(*coords.gcj02_to_bd09(*g)))) < 0.01


def test_reference_points():
    # Yichang party-mass centre: Amap (GCJ-02) vs the source project's WGS-84 conversion (which
    # used the one-step approximate inverse, itself 1-2 m off).
    lon, lat = coords.gcj02_to_wgs84(111.2859, 30.698387)
    assert _metres(lon, lat, 111.280241187541, 30.70082367113503) < 3.0
    # Tiananmen: WGS-84 116.391275, 39.907375 is about 116.397512, 39.908777 on Amap.
    g = coords.wgs84_to_gcj02(116.391275, 39.907375)
    assert _metres(*g, 116.397512, 39.908777) < 10.0
    # BD-09 is GCJ-02 + (~0.0065, ~0.006).
    b = coords.gcj02_to_bd09(116.397512, 39.908777)
    assert 0.005 < b[0] - 116.397512 < 0.0075 and 0.005 < b[1] - 39.908777 < 0.0075


def test_outside_china_is_identity_and_nan_passes_through():
    lon = np.array([2.35, -74.0, 151.2])
    lat = np.array([48.85, 40.7, -33.9])
    assert coords.out_of_china(lon, lat).all()
    np.testing.assert_array_equal(coords.wgs84_to_gcj02(lon, lat), (lon, lat))
    np.testing.assert_array_equal(coords.gcj02_to_wgs84(lon, lat), (lon, lat))
    x, y = coords.gcj02_to_wgs84(np.array([np.nan, 111.3]), np.array([np.nan, 30.7]))
    assert np.isnan(x[0]) and np.isfinite(x[1])


def test_convert_gdf_polygons_and_errors():
    import geopandas as gpd
    import shapely

    from gridplan.errors import InputError

    box = gpd.GeoDataFrame(geometry=[shapely.box(111.28, 30.70, 111.29, 30.71)], crs=4326)
    g = coords.convert_gdf(box, "wgs84", "gcj02")
    back = coords.convert_gdf(g, "gcj02")
    assert back.crs.to_epsg() == 4326
    assert shapely.hausdorff_distance(back.geometry[0], box.geometry[0]) < 1e-9
    assert shapely.hausdorff_distance(g.geometry[0], box.geometry[0]) > 0.002
    with pytest.raises(InputError, match="unknown coordinate system"):
        coords.convert_gdf(box, "wgs72")
