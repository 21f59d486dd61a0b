"""gridplan.io: every format read back equals what was written; RFC 7946 output; mapping; real
files from ../shared/realdata (skipped when absent)."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod

from gridplan import io
from gridplan.errors import GridplanWarning, InputError


def _households(n=40, seed=3):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(111.28, 111.30, n), 7)
    y = np.round(rng.uniform(30.70, 30.71, n), 7)
    return gpd.GeoDataFrame(
        {
            "households": rng.integers(1, 300, n).astype(np.int64),
            "population": pd.array(rng.integers(1, 900, n), dtype="Int64"),
            "building_id": pd.Series([f"楼{i:03d}" for i in range(n)], dtype="str"),
            "estate_id": pd.Series([f"E{i % 4}" for i in range(n)], dtype="str"),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=4326,
    )


def _communities():
    outer = shapely.box(111.28, 30.70, 111.29, 30.71)
    holed = shapely.Polygon(
        outer.exterior.coords[::-1],  # clockwise on purpose
        [shapely.box(111.283, 30.703, 111.285, 30.705).exterior.coords],
    )
    multi = shapely.MultiPolygon(
        [shapely.box(111.29, 30.70, 111.30, 30.705), shapely.box(111.29, 30.706, 111.30, 30.71)]
    )
    return gpd.GeoDataFrame(
        {
            "community_id": pd.Series(["A", "B"], dtype="str"),
            "name": pd.Series(["解放路社区", "墨池巷社区"], dtype="str"),
        },
        geometry=[holed, multi],
        crs=4326,
    )


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "parquet", "csv"])
def test_households_round_trip(tmp_path, ext):
    hh = _households()
    path = io.write(hh, tmp_path / f"h.{ext}")
    back = io.read_households(path)
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(hh.drop(columns="geometry"))
    )
    assert back.crs.to_epsg() == 4326
    assert back.geometry.geom_equals_exact(hh.geometry, 1e-7).all()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "parquet", "csv"])
def test_communities_round_trip_and_same_bytes(tmp_path, ext):
    comm = _communities()
    a = io.write(comm, tmp_path / f"a.{ext}")
    back = io.read_communities(a)
    assert back["community_id"].tolist() == ["A", "B"]
    assert back["name"].tolist() == ["解放路社区", "墨池巷社区"]
    # GeoPackage stores a mixed layer as MultiPolygons: compare shapes, not the wrapper type.
    assert (shapely.hausdorff_distance(back.geometry.values, comm.geometry.values) < 1e-7).all()
    assert np.allclose(
        shapely.area(back.geometry.values), shapely.area(comm.geometry.values), rtol=0, atol=1e-12
    )
    b = io.write(comm, tmp_path / "sub" / f"a.{ext}")
    assert a.read_bytes() == b.read_bytes()


def test_geojson_is_rfc7946(tmp_path):
    comm = _communities().to_crs(32649)  # written from a metric CRS: must come out in degrees
    path = io.write(comm, tmp_path / "c.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc and "name" not in doc
    ring_area = lambda ring: shapely.Polygon(ring).area * (1 if shapely.LinearRing(ring).is_ccw else -1)  # noqa: E731
    holed = doc["features"][0]["geometry"]["coordinates"]
    assert ring_area(holed[0]) > 0 and ring_area(holed[1]) < 0  # exterior CCW, hole CW
    for poly in doc["features"][1]["geometry"]["coordinates"]:
        assert ring_area(poly[0]) > 0
    coords = np.array(holed[0])
    assert np.all(np.abs(coords[:, 0] - 111.28) < 0.02)  # degrees, not metres
    decimals = [len(str(v).split(".")[1]) for v in coords.ravel() if "." in str(v)]
    assert max(decimals) <= 7


def test_csv_has_bom_and_lonlat_or_wkt(tmp_path):
    p = io.write(_households(5), tmp_path / "h.csv")
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[0].endswith("lon,lat")
    c = io.write(_communities(), tmp_path / "c.csv")
    assert "POLYGON" in c.read_text(encoding="utf-8-sig")


def test_gpkg_layer_and_zipped_shapefile(tmp_path):
    comm = _communities()
    p = io.write(comm, tmp_path / "all.gpkg", layer="communities")
    pyogrio.write_dataframe(_households(3), p, layer="households", append=False)
    assert io.read_communities(p, layer="communities")["community_id"].tolist() == ["A", "B"]
    assert len(io.read_households(p, layer="households")) == 3
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    pyogrio.write_dataframe(
        comm.rename(columns={"community_id": "SQBM", "name": "SQMC"}), shp_dir / "c.shp", encoding="UTF-8"
    )
    z = tmp_path / "c.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(shp_dir.iterdir()):
            zf.write(f, f"c/{f.name}")
    got = io.read_communities(z, columns={"community_id": "SQBM", "name": "SQMC"})
    assert got["name"].tolist() == ["解放路社区", "墨池巷社区"]
    got2 = io.read_communities(shp_dir / "c.shp", columns={"community_id": "SQBM"})
    assert got2["community_id"].tolist() == ["A", "B"]


def test_table_spellings_excel_and_plain_parquet(tmp_path):
    hh = _households(6)
    base = pd.DataFrame({"households": hh["households"], "x": hh.geometry.x, "y": hh.geometry.y})
    for lon, lat in (("lng", "lat"), ("Longitude", "Latitude"), ("经度", "纬度"), ("x", "y")):
        df = base.rename(columns={"x": lon, "y": lat})
        df.to_csv(tmp_path / "t.csv", index=False)
        got = io.read_households(tmp_path / "t.csv")
        assert got.geometry.geom_equals_exact(hh.geometry, 1e-9).all(), lon
    base.rename(columns={"x": "东经X", "y": "北纬Y"}).to_excel(tmp_path / "t.xlsx", index=False)
    got = io.read_households(tmp_path / "t.xlsx", columns={"lon": "东经X", "lat": "北纬Y"})
    assert got["households"].tolist() == hh["households"].tolist()
    base.rename(columns={"x": "lon", "y": "lat"}).to_parquet(tmp_path / "plain.parquet")
    assert len(io.read_households(tmp_path / "plain.parquet")) == 6


def test_mapping_one_column_feeds_two_fields_and_missing_mapped_column(tmp_path):
    comm = _communities().rename(columns={"community_id": "SQMC"}).drop(columns="name")
    p = io.write(comm, tmp_path / "c.geojson")
    got = io.read_communities(p, columns={"community_id": "SQMC", "name": "SQMC"})
    assert got["community_id"].tolist() == got["name"].tolist() == ["A", "B"]
    with pytest.raises(InputError) as exc:
        io.read_communities(p, columns={"community_id": "SQBM"})
    assert exc.value.column == "SQBM" and "SQMC" in str(exc.value)


def test_coords_option_converts_after_reading(tmp_path):
    from gridplan.io.coords import wgs84_to_gcj02

    hh = _households(10)
    gx, gy = wgs84_to_gcj02(hh.geometry.x.to_numpy(), hh.geometry.y.to_numpy())
    io.write(hh.set_geometry(gpd.points_from_xy(gx, gy)), tmp_path / "g.csv")
    got = io.read_households(tmp_path / "g.csv", coords="gcj02")
    d = Geod(ellps="WGS84").inv(got.geometry.x, got.geometry.y, hh.geometry.x, hh.geometry.y)[2]
    assert np.max(d) < 0.05  # 7-decimal CSV rounding (~1 cm) plus the inverse
    with pytest.raises(InputError):
        io.read_households(tmp_path / "g.csv", coords="wgs72")


def test_ids_are_strings_and_write_rejects_unknown_extension(tmp_path):
    df = pd.DataFrame(
        {"lon": [111.281, 111.282], "lat": [30.701, 30.702], "households": [3, 4], "building_id": [101, 102]}
    )
    df.to_csv(tmp_path / "n.csv", index=False)
    got = io.read_households(tmp_path / "n.csv")
    assert got["building_id"].tolist() == ["101", "102"]
    assert pd.api.types.is_string_dtype(got["building_id"])
    with pytest.raises(InputError, match="geojson"):
        io.write(got, tmp_path / "n.shp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.csv"]


def test_sample_district_reads(sample_dir):
    hh = io.read_households(sample_dir / "households" / "households.geojson")
    csv = io.read_households(sample_dir / "households" / "households.csv")
    assert hh["households"].sum() == csv["households"].sum()
    assert hh.geometry.geom_equals_exact(csv.geometry, 1e-6).all()
    for kind, rel in (
        ("communities", "boundaries/communities.geojson"),
        ("facilities", "facilities/facilities.geojson"),
        ("buildings", "buildings/buildings.geojson"),
        ("estates", "estates/estates.geojson"),
        ("barriers", "barriers/barriers.geojson"),
    ):
        assert len(io.read_layer(sample_dir / rel, kind)) > 0


@pytest.mark.realdata
def test_yichang_communities_load_and_validate(realdata):
    from gridplan.io.validate import validate_inputs

    path = realdata / "yichang" / "yichang_communities.geojson"
    cols = {"community_id": "SQMC", "name": "SQMC", "street_name": "SSJD"}
    comm = io.read_communities(path, columns=cols)
    assert len(comm) == 193 and comm["community_id"].is_unique  # SQMC is unique in this file
    assert comm["street_name"].notna().all()
    result = validate_inputs(communities=comm, names={"communities": path.name})
    assert result.ok, result.to_text()


@pytest.mark.realdata
def test_yichang_centres_gcj02_match_wgs84(realdata):
    y = realdata / "yichang"
    cols = {"facility_id": "poi_id"}
    raw = gpd.read_file(y / "yichang_party_mass_centres_gcj02.geojson")
    with pytest.warns(UserWarning, match="community_centre"):  # the files have no `kind`
        g = io.read_facilities(y / "yichang_party_mass_centres_gcj02.geojson", columns=cols, coords="gcj02")
        w = io.read_facilities(y / "yichang_party_mass_centres_wgs84.geojson", columns=cols)
    assert len(g) == len(w) == len(raw) == 45
    w = w.set_index("facility_id").loc[g["facility_id"]]
    d = Geod(ellps="WGS84").inv(
        g.geometry.x.to_numpy(), g.geometry.y.to_numpy(), w.geometry.x.to_numpy(), w.geometry.y.to_numpy()
    )[2]
    assert np.max(d) < 3.0


def test_convert_command(tmp_path, capsys):
    from gridplan.cli import main
    from gridplan.io.coords import wgs84_to_gcj02

    hh = _households(8)
    gx, gy = wgs84_to_gcj02(hh.geometry.x.to_numpy(), hh.geometry.y.to_numpy())
    src = io.write(
        hh.set_geometry(gpd.points_from_xy(gx, gy)).rename(columns={"households": "HS"}), tmp_path / "in.csv"
    )
    out = tmp_path / "out" / "h.gpkg"
    assert (
        main(
            [
                "convert",
                str(src),
                str(out),
                "--coords",
                "gcj02",
                "--map",
                "households=HS",
                "--out-layer",
                "hh",
            ]
        )
        == 0
    )
    assert "wrote 8 households" in capsys.readouterr().out
    got = io.read_households(out, layer="hh")
    assert got["households"].tolist() == hh["households"].tolist()
    assert np.max(np.abs(got.geometry.x.to_numpy() - hh.geometry.x.to_numpy())) < 1e-6


@pytest.mark.parametrize("sep", ["\t", "|", ";"])
def test_delimited_text_files_are_sniffed(tmp_path, sep):
    text = (
        sep.join(["lon", "lat", "households"])
        + "\n"
        + sep.join(["114.30", "30.50", "12"])
        + "\n"
        + sep.join(["114.31", "30.51", "7"])
        + "\n"
    )
    path = tmp_path / "hh.txt"
    path.write_text(text, encoding="utf-8")
    hh = io.read_households(path)
    assert hh["households"].tolist() == [12, 7]
    assert hh.geometry.x.round(2).tolist() == [114.30, 114.31]


def test_legacy_xls_workbook(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("住户")
    for j, name in enumerate(["经度", "纬度", "户数"]):
        sheet.write(0, j, name)
    for i, row in enumerate([(114.30, 30.50, 12), (114.31, 30.51, 7)], start=1):
        for j, v in enumerate(row):
            sheet.write(i, j, v)
    path = tmp_path / "hh.xls"
    book.save(str(path))
    hh = io.read_households(path)
    assert hh["households"].tolist() == [12, 7]


@pytest.mark.parametrize("header", ["HOUSEHOLDS", "户数(户)", "户数（户）", "总户数", "住户数"])
def test_household_count_headers_planners_use(tmp_path, header):
    path = tmp_path / "hh.csv"
    path.write_text(f"lon,lat,{header}\n114.30,30.50,12\n114.31,30.51,7\n", encoding="utf-8")
    with pytest.warns(GridplanWarning, match="used as 'households'"):
        hh = io.read_households(path)
    assert hh["households"].tolist() == [12, 7]


@pytest.mark.parametrize("header", ["户数合计数", "HH_TOTAL", "居住户数量"])
def test_a_count_column_not_recognised_stops_instead_of_one_per_row(tmp_path, header):
    path = tmp_path / "hh.csv"
    path.write_text(f"lon,lat,{header}\n114.30,30.50,12\n114.31,30.51,7\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"--map households={header}"):
        io.read_households(path)


@pytest.mark.parametrize("header", ["household_id", "户号", "户籍人口"])
def test_ids_and_population_are_not_taken_for_counts(tmp_path, header):
    path = tmp_path / "hh.csv"
    path.write_text(f"lon,lat,{header}\n114.30,30.50,12\n114.31,30.51,7\n", encoding="utf-8")
    with pytest.warns(GridplanWarning, match="one household"):
        hh = io.read_households(path)
    assert hh["households"].tolist() == [1, 1]
