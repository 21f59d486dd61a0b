"""Exports: GeoPackage / GeoJSON / Excel read back equal, RFC 7946, stable codes."""

from __future__ import annotations

import hashlib
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _lattice import CRS_METRIC, grids_from_units, lattice
from geopandas.testing import assert_geodataframe_equal

from gridplan.errors import InputError
from gridplan.report import codes, export


@pytest.fixture(scope="module")
def district():
    return lattice(communities=2)


# --- an independent RFC 7946 checker ---------------------------------------------------------


def _ring_area(ring) -> float:
    xy = np.asarray(ring, dtype=float)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def rfc7946_problems(doc: dict) -> list[str]:
    """Every way ``doc`` breaks RFC 7946 (sections 3.1.6, 4, 5 and the crs removal)."""
    problems = []
    if "crs" in doc:
        problems.append("has a crs member")
    if doc.get("type") != "FeatureCollection":
        problems.append("not a FeatureCollection")

    def polygon(rings, where):
        for k, ring in enumerate(rings):
            if len(ring) < 4 or ring[0] != ring[-1]:
                problems.append(f"{where}: ring {k} not closed or too short")
            area = _ring_area(ring)
            if k == 0 and area <= 0:
                problems.append(f"{where}: exterior ring not counter-clockwise")
            if k > 0 and area >= 0:
                problems.append(f"{where}: hole {k} not clockwise")

    def positions(coords):
        if coords and isinstance(coords[0], (int, float)):
            yield coords
        else:
            for c in coords:
                yield from positions(c)

    for i, f in enumerate(doc.get("features", [])):
        geom = f.get("geometry")
        if geom is None:
            continue
        for pos in positions(geom["coordinates"]):
            lon, lat = pos[0], pos[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                problems.append(f"feature {i}: position {pos} out of WGS-84 range")
        if geom["type"] == "Polygon":
            polygon(geom["coordinates"], f"feature {i}")
        elif geom["type"] == "MultiPolygon":
            for j, p in enumerate(geom["coordinates"]):
                polygon(p, f"feature {i} part {j}")
    return problems


def test_checker_catches_a_clockwise_exterior():
    cw = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]},
            }
        ],
    }
    assert rfc7946_problems(cw) == ["feature 0: exterior ring not counter-clockwise"]
    cw["crs"] = {}
    assert "has a crs member" in rfc7946_problems(cw)


def _awkward_grids(district) -> gpd.GeoDataFrame:
    """The lattice grids plus a holed polygon and a multipolygon, all rings clockwise."""
    g = district["grids"].to_crs(CRS_METRIC)
    a = g.geometry.iloc[0]
    holed = shapely.Polygon(a.exterior.coords, [a.centroid.buffer(20, quad_segs=2).exterior.coords])
    b = g.geometry.iloc[1].bounds
    multi = shapely.MultiPolygon(
        [
            shapely.box(*b).buffer(-30, join_style="mitre"),
            shapely.box(b[0] - 300, b[1], b[0] - 250, b[1] + 50),
        ]
    )
    geoms = g.geometry.to_numpy().copy()
    geoms[0], geoms[1] = holed, multi
    geoms = shapely.orient_polygons(geoms, exterior_cw=True)
    return g.set_geometry(geoms).to_crs(4326)


