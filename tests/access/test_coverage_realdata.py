"""Walking times on the real OSM extract of central Nanjing (skips when ../shared/realdata is absent)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _walkref import walk_reference

from gridplan.access.coverage import coverage
from gridplan.network import load_network

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def nanjing(realdata):
    path = realdata / "nanjing" / "nanjing_xinjiekou.osm.pbf"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return load_network(path)


def _random(net, n, seed, margin=0.0):
    rng = np.random.default_rng(seed)
    # the built-up core, not the long tails of arterial ways that leave the extract
    x0, y0, x1, y1 = np.percentile(net.node_xy, [5, 95], axis=0).ravel()
    return shapely.points(rng.uniform(x0 - margin, x1 + margin, n), rng.uniform(y0 - margin, y1 + margin, n))


def test_nanjing_network_loads_with_pyosmium(nanjing):
    r = nanjing.report
    assert r["crs"] == "EPSG:32650"  # UTM 50N for Nanjing
    assert r["nodes"] > 400 and r["edges"] > 600
    assert r["ways_dropped"]["not_walkable_highway"] >= 1  # e.g. trunk without sidewalk
    assert r["components"] >= 1 and r["largest_component_share"] > 0.5
    assert set(nanjing.edges["highway"]) >= {"footway", "residential", "living_street"}


def test_nanjing_walk_times_equal_networkx(nanjing):
    hh = _random(nanjing, 1500, seed=1, margin=200)
    fac = _random(nanjing, 12, seed=2)
    got = nanjing.nearest(
        nanjing.snap(gpd.GeoSeries(fac, crs=nanjing.crs), 300.0),
        nanjing.snap(gpd.GeoSeries(hh, crs=nanjing.crs), 300.0),
    )["dist_m"].to_numpy()
    ref = walk_reference(nanjing.edges, hh, fac, 300.0)
    assert (np.isnan(got) == np.isnan(ref)).all()
    assert np.nanmax(np.abs(got - ref)) < 0.01
    assert np.isfinite(got).sum() > 1000


def test_nanjing_coverage_end_to_end(nanjing, tmp_path):
    from gridplan.access.coverage import write_coverage

    hh = gpd.GeoDataFrame(
        {"households": np.random.default_rng(3).integers(1, 80, 2000)},
        geometry=_random(nanjing, 2000, seed=3),
        crs=nanjing.crs,
    ).to_crs(4326)
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"NJ{i}" for i in range(5)],
            "kind": "community_centre",
            "area_m2": [300.0, 450, 600, 200, 800],
        },
        geometry=_random(nanjing, 5, seed=4),
        crs=nanjing.crs,
    ).to_crs(4326)
    r = coverage(hh, fac, nanjing, minutes=5.0)
    assert r.report["households"] == int(hh["households"].sum())
    assert 0 < r.report["households_covered"] < r.report["households"]
    assert len(r.gaps) >= 1 and r.gaps["households"].is_monotonic_decreasing
    assert set(r.isochrones["minutes"]) == {5.0, 10.0, 15.0}
    written = write_coverage(r, tmp_path)
    assert len(written) == 6
