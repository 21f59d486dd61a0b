"""Raster isochrones against an independent reference (tests/_isoref.py: shapely snapping,
NetworkX distances, shapely substrings): each polygon lies between the exactly reached walkways
buffered by ``buffer - tolerance`` and ``buffer + tolerance``, households are counted inside or
outside accordingly, and the polygons of one facility are nested."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _isoref import graph_of, reached_stretches
from conftest import examples
from generators import network as netgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.access.coverage import coverage, isochrone_misclassification
from gridplan.errors import InputError
from gridplan.network import network_from_lines
from gridplan.network.isochrones import RASTER_FROM_FACILITIES, isochrones
from gridplan.network.raster_isochrones import tolerance_m
from gridplan.norms import walk_metres

LINES = netgen.lattice_network(10, 8, seed=3, drop=0.15, parallel=0.1)
NET = network_from_lines(LINES)
GRAPH = graph_of(NET.edges)
BUFFER = 30.0
# shapely's buffers are inscribed polygons: at quad_segs=16 a chord's sagitta is r (1 - cos(pi/64))
SAGITTA = 1 - np.cos(np.pi / 64)


def _check_facility(rows: gpd.GeoDataFrame, fac_pt, cell: float, rng) -> None:
    """Every polygon of one facility against the reference reach, and nested."""
    tol = tolerance_m(cell)
    prev = None
    for poly, m in zip(rows.geometry.to_numpy(), rows["minutes"].to_numpy()):
        reach = reached_stretches(NET.edges, GRAPH, fac_pt, walk_metres(m, 4.0))
        assert reach, "a polygon where nothing is reached"
        reach = shapely.union_all(np.asarray(reach, dtype=object))
        outer = shapely.buffer(reach, (BUFFER + tol) * (1 + SAGITTA) + 1e-6, quad_segs=16)
        inner = shapely.buffer(reach, BUFFER - tol, quad_segs=16)
        assert shapely.difference(poly, outer).area < 1e-6
        assert shapely.difference(inner, poly).area < 1e-6
        # the household form of the limit, on random points around the reach
        x0, y0, x1, y1 = outer.bounds
        pts = shapely.points(rng.uniform(x0 - 50, x1 + 50, 300), rng.uniform(y0 - 50, y1 + 50, 300))
        d = shapely.distance(pts, reach)
        inside = shapely.contains(poly, pts)
        assert not inside[d > BUFFER + tol + 1e-6].any()
        assert inside[d < BUFFER - tol - 1e-6].all()
        if prev is not None:
            assert shapely.difference(prev, poly).area < 1e-6, "not nested"
        prev = poly


@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    minutes=st.lists(st.floats(1.5, 12), min_size=1, max_size=3, unique=True),
    cell=st.sampled_from([5.0, 10.0]),
)
def test_raster_polygons_lie_within_the_tolerance_of_the_exact_reach(seed, minutes, cell):
    fac = netgen.random_facilities(LINES, 2, seed=seed)
    iso = isochrones(NET, fac, minutes=minutes, buffer_m=BUFFER, method="raster", cell_m=cell)
    assert list(iso.columns) == [
        "facility_id",
        "name",
        "kind",
        "minutes",
        "distance_m",
        "area_m2",
        "geometry",
    ]
    assert shapely.is_valid(iso.geometry.to_numpy()).all()
    rng = np.random.default_rng(seed)
    pts = fac.geometry.to_numpy()
    for f in range(len(fac)):
        rows = iso[iso["facility_id"] == fac["facility_id"].iat[f]]
        assert rows["minutes"].is_monotonic_increasing
        # every threshold with a reach has its polygon (the access leg may use up a short one)
        want = [
            m for m in sorted(minutes) if reached_stretches(NET.edges, GRAPH, pts[f], walk_metres(m, 4.0))
        ]
        assert rows["minutes"].tolist() == want
        _check_facility(rows, pts[f], cell, rng)


def test_a_facility_far_off_the_network_gets_the_disc_of_its_own_point():
    # 185 m below the lattice: 15 m of a 3-minute walk are left at its snapped point, and the
    # 2-minute walk ends before the network
    x0, y0, _, _ = LINES.total_bounds
    fac = gpd.GeoDataFrame(
        {"facility_id": ["FAR"], "name": ["远"], "kind": ["community_centre"]},
        geometry=[shapely.Point(x0 + 300.0, y0 - 185.0)],
        crs=LINES.crs,
    )
    snap = NET.snap(fac)
    leg = float(snap["snap_m"].iat[0])
    minutes = [leg / walk_metres(1.0, 4.0) * 0.9, (leg + 15.0) / walk_metres(1.0, 4.0)]
    iso = isochrones(NET, fac, minutes=minutes, buffer_m=BUFFER, method="raster", cell_m=5.0)
    assert iso["minutes"].tolist() == [minutes[1]]
    _check_facility(iso, fac.geometry.iat[0], 5.0, np.random.default_rng(0))


def test_auto_is_raster_for_many_facilities_and_exact_for_few():
    many = netgen.random_facilities(LINES, RASTER_FROM_FACILITIES, seed=4)
    auto = isochrones(NET, many, minutes=(3, 6), buffer_m=BUFFER)
    raster = isochrones(NET, many, minutes=(3, 6), buffer_m=BUFFER, method="raster")
    assert (
        shapely.to_wkb(auto.geometry.to_numpy()).tolist()
        == shapely.to_wkb(raster.geometry.to_numpy()).tolist()
    )
    few = many.iloc[:3]
    auto = isochrones(NET, few, minutes=(3, 6), buffer_m=BUFFER)
    exact = isochrones(NET, few, minutes=(3, 6), buffer_m=BUFFER, method="exact")
    assert (
        shapely.to_wkb(auto.geometry.to_numpy()).tolist()
        == shapely.to_wkb(exact.geometry.to_numpy()).tolist()
    )
    with pytest.raises(InputError, match="isochrone method"):
        isochrones(NET, few, method="vector")


def test_raster_result_does_not_depend_on_facility_order_or_grouping():
    fac = netgen.random_facilities(LINES, 40, seed=8)
    a = isochrones(NET, fac, minutes=(4, 8), buffer_m=BUFFER, method="raster")
    b = isochrones(NET, fac.iloc[::-1], minutes=(4, 8), buffer_m=BUFFER, method="raster")
    b = b.set_index(["facility_id", "minutes"]).loc[list(zip(a["facility_id"], a["minutes"]))]
    assert shapely.to_wkb(a.geometry.to_numpy()).tolist() == shapely.to_wkb(b.geometry.to_numpy()).tolist()
    one = pd.concat(
        [isochrones(NET, fac.iloc[[i]], minutes=(4, 8), buffer_m=BUFFER, method="raster") for i in range(5)]
    )
    assert (
        shapely.to_wkb(one.geometry.to_numpy()).tolist()
        == shapely.to_wkb(a.geometry.to_numpy()[:10]).tolist()
    )


def test_coverage_counts_what_the_raster_polygons_misclassify():
    hh = netgen.random_points(LINES, 3000, seed=5, margin=100)
    fac = netgen.random_facilities(LINES, RASTER_FROM_FACILITIES, seed=6)
    r = coverage(hh, fac, NET, thresholds=(3, 6), buffer_m=BUFFER)
    iso = r.isochrones.to_crs(NET.crs)
    pts = hh.to_crs(NET.crs).geometry.to_numpy()
    w = hh["households"].to_numpy()
    dist = NET.nearest(NET.snap(fac, 300.0), NET.snap(hh, 300.0))["dist_m"].to_numpy()
    for m in (3.0, 6.0, 15.0):
        # independently: the union of the polygons of the threshold, and shapely's contains
        union = shapely.union_all(iso.geometry.to_numpy()[iso["minutes"].to_numpy() == m])
        inside = shapely.contains(union, pts)
        truth = np.isfinite(dist) & (dist <= walk_metres(m, 4.0) + 1e-6)
        got = r.report["isochrone_misclassification"][f"{m:g}"]
        assert got["households_reached"] == int(w[truth].sum())
        assert got["households_inside_polygon_not_reached"] == int(w[inside & ~truth].sum())
        assert got["households_reached_outside_polygon"] == int(w[~inside & truth].sum())
    again = isochrone_misclassification(iso, pts, w, dist, (15.0,), 4.0)
    assert again["15"] == r.report["isochrone_misclassification"]["15"]


def test_a_walk_that_reaches_no_junction_is_its_own_stretch():
    # one 4 km street: from its middle, a 5-minute walk reaches neither end (no node at all in
    # the searched sub-network); the polygon is the buffered stretch [o - r, o + r]
    lines = gpd.GeoDataFrame(geometry=shapely.from_wkt(["LINESTRING (0 0, 4000 0)"]), crs="EPSG:32650")
    net = network_from_lines(lines)
    fac = gpd.GeoDataFrame({"facility_id": ["M"]}, geometry=[shapely.Point(2000.0, 10.0)], crs="EPSG:32650")
    iso = isochrones(net, fac, minutes=(5,), buffer_m=BUFFER, method="raster", cell_m=5.0)
    r = walk_metres(5, 4.0) - 10.0
    reach = shapely.LineString([(2000.0 - r, 0.0), (2000.0 + r, 0.0)])
    tol = tolerance_m(5.0)
    poly = iso.geometry.iat[0]
    assert shapely.difference(poly, reach.buffer(BUFFER + tol + 0.1, quad_segs=16)).area < 1e-6
    assert shapely.difference(reach.buffer(BUFFER - tol, quad_segs=16), poly).area < 1e-6


def test_raster_polygons_stay_polygons_in_geojson(tmp_path):
    # GeoJSON keeps 7 decimals of a degree (about a centimetre): outlines drawn too close to a
    # cell centre once made slivers that the rounding collapsed into lines (GeometryCollections)
    from gridplan.io.files import write
    from gridplan.io.projection import to_wgs84

    lines = netgen.lattice_network(40, 40, seed=0)
    net = network_from_lines(lines)
    fac = netgen.random_facilities(lines, 60, seed=2)
    iso = isochrones(net, fac, method="raster")
    write(to_wgs84(iso), tmp_path / "iso.geojson")
    back = gpd.read_file(tmp_path / "iso.geojson")
    assert len(back) == len(iso) == 180
    assert set(back.geom_type) <= {"Polygon", "MultiPolygon"}
    assert shapely.is_valid(back.geometry.to_numpy()).all()