def test_geojson_is_rfc7946_and_reads_back(district, tmp_path):
    grids = _awkward_grids(district)
    path = export.write_geojson(codes.grid_codes(grids), tmp_path / "grids.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert rfc7946_problems(doc) == []
    back = gpd.read_file(path)
    expected = codes.grid_codes(grids)
    assert list(back["grid_code"]) == list(expected["grid_code"])
    assert (back["households"].to_numpy() == expected["households"].to_numpy()).all()
    # Same shapes up to ring orientation and the 7-decimal (1 cm) precision of the file.
    same = shapely.equals_exact(
        shapely.normalize(back.geometry.values), shapely.normalize(expected.geometry.values), tolerance=1e-7
    )
    assert same.all()


def _assert_frames_equal(back: gpd.GeoDataFrame, written: gpd.GeoDataFrame) -> None:
    assert list(back.columns) == list(written.columns)
    assert_geodataframe_equal(back, written, check_dtype=False, check_crs=True)
    # Integer fields stay integer (nullable ones too), text stays text.
    for col in written.columns:
        if col != "geometry" and written[col].dtype.kind in "iu":
            assert back[col].dtype.kind in "iu" or str(back[col].dtype) == "Int64", col


def test_geopackage_one_layer_per_level_reads_back_equal(district, tmp_path):
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["F1", "F2"],
            "name": ["测试社区1党群服务中心", "测试街道党群服务中心"],
            "kind": ["community_centre", "street_centre"],
            "area_m2": [300.0, None],
        },
        geometry=district["households"].geometry.iloc[[0, 7]].to_numpy(),
        crs=4326,
    )
    sites = gpd.GeoDataFrame(
        {"rank": [1], "households_gained": [120], "cumulative_share_covered": [0.93]},
        geometry=district["households"].geometry.iloc[[50]].to_numpy(),
        crs=4326,
    )
    micro = district["units"].rename(columns={"unit_id": "micro_id"}).copy()
    micro["micro_id"] = micro.groupby("grid_id").cumcount().add(1).map(lambda n: f"m-{n:02d}")
    hh = district["households"].copy()
    hh["population"] = pd.array([None] + hh["population"].tolist()[1:], dtype="Int64")
    layers = export.export_layers(
        _awkward_grids(district),
        communities=district["communities"],
        households=hh,
        facilities=facilities,
        sites=sites,
        micro_grids=micro,
    )
    assert list(layers) == [
        "streets",
        "communities",
        "grids",
        "micro_grids",
        "households",
        "facilities",
        "sites",
    ]
    path = export.write_geopackage(layers, tmp_path / "plan.gpkg")
    back = export.read_geopackage(path)
    assert list(back) == list(layers)
    for name in layers:
        _assert_frames_equal(back[name], layers[name])
    assert back["households"]["population"].isna().sum() == 1
    assert back["micro_grids"]["micro_code"].iloc[0] == "S01-C01-01-01"
    # Streets are dissolved from the communities and count their households.
    assert back["streets"]["households"].tolist() == [int(district["grids"]["households"].sum())]


def test_excel_report_is_chinese_and_reads_back(district, tmp_path):
    tables = export.report_tables(district["grids"], communities=district["communities"])
    path = export.write_excel(tables, tmp_path / "report.xlsx")
    back = pd.read_excel(path, sheet_name=None)
    assert list(back) == ["网格", "社区汇总", "街道汇总", "编码说明"]
    for sheet, table in tables.items():
        assert list(back[sheet].columns) == list(table.columns)
        expected = table.astype(object).where(table.notna(), None)
        got = back[sheet].astype(object).where(back[sheet].notna(), None)
        for col in table.columns:
            for a, b in zip(got[col], expected[col]):
                assert (a == b) or (isinstance(a, float) and np.isclose(a, b)), (sheet, col, a, b)
    # Every header of every sheet is Chinese.
    for sheet in back.values():
        assert all(any(ord(ch) > 0x2E80 for ch in str(col)) for col in sheet.columns), sheet.columns
    grids = back["网格"]
    assert {"网格编码", "网格编号", "户数", "状态"} <= set(grids.columns)
    assert set(grids["状态"]) == {"达标"}
    per_comm = back["社区汇总"].set_index("社区编号")
    assert per_comm.loc["C01", "户数"] == 2000 and per_comm.loc["C01", "网格数"] == 5


def test_outputs_are_byte_identical(district, tmp_path):
    def run(folder):
        return export.export(
            district["grids"],
            communities=district["communities"],
            households=district["households"],
            gpkg=folder / "a.gpkg",
            xlsx=folder / "a.xlsx",
            geojson=folder / "a.geojson",
            png=folder / "a.png",
        )

    first, second = run(tmp_path / "1"), run(tmp_path / "2")
    digest = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in first.items()}
    assert digest == {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in second.items()}
    assert set(digest) == {"gpkg", "xlsx", "geojson", "png"}


