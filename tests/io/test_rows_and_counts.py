"""Planners' real files, never silently wrong: empty rows, row numbers as the user's program shows
them, duplicated ids named with their rows, implausible counts, facilities drawn as polygons.

Row numbers in messages are the CSV line / spreadsheet row (the header and title rows count) and
the feature number from 1 in GIS files; ``InputError.rows`` stay 0-based positions for code.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from gridplan import io
from gridplan.cli import main
from gridplan.errors import GridplanWarning, InputError
from gridplan.io.files import read_checked
from gridplan.io.validate import validate_inputs

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
GOOD = pd.read_csv(BAD / "hh_good.csv")


def _problems(path, kind="households", **kw):
    gdf, problems = read_checked(path, kind, **kw)
    return gdf, {p.code: p for p in problems}


# --- 1. empty rows ------------------------------------------------------------------------------


def test_csv_trailing_commas_and_blank_lines_are_skipped_with_a_note(tmp_path):
    text = (BAD / "hh_good.csv").read_text("utf-8").splitlines()
    path = tmp_path / "hh.csv"
    # a blank line inside the data (line 5) and three ",,," lines Excel writes below it
    lines = text[:4] + [""] + text[4:] + [",,,"] * 3
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gdf, probs = _problems(path)
    assert gdf["households"].tolist() == GOOD["households"].tolist()
    note = probs["empty_rows"]
    assert note.severity == "repaired" and "skipped 4 empty row(s)" in note.message
    assert note.row_numbers == [5, 15, 16, 17] and "(rows 5, 15, 16, 17)" in note.text()
    assert "empty_geometry" not in probs
    # the rows after the blank line keep their own line numbers
    bad = path.read_text("utf-8").replace("111.281738,30.706837,30", "111.281738,30.706837,-3")
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        io.read_households(path)
    assert exc.value.rows == [2] and "(rows 4)" in str(exc.value)


def test_empty_rows_between_blocks_of_a_sheet_are_skipped(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["lon", "lat", "households"])
    for i, r in GOOD.iterrows():
        if i == 6:
            ws.append([])
            ws.append([None, None, None])
        ws.append([r["lon"], r["lat"], int(r["households"])])
    book.save(tmp_path / "hh.xlsx")
    gdf, probs = _problems(tmp_path / "hh.xlsx")
    assert gdf["households"].tolist() == GOOD["households"].tolist()
    assert probs["empty_rows"].row_numbers == [8, 9]


def test_a_row_with_only_a_count_is_not_empty(tmp_path):
    path = tmp_path / "hh.csv"
    path.write_text("lon,lat,households\n111.29,30.70,5\n,,7\n", encoding="utf-8")
    _, probs = _problems(path)
    assert "empty_rows" not in probs
    assert probs["empty_geometry"].row_numbers == [3]


# --- 3. row numbers as the user's program shows them ---------------------------------------------


def test_excel_row_229_is_reported_as_229(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["某某街道住户统计表"])
    ws.append(["制表单位：某某社区", None, None])
    ws.append([])
    ws.append(["经度", "纬度", "户数"])  # header on row 4: data from row 5
    for i in range(240):
        ws.append([111.28 + i * 1e-5, 30.70, "许多" if i + 5 == 229 else 10])
    book.save(tmp_path / "住户.xlsx")
    with pytest.raises(InputError) as exc:
        io.read_households(tmp_path / "住户.xlsx")
    e = exc.value
    assert e.rows == [224] and e.row_numbers == [229]
    assert "(rows 229)" in str(e) and "(行 229)" in e.localized("zh")


def test_csv_title_lines_count_in_row_numbers(tmp_path):
    path = tmp_path / "hh.csv"
    body = (BAD / "hh_nonpositive.csv").read_text("utf-8")
    path.write_text("住户统计表\n单位：户\n" + body, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        io.read_households(path)
    assert exc.value.rows == [0, 3] and "(rows 4, 7)" in str(exc.value)


def test_coordinates_that_are_not_numbers_name_the_line(tmp_path):
    path = tmp_path / "hh.csv"
    path.write_text("lon,lat,households\n111.29,30.70,5\n111.29,北纬30度,7\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        io.read_households(path)
    assert exc.value.column == "lat" and "(rows 3)" in str(exc.value)


def test_gis_features_count_from_one_and_frames_from_zero(tmp_path):
    hh = gpd.GeoDataFrame(
        {"households": [5, 0, 7]}, geometry=gpd.points_from_xy([111.29] * 3, [30.70] * 3), crs=4326
    )
    io.write(hh, tmp_path / "hh.geojson")
    with pytest.raises(InputError, match=r"\(rows 2\)"):
        io.read_households(tmp_path / "hh.geojson")
    # a GeoDataFrame built in Python: its 0-based position, as in hh.iloc
    result = validate_inputs(households=hh)
    assert result.errors[0].shown_rows == [1] and "(rows 1)" in result.errors[0].text()


def test_validate_names_file_rows_in_problems_and_rejects(tmp_path, capsys):
    rc = main(
        [
            "validate",
            "--households",
            str(BAD / "hh_far_outside.csv"),
            "--communities",
            str(BAD / "communities.geojson"),
            "--out",
            str(tmp_path / "o"),
            "-q",
        ]
    )
    assert rc == 0
    table = pd.read_csv(tmp_path / "o" / "problems.csv", encoding="utf-8-sig")
    outside = table[table["code"] == "outside_communities"].iloc[0]
    assert outside["rows"] == "3, 9" and outside["n_rows"] == 2
    rejects = pd.read_csv(tmp_path / "o" / "rejects.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == [3, 9]


# --- 2. duplicated ids ---------------------------------------------------------------------------


def _communities_with_duplicates(tmp_path) -> Path:
    comm = io.read_communities(BAD / "communities.geojson")
    comm = pd.concat([comm] * 6, ignore_index=True)
    comm["community_id"] = [f"4201061{i:02d}" for i in range(len(comm))]
    comm.loc[[3, 9], "community_id"] = "420106001"
    comm.loc[[4, 5], "community_id"] = "420106002"
    return io.write(comm, tmp_path / "社区.geojson")


def test_duplicated_ids_name_each_value_with_its_rows_and_the_file(tmp_path, capsys):
    path = _communities_with_duplicates(tmp_path)
    out = tmp_path / "out"
    rc = main(
        [
            "partition",
            "--households",
            str(BAD / "hh_good.csv"),
            "--communities",
            str(path),
            "--out",
            str(out),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert (
        "社区.geojson: column 'community_id': community_id values are not unique: "
        "420106001 (rows 4, 10), 420106002 (rows 5, 6) Fix: give every row its own "
        "community_id"
    ) in err, err
    assert "420106001（第 4、10 行）" in err and "Traceback" not in err


def test_validate_reports_duplicates_once(tmp_path):
    result = validate_inputs(communities=_communities_with_duplicates(tmp_path))
    assert [p.code for p in result.errors] == ["duplicate_id"]
    assert result.frames["communities"] is None


# --- 4. implausible counts -----------------------------------------------------------------------


def test_more_than_5000_households_at_one_point_is_a_warning_naming_rows(tmp_path):
    table = GOOD.copy()
    table.loc[[2, 7], "households"] = [12_000, 5_001]
    table.to_csv(tmp_path / "hh.csv", index=False)
    with pytest.warns(GridplanWarning) as rec:
        gdf = io.read_households(tmp_path / "hh.csv")
    text = next(str(w.message) for w in rec if "5,000" in str(w.message))
    assert "2 point(s) hold more than 5,000 households (up to 12,000)" in text
    assert "(rows 4, 9)" in text and "--map households=" in text
    assert int(gdf["households"].sum()) == int(table["households"].sum())  # kept as given
    table.loc[[2, 7], "households"] = 5_000
    table.to_csv(tmp_path / "ok.csv", index=False)
    _, probs = _problems(tmp_path / "ok.csv")
    assert "implausible_count" not in probs


# --- 5. facilities drawn as polygons -------------------------------------------------------------


def test_polygon_facilities_stand_at_a_point_inside(tmp_path):
    ell = shapely.Polygon(
        [
            (111.285, 30.705),
            (111.287, 30.705),
            (111.287, 30.7052),
            (111.2852, 30.7052),
            (111.2852, 30.707),
            (111.285, 30.707),
        ]
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2"], "kind": ["community_centre"] * 2},
        geometry=[ell, shapely.Point(111.295, 30.705)],
        crs=4326,
    )
    io.write(fac, tmp_path / "fac.geojson")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = io.read_facilities(tmp_path / "fac.geojson")
    text = " ".join(str(w.message) for w in rec)
    assert "1 facilit(ies) are polygons" in text and "(rows 1)" in text
    assert (got.geom_type == "Point").all()
    assert ell.contains(got.geometry.iloc[0])  # inside the L, not its centroid outside
    assert got.geometry.iloc[1].equals(shapely.Point(111.295, 30.705))


def test_polygon_facilities_cover_in_coverage(tmp_path, capsys):
    fac = io.read_facilities(BAD / "fac_good.geojson")
    fac["geometry"] = fac.to_crs(32649).buffer(15).to_crs(4326).values
    io.write(fac, tmp_path / "fac.geojson")
    args = [
        "coverage",
        "--households",
        str(BAD / "hh_good.csv"),
        "--network",
        str(BAD / "net_good.geojson"),
        "--no-isochrones",
        "-q",
    ]
    assert main(args + ["--facilities", str(BAD / "fac_good.geojson"), "--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--facilities", str(tmp_path / "fac.geojson"), "--out", str(tmp_path / "b")]) == 0
    a = gpd.read_file(tmp_path / "a" / "households.geojson")
    b = gpd.read_file(tmp_path / "b" / "households.geojson")
    assert np.allclose(a["walk_min"], b["walk_min"], atol=0.05, equal_nan=True)
    assert a["covered"].tolist() == b["covered"].tolist()
