"""Coverage: walking times per household, summaries, isochrones, gaps, norms, files and CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan.access.coverage import coverage, gaps, life_circle, write_coverage
from gridplan.cli import main
from gridplan.errors import InputError
from gridplan.network import network_from_lines
from gridplan.norms import DEFAULT_NORMS

CRS = "EPSG:32650"


def _gdf(cols, xy, crs=CRS):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.asarray(xy, float)), crs=crs)


@pytest.fixture(scope="module")
def line_net():
    # a 3 km street along x with a 1 km side street at x=1500
    lines = gpd.GeoDataFrame(
        {"highway": ["residential", "footway"]},
        geometry=shapely.from_wkt(["LINESTRING (0 0, 1500 0, 3000 0)", "LINESTRING (1500 0, 1500 1000)"]),
        crs=CRS,
    )
    return network_from_lines(lines)


@pytest.fixture(scope="module")
def line_case(line_net):
    fac = _gdf(
        {
            "facility_id": ["A", "S"],
            "name": ["甲中心", "站"],
            "kind": ["community_centre", "station"],
            "area_m2": [120.0, 50.0],
            "community_id": ["c1", "c1"],
        },
        [[0, 0], [3000, 0]],
    )
    hh = _gdf(
        {
            "households": [10, 20, 30, 40, 5],
            "population": [25, 50, np.nan, 100, 12],
            "community_id": ["c1", "c1", "c2", "c2", "c2"],
        },
        [[500, 30], [999, 0], [1001, 0], [1500, 900], [800, 700]],
    )
    return hh, fac


def test_walk_times_on_a_line(line_net, line_case):
    hh, fac = line_case
    r = coverage(hh, fac, line_net, isochrones=False)
    out = r.households
    # speed 4 km/h = 66.67 m/min; household 0 walks 500 m + 30 m access
    assert np.allclose(
        out["walk_min"].to_numpy()[:4], np.array([530, 999, 1001, 2400]) / (4000 / 60), atol=1e-3
    )
    assert out["covered"].tolist() == [True, True, False, False, False]
    # the station does not count (kinds default to centres); the far household is off the network
    assert out["nearest_facility_id"].tolist()[:4] == ["A"] * 4
    assert out["off_network"].tolist() == [False] * 4 + [True]
    assert np.isnan(out["walk_min"].iloc[4]) and pd.isna(out["nearest_facility_id"].iloc[4])
    assert list(out.index) == list(hh.index) and len(out) == len(hh)
    assert r.report["households"] == 105 and r.report["households_covered"] == 30
    assert r.report["off_network_households"] == 5 and r.report["off_network_rows"] == 1
    # stations counted when asked for
    r2 = coverage(hh, fac, line_net, kinds=("community_centre", "station"), isochrones=False)
    assert r2.households["nearest_facility_id"].iloc[3] == "S"


def test_summary_and_standards(line_net, line_case):
    hh, fac = line_case
    hh = hh.assign(grid_id=["c1-01", "c1-01", "c2-01", "c2-02", "c2-02"])
    comm = gpd.GeoDataFrame(
        {
            "community_id": ["c1", "c2"],
            "name": ["一社区", "二社区"],
            "street_id": ["s", "s"],
            "street_name": ["街道", "街道"],
        },
        geometry=[shapely.box(-100, -100, 1000, 1100), shapely.box(1000, -100, 3100, 1100)],
        crs=CRS,
    )
    r = coverage(hh, fac, line_net, communities=comm, isochrones=False)
    s = r.summary.set_index(["level", "id"])
    assert s.loc[("all", "all"), "households"] == 105
    assert s.loc[("street", "s"), "households_covered"] == 30
    assert s.loc[("community", "c1"), "share_covered"] == 1.0
    assert s.loc[("community", "c2"), "households"] == 75
    assert s.loc[("community", "c2"), "off_network"] == 5
    assert s.loc[("grid", "c2-02"), "households"] == 45
    assert s.loc[("community", "c1"), "name"] == "一社区"
    # per level, households add up to the total
    for level in ("street", "community", "grid"):
        assert r.summary.loc[r.summary["level"] == level, "households"].sum() == 105
    st = r.standards.set_index("community_id")
    # c1: 30 households, one centre of 120 m2 -> 400 m2 per 100 households, norm 30
    assert st.loc["c1", "households"] == 30 and st.loc["c1", "centres"] == 1
    assert st.loc["c1", "stations"] == 1
    assert st.loc["c1", "m2_per_100_households"] == 400.0 and bool(st.loc["c1", "meets_area_norm"])
    # c2 has no centre: shortfall = 75 / 100 * 30
    assert st.loc["c2", "centre_area_m2"] == 0.0 and st.loc["c2", "area_shortfall_m2"] == 22.5
    assert not bool(st.loc["c2", "meets_area_norm"])
    # population: given where known, households x 2.62 where missing
    assert st.loc["c2", "population"] == round(100 + 12 + 30 * DEFAULT_NORMS.household_size)
    assert st.loc["c2", "grids"] == 2 and st.loc["c2", "grid_workers_needed"] == 2
    assert st.loc["c1", "community_workers_needed"] == 1  # ceil(75 / 10000 * 18)


def test_bad_inputs_name_rows_and_columns(line_net, line_case):
    hh, fac = line_case
    with pytest.raises(InputError, match=r"households.*rows 1, 3"):
        coverage(hh.assign(households=[1, 0, 2, 1.5, 3]), fac, line_net, isochrones=False)
    with pytest.raises(InputError, match="not unique"):
        coverage(hh, fac.assign(facility_id=["A", "A"]), line_net, isochrones=False)
    with pytest.raises(InputError, match="kind"):
        coverage(hh, fac.assign(kind=["centre", "station"]), line_net, isochrones=False)
    with pytest.raises(InputError, match="facility_id"):
        coverage(hh, fac.drop(columns="facility_id"), line_net, isochrones=False)


def test_isochrones_are_nested_and_follow_the_network(line_net, line_case):
    hh, fac = line_case
    r = coverage(hh, fac, line_net, thresholds=(5, 10), minutes=15)
    iso = r.isochrones.to_crs(CRS)
    a = iso[iso["facility_id"] == "A"].set_index("minutes").geometry
    assert list(a.index) == [5.0, 10.0, 15.0]
    assert a[5.0].difference(a[10.0]).area < 1e-6 and a[10.0].difference(a[15.0]).area < 1e-6
    # 15 min = 1000 m along the street from x=0, buffered by 50 m
    minx, miny, maxx, maxy = a[15.0].bounds
    assert abs(maxx - 1050) < 1e-6 and abs(maxy - 50) < 1e-6
    # the household at 1,001 m (30 households) is inside the 50 m buffer but not reached
    mis = r.report["isochrone_misclassification"]["15"]
    assert mis["households_inside_polygon_not_reached"] == 30
    assert mis["households_reached_outside_polygon"] == 0


def test_isochrone_partial_edges_from_both_ends():
    # a square block: the facility sits at a corner; the opposite side is reached from both ends
    sq = gpd.GeoDataFrame(
        geometry=shapely.from_wkt(["LINESTRING (0 0, 400 0, 400 400, 0 400, 0 0)"]), crs=CRS
    )
    net = network_from_lines(sq)
    fac = _gdf({"facility_id": ["F"], "kind": ["community_centre"]}, [[0, 0]])
    hh = _gdf({"households": [1, 1]}, [[200, 400], [250, 400]])
    r = coverage(hh, fac, net, minutes=9.0, thresholds=(), speed_kmh=4.0)  # 600 m
    iso = r.isochrones.to_crs(CRS).geometry.iloc[0]
    assert iso.contains(shapely.Point(400, 190)) and iso.contains(shapely.Point(190, 400))
    assert not iso.buffer(-1).contains(shapely.Point(400, 260))
    # 600 m (exactly on the line: covered) and 650 m along the loop
    assert r.households["covered"].tolist() == [True, False]
    assert np.allclose(r.households["walk_min"], np.array([600, 650]) / (4000 / 60), atol=1e-3)


def test_gaps_cluster_uncovered_households():
    rng = np.random.default_rng(0)
    a = rng.normal([0, 0], 40, (30, 2))
    b = rng.normal([2000, 0], 40, (10, 2))
    lone = np.array([[5000.0, 5000.0]])
    pts = gpd.GeoSeries(shapely.points(np.r_[a, b, lone]), crs=CRS)
    w = np.r_[np.full(30, 5), np.full(10, 3), [100]]
    g = gaps(pts, w, min_households=50)
    # a: 150 households (a gap); b: 30 (below 50); the lone point of 100 forms its own cluster
    assert g["households"].tolist() == [150, 100]
    assert g["gap_id"].tolist() == ["gap-01", "gap-02"] and g["rank"].tolist() == [1, 2]
    assert g.geometry.iloc[0].contains(shapely.MultiPoint(a))


def test_life_circle_presets():
    assert life_circle(15) == (15.0, 4.0)
    m, v = life_circle(5)
    assert m == 5.0 and abs(v * 1000 / 60 * m - 300) < 1e-9
    with pytest.raises(InputError):
        life_circle(20)


def test_written_files_are_complete_and_byte_identical(tmp_path, line_net, line_case):
    hh, fac = line_case
    hh = hh.to_crs(4326)
    outs = []
    for name in ("a", "b"):
        r = coverage(hh, fac.to_crs(4326), line_net)
        write_coverage(r, tmp_path / name)
        outs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outs[0] == outs[1]
    assert set(outs[0]) == {
        "households.geojson",
        "isochrones.geojson",
        "coverage.csv",
        "standards.csv",
        "gaps.geojson",
        "report.json",
    }
    back = gpd.read_file(tmp_path / "a" / "households.geojson")
    assert len(back) == 5 and back["households"].sum() == 105
    assert {"walk_min", "nearest_facility_id", "covered", "snap_m", "off_network"} <= set(back.columns)
    csv = pd.read_csv(tmp_path / "a" / "coverage.csv", encoding="utf-8-sig")
    assert list(csv.columns[:7]) == [
        "level",
        "id",
        "name",
        "households",
        "households_covered",
        "share_covered",
        "off_network",
    ]
    report = json.loads((tmp_path / "a" / "report.json").read_text(encoding="utf-8"))
    assert report["households"] == 105


def test_sample_district_cli(tmp_path, sample_dir):
    out = tmp_path / "cov"
    args = [
        "coverage",
        "--households",
        str(sample_dir / "households" / "households.geojson"),
        "--facilities",
        str(sample_dir / "facilities" / "facilities.geojson"),
        "--communities",
        str(sample_dir / "boundaries" / "communities.geojson"),
        "--network",
        str(sample_dir / "network" / "walk.geojson"),
        "--out",
        str(out),
        "-q",
        "--centre-m2-per-100",
        "40",
        "--preset",
        "15",
    ]
    assert main(args) == 0
    hh_in = gpd.read_file(sample_dir / "households" / "households.geojson")
    hh_out = gpd.read_file(out / "households.geojson")
    assert len(hh_out) == len(hh_in)
    assert (hh_out["households"].to_numpy() == hh_in["households"].to_numpy()).all()
    summary = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    comm = summary[summary["level"] == "community"]
    assert comm["households"].sum() == hh_in["households"].sum()
    st = pd.read_csv(out / "standards.csv", encoding="utf-8-sig")
    fac = gpd.read_file(sample_dir / "facilities" / "facilities.geojson")
    assert len(st) == 10 and (st["norm_m2_per_100"] == 40.0).all()
    assert st["centres"].sum() == (fac["kind"] == "community_centre").sum()
    assert st["stations"].sum() == (fac["kind"] == "station").sum()
    iso = gpd.read_file(out / "isochrones.geojson")
    assert set(iso["minutes"]) == {5.0, 10.0, 15.0}
    # bad input: exit code 2, nothing written
    bad = tmp_path / "bad"
    args_bad = list(args)
    args_bad[args_bad.index("--out") + 1] = str(bad)
    args_bad[args_bad.index("--network") + 1] = str(tmp_path / "missing.osm.pbf")
    assert main(args_bad) == 2
    assert not bad.exists() or not any(bad.iterdir())