def test_bad_output_name_is_an_input_error(district, tmp_path):
    with pytest.raises(InputError):
        export.write_geopackage({"grids": district["grids"]}, tmp_path / "plan.shp")
    assert not (tmp_path / "plan.shp").exists()


# --- codes -----------------------------------------------------------------------------------


def test_grid_code_scheme(district):
    g = codes.grid_codes(district["grids"])
    assert g["grid_code"].tolist()[:2] == ["S01-C01-01", "S01-C01-02"]
    assert (g["grid_code"] == "S01-" + g["grid_id"]).all()
    no_street = lattice(street_id=None)["grids"]
    assert codes.grid_codes(no_street)["grid_code"].iloc[0] == f"{codes.UNKNOWN_STREET}-C01-01"
    with pytest.raises(InputError):
        codes.grid_number("C01")


def test_carry_codes_keeps_unchanged_grids_and_numbers_new_ones(district):
    units = district["units"].copy()
    hh = district["households"].copy()
    old = codes.grid_codes(district["grids"])
    # Replan community C01: grids 01 and 02 are redrawn as three grids (renumbered by the
    # replan so that ids no longer line up), the others unchanged but renumbered too.
    rename = {
        "C01-01": "C01-05",
        "C01-02": "C01-04",
        "C01-03": "C01-03",
        "C01-04": "C01-02",
        "C01-05": "C01-01",
    }
    units["grid_id"] = units["grid_id"].map(lambda g: rename.get(g, g))
    first_two = units["col"].isin([0, 1, 2, 3]) & (units["community_id"] == "C01")
    units.loc[first_two, "grid_id"] = units.loc[first_two, "col"].map(
        {0: "C01-06", 1: "C01-06", 2: "C01-07", 3: "C01-08"}
    )
    hh["grid_id"] = hh["unit"].map(units.set_index("unit_id")["grid_id"])
    new = grids_from_units(units, hh, district["communities"].to_crs(CRS_METRIC)).to_crs(4326)
    carried = codes.carry_codes(new, old, assignment=hh, previous_assignment=district["households"])
    by_id = carried.set_index("grid_id")
    # Unchanged grids keep their old code whatever the replan called them.
    assert by_id.loc["C01-03", "grid_code"] == "S01-C01-03"
    assert by_id.loc["C01-02", "grid_code"] == "S01-C01-04"
    assert by_id.loc["C01-01", "grid_code"] == "S01-C01-05"
    assert (by_id.loc[["C01-01", "C01-02", "C01-03"], "code_status"] == "kept").all()
    # Community C02 is untouched.
    c2 = carried[carried["community_id"] == "C02"]
    assert (c2["grid_code"] == "S01-" + c2["grid_id"]).all()
    # C01-06 is columns 0-1, exactly old 01 under a new id: it keeps 01's code.
    assert by_id.loc["C01-06", "grid_code"] == "S01-C01-01"
    assert by_id.loc["C01-06", "code_status"] == "kept"
    # 07 and 08 split old 02 in halves: one continues 02, the other gets a new number (06, the
    # first never used in C01).
    split = by_id.loc[["C01-07", "C01-08"], "grid_code"].tolist()
    assert sorted(split) == ["S01-C01-02", "S01-C01-06"]
    assert carried["grid_code"].is_unique
    # Without assignments, the same result from shared area.
    by_area = codes.carry_codes(new, old).set_index("grid_id")
    assert by_area["grid_code"].to_dict() == by_id["grid_code"].to_dict()


def test_codes_are_deterministic(district):
    a = codes.grid_codes(district["grids"])
    b = codes.grid_codes(lattice(communities=2)["grids"])
    assert a["grid_code"].tolist() == b["grid_code"].tolist()


