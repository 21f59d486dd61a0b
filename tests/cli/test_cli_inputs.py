"""Every command reads its inputs through the one reader: ``--map`` after title rows and encoding
are found, an unmatched mapping is exit 2, and ``--coords`` can name one file.

The wrong-count traps: before the one reader, ``coverage --map households=总户数`` on a sheet with
title rows dropped the mapping and counted one household per row, with exit code 0.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DATA

from gridplan.cli import main
from gridplan.io.coords import convert_xy

COMMUNITY = "420106001002"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """One community of the sample, its households as an Excel sheet with two title rows and
    the count in a column named 总户数, and its centres."""
    folder = tmp_path_factory.mktemp("inputs")
    comm = gpd.read_file(DATA / "boundaries" / "communities.geojson")
    comm = comm[comm["community_id"] == COMMUNITY]
    hh = gpd.read_file(DATA / "households" / "households.geojson")
    hh = hh[hh.within(comm.geometry.iloc[0].buffer(-1e-5))].reset_index(drop=True)
    comm.to_file(folder / "comm.geojson")
    table = pd.DataFrame(
        {
            "经度": hh.geometry.x.round(7),
            "纬度": hh.geometry.y.round(7),
            "总户数": hh["households"],
            "楼栋": hh["building_id"],
        }
    )
    with pd.ExcelWriter(folder / "hh.xlsx") as xw:
        pd.DataFrame([["某街道住户统计表"], ["2026年11月"]]).to_excel(xw, header=False, index=False)
        table.to_excel(xw, startrow=2, index=False)
    return {"folder": folder, "total": int(hh["households"].sum()), "rows": len(hh)}


def _run(capsys, *args) -> tuple[int, str]:
    rc = main([str(a) for a in args])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def test_partition_maps_a_count_column_below_title_rows(tmp_path, capsys, small):
    f = small["folder"]
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        f / "hh.xlsx",
        "--communities",
        f / "comm.geojson",
        "--map",
        "households=总户数,building_id=楼栋",
        "--out",
        tmp_path / "out",
        "--jobs",
        "1",
        "-q",
    )
    assert rc == 0, text
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert report["total"]["households"] == small["total"] != small["rows"]


def test_coverage_maps_a_count_column_below_title_rows(tmp_path, capsys, small):
    f = small["folder"]
    rc, text = _run(
        capsys,
        "coverage",
        "--households",
        f / "hh.xlsx",
        "--facilities",
        DATA / "facilities" / "facilities.geojson",
        "--network",
        DATA / "network" / "walk.geojson",
        "--no-isochrones",
        "--map",
        "households=总户数",
        "--out",
        tmp_path / "cov",
        "-q",
    )
    assert rc == 0, text
    report = json.loads((tmp_path / "cov" / "report.json").read_text("utf-8"))
    assert report["households"] == small["total"]


@pytest.mark.parametrize("command", ["partition", "coverage", "validate"])
def test_a_mapping_that_matches_nothing_stops(tmp_path, capsys, small, command):
    f = small["folder"]
    extra = {
        "partition": ["--communities", f / "comm.geojson"],
        "coverage": [
            "--facilities",
            DATA / "facilities" / "facilities.geojson",
            "--network",
            DATA / "network" / "walk.geojson",
        ],
        "validate": ["--communities", f / "comm.geojson"],
    }[command]
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        command,
        "--households",
        f / "hh.xlsx",
        *extra,
        "--map",
        "households=户数合计",
        "--out",
        out,
        "-q",
    )
    assert rc == 2
    assert "户数合计" in text and "hh.xlsx" in text
    assert "Traceback" not in text
    assert not out.exists()


def test_coords_can_name_one_file(tmp_path, capsys, small):
    """Households in WGS-84 from the population system, centres in GCJ-02 from Amap."""
    fac = gpd.read_file(DATA / "facilities" / "facilities.geojson")
    x, y = convert_xy(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy(), "wgs84", "gcj02")
    shifted = fac.set_geometry(gpd.points_from_xy(x, y, crs=4326))
    shifted.to_file(tmp_path / "fac_gcj02.geojson")
    hh = DATA / "households" / "households.geojson"
    net = DATA / "network" / "walk.geojson"
    args = ["coverage", "--households", hh, "--network", net, "--no-isochrones", "-q"]
    rc, text = _run(
        capsys, *args, "--facilities", DATA / "facilities" / "facilities.geojson", "--out", tmp_path / "clean"
    )
    assert rc == 0, text
    rc, text = _run(
        capsys,
        *args,
        "--facilities",
        tmp_path / "fac_gcj02.geojson",
        "--coords",
        "facilities=gcj02",
        "--out",
        tmp_path / "mixed",
    )
    assert rc == 0, text
    a = gpd.read_file(tmp_path / "clean" / "households.geojson")
    b = gpd.read_file(tmp_path / "mixed" / "households.geojson")
    # GCJ-02 -> WGS-84 is inverted to well under a metre, so the walks agree to a second; read
    # as WGS-84, the same centres would be about 600 m off
    assert (a["walk_min"] - b["walk_min"]).abs().max() < 1 / 60
    assert (a["covered"] == b["covered"]).all()


def test_bad_coords_option_stops(tmp_path, capsys):
    rc, text = _run(
        capsys,
        "validate",
        "--households",
        DATA / "households" / "households.geojson",
        "--coords",
        "households=amap",
    )
    assert rc == 2 and "--coords" in text and "Traceback" not in text


def test_csv_in_gauss_kruger_metres_with_crs(tmp_path, capsys, small):
    """Surveyed data: X/Y columns in CGCS2000 3-degree Gauss-Kruger metres (EPSG:4545, CM 114°E)."""
    f = small["folder"]
    table = pd.read_excel(f / "hh.xlsx", skiprows=2)
    pts = gpd.GeoSeries(gpd.points_from_xy(table["经度"], table["纬度"]), crs=4326).to_crs(4545)
    pd.DataFrame({"X": pts.x.round(3), "Y": pts.y.round(3), "户数": table["总户数"]}).to_csv(
        tmp_path / "hh_gk.csv", index=False
    )
    common = ["--communities", f / "comm.geojson", "--jobs", "1", "-q"]
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        f / "hh.xlsx",
        "--map",
        "households=总户数",
        "--out",
        tmp_path / "a",
        *common,
    )
    assert rc == 0, text
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        tmp_path / "hh_gk.csv",
        "--map",
        "lon=X,lat=Y",
        "--crs",
        "households=EPSG:4545",
        "--out",
        tmp_path / "b",
        *common,
    )
    assert rc == 0, text
    a = json.loads((tmp_path / "a" / "report.json").read_text("utf-8"))["total"]
    b = json.loads((tmp_path / "b" / "report.json").read_text("utf-8"))["total"]
    assert (a["households"], a["grids"]) == (b["households"], b["grids"])
    # without --crs the metres are refused as coordinates, never planned
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        tmp_path / "hh_gk.csv",
        "--map",
        "lon=X,lat=Y",
        "--out",
        tmp_path / "c",
        *common,
    )
    assert rc == 2 and not (tmp_path / "c").exists()


def test_geopackage_layer_is_picked_by_geometry_or_named(tmp_path, capsys, small):
    f = small["folder"]
    gpkg = tmp_path / "mixed.gpkg"
    streets = gpd.read_file(DATA / "network" / "walk.geojson").head(50)
    streets.to_file(gpkg, layer="道路", driver="GPKG")
    gpd.read_file(f / "comm.geojson").to_file(gpkg, layer="社区边界", driver="GPKG")
    out = tmp_path / "out"
    rc, text = _run(
        capsys, "validate", "--households", f / "hh.xlsx", "--communities", gpkg, "--map", "households=总户数"
    )
    assert rc == 0, text  # the only polygon layer is the communities' one
    gpd.read_file(f / "comm.geojson").to_file(gpkg, layer="旧边界", driver="GPKG")
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        f / "hh.xlsx",
        "--communities",
        gpkg,
        "--map",
        "households=总户数",
        "--out",
        out,
        "-q",
    )
    assert rc == 2 and "社区边界" in text and "旧边界" in text and "--layer" in text
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        f / "hh.xlsx",
        "--communities",
        gpkg,
        "--layer",
        "communities=社区边界",
        "--map",
        "households=总户数",
        "--out",
        out,
        "-q",
        "--jobs",
        "1",
    )
    assert rc == 0, text