@pytest.mark.slow
def test_replan_keeps_codes_of_unchanged_grids(sample_dir):
    """A new estate in one community: partition(replan=) and carry_codes keep other codes."""
    partition = pytest.importorskip("gridplan.grids.api")
    from gridplan.datasets.sample import load_sample

    s = load_sample(sample_dir)
    before = partition.partition(
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        seed=0,
    )
    old = codes.grid_codes(before.grids, s["communities"])
    # 400 new households in a new tower inside the first community.
    comm = s["communities"].iloc[[0]]
    spot = comm.to_crs(comm.estimate_utm_crs()).geometry.representative_point().to_crs(4326)
    extra = gpd.GeoDataFrame({"households": [400], "population": [1000]}, geometry=spot.to_numpy(), crs=4326)
    hh = pd.concat([s["households"], extra], ignore_index=True)
    after = partition.partition(
        hh,
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        seed=0,
        replan=before.assignment,
    )
    carried = codes.carry_codes(
        after.grids,
        old,
        assignment=after.assignment,
        previous_assignment=before.assignment,
        communities=s["communities"],
    )
    # Independently: grids whose household rows are exactly those of a previous grid.
    rows_before = before.assignment.groupby("grid_id").apply(lambda t: frozenset(t.index))
    rows_after = after.assignment.groupby("grid_id").apply(lambda t: frozenset(t.index))
    code_of_set = {rows: old.set_index("grid_id").loc[g, "grid_code"] for g, rows in rows_before.items()}
    unchanged = {g: code_of_set[rows] for g, rows in rows_after.items() if rows in code_of_set}
    assert unchanged, "the replan changed every grid: nothing to check"
    by_id = carried.set_index("grid_id")
    for g, code in unchanged.items():
        assert by_id.loc[g, "grid_code"] == code and by_id.loc[g, "code_status"] == "kept"
    # A community the replan left alone keeps every code; new codes never reuse an old one.
    n = len(before.assignment)
    moved = before.assignment["grid_id"].to_numpy() != after.assignment["grid_id"].to_numpy()[:n]
    comm_of = before.grids.set_index("grid_id")["community_id"]
    touched = set(before.assignment.loc[moved, "grid_id"].map(comm_of)) | {comm["community_id"].iloc[0]}
    calm = ~carried["community_id"].isin(touched)
    assert (carried.loc[calm, "code_status"] == "kept").all()
    new = carried["code_status"] == "new"
    assert not set(carried.loc[new, "grid_code"]) & set(old["grid_code"])
    assert carried["grid_code"].is_unique


def test_export_cli(district, tmp_path):
    from gridplan.cli import main

    grids, hh, comms = (
        tmp_path / "grids.geojson",
        tmp_path / "households.geojson",
        tmp_path / "communities.geojson",
    )
    district["grids"].to_file(grids)
    district["households"].drop(columns=["unit"]).to_file(hh)
    district["communities"].to_file(comms)
    out = tmp_path / "out"
    args = [
        "export",
        "--grids",
        str(grids),
        "--households",
        str(hh),
        "--communities",
        str(comms),
        "--gpkg",
        str(out / "plan.gpkg"),
        "--xlsx",
        str(out / "report.xlsx"),
        "--geojson",
        str(out / "grids.geojson"),
        "--png",
        str(out / "grids.png"),
        "--quiet",
    ]
    assert main(args) == 0
    layers = export.read_geopackage(out / "plan.gpkg")
    assert list(layers) == ["streets", "communities", "grids", "households"]
    assert layers["grids"]["grid_code"].tolist()[0] == "S01-C01-01"
    assert rfc7946_problems(json.loads((out / "grids.geojson").read_text(encoding="utf-8"))) == []
    # Exported grids fed back as --previous keep every code.
    again = out / "again.geojson"
    assert (
        main(
            [
                "export",
                "--grids",
                str(grids),
                "--previous",
                str(out / "grids.geojson"),
                "--geojson",
                str(again),
                "--quiet",
            ]
        )
        == 0
    )
    back = gpd.read_file(again)
    assert (back["code_status"] == "kept").all()
    assert back["grid_code"].tolist() == layers["grids"]["grid_code"].tolist()
    # Bad input: exit code 2, nothing written.
    assert (
        main(
            [
                "export",
                "--grids",
                str(tmp_path / "nope.geojson"),
                "--gpkg",
                str(tmp_path / "x.gpkg"),
                "--quiet",
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.gpkg").exists()
    assert main(["export", "--grids", str(grids), "--quiet"]) == 2
