"""The bad-input corpus (tests/data/bad/, written by make_bad.py): every file's documented outcome.

Each case runs ``gridplan validate`` through gridplan.cli.main into a temporary folder and checks
the exit code, the problem code, the named file/column/rows, and that nothing is written on error.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gridplan import io
from gridplan.cli import main
from gridplan.errors import InputError

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
COMM = "communities.geojson"
SHP_MAP = ["--map", "community_id=SQBM,name=SQMC"]

# (households file, communities file, extra args, exit code, problem code, column, rows); rows as
# messages name them: the CSV line (header = line 1), the GeoJSON feature number from 1
CASES = [
    # encodings and spreadsheets
    ("hh_gbk.csv", COMM, [], 0, "encoding_gbk", None, None),
    ("hh_utf8_bom.csv", COMM, [], 0, "column_alias", "households", None),
    ("hh_title_row.xlsx", COMM, [], 0, "header_row", None, None),
    ("hh_no_lonlat.xlsx", COMM, [], 2, "unreadable", "lon", None),
    # values
    ("hh_units.csv", COMM, [], 0, "number_with_unit", "households", list(range(2, 14))),
    ("hh_nonpositive.csv", COMM, [], 2, "non_positive", "households", [2, 5]),
    ("hh_non_numeric.csv", COMM, [], 2, "non_numeric", "households", [6]),
    ("hh_fraction.csv", COMM, [], 2, "not_whole", "households", [4]),
    ("hh_blank_households.csv", COMM, [], 2, "missing_value", "households", [8]),
    ("hh_no_households_col.csv", COMM, [], 0, "households_missing", "households", None),
    ("hh_missing_lon.csv", COMM, [], 2, "unreadable", "lon", None),
    ("hh_header_only.csv", COMM, [], 2, "empty_file", None, None),
    ("hh_zero_bytes.geojson", COMM, [], 2, "unreadable", None, None),
    # coordinates
    ("hh_swapped.csv", COMM, [], 0, "lonlat_swapped", "geometry", None),
    ("hh_gcj02.csv", COMM, [], 0, "looks_gcj02", "geometry", None),
    ("hh_nan_coords.csv", COMM, [], 2, "empty_geometry", "geometry", [4, 7]),
    ("hh_null_geometry.geojson", COMM, [], 2, "empty_geometry", "geometry", [2]),
    ("hh_metres.geojson", COMM, [], 2, "metres_as_degrees", None, None),
    ("hh_far_outside.csv", COMM, [], 0, "outside_communities", "geometry", [3, 9]),
    ("hh_lines.geojson", COMM, [], 2, "wrong_geometry_type", "geometry", [1, 2]),
    ("hh_polygons.geojson", COMM, [], 2, "wrong_geometry_type", "geometry", [1]),
    # not what they claim
    ("garbage.geojson", COMM, [], 2, "unreadable", None, None),
    ("garbage.zip", COMM, [], 2, "unreadable", None, None),
    ("hh_csv_named.geojson", COMM, [], 2, "unreadable", None, None),
    ("hh_unknown_ext.dat", COMM, [], 2, "unreadable", None, None),
    # communities
    ("hh_good.csv", "comm_bowtie.geojson", [], 0, "invalid_geometry", "geometry", [1]),
    ("hh_good.csv", "comm_multipolygon.geojson", [], 0, None, None, None),
    ("hh_in_hole.csv", "comm_holes.geojson", [], 0, "outside_communities", "geometry", [2]),
    ("hh_in_overlap.csv", "comm_overlap.geojson", [], 0, "communities_overlap", "geometry", [1, 2]),
    ("hh_in_gap.csv", "comm_gap.geojson", [], 0, "outside_communities", "geometry", [2]),
    ("hh_good.csv", "comm_dup_ids.geojson", [], 2, "duplicate_id", "community_id", [1, 2]),
    ("hh_good.csv", "comm_no_id.geojson", [], 2, "missing_column", "community_id", None),
    ("hh_good.csv", "comm_no_households.geojson", [], 0, "community_without_households", "community_id", [3]),
    ("hh_good.csv", "comm_noprj.zip", SHP_MAP, 0, "crs_assumed_wgs84", None, None),
    ("hh_good.csv", "comm_noprj_metres.zip", SHP_MAP, 2, "unknown_crs", None, None),
    ("hh_good.csv", "comm_gbk_cpg.zip", SHP_MAP, 0, None, None, None),
    ("hh_good.csv", "comm_gbk_nocpg.zip", SHP_MAP, 0, "dbf_encoding_guessed", None, None),
    ("hh_good.csv", "comm_cgcs2000_gk.zip", SHP_MAP, 0, None, None, None),
    ("hh_good.csv", "comm_unknown_crs.geojson", [], 0, None, None, None),
]


@pytest.mark.parametrize("hh,comm,extra,rc,code,column,rows", CASES, ids=[f"{c[0]}+{c[1]}" for c in CASES])
def test_corpus_case(tmp_path, capsys, hh, comm, extra, rc, code, column, rows):
    out = tmp_path / "out"
    got = main(
        [
            "validate",
            "--households",
            str(BAD / hh),
            "--communities",
            str(BAD / comm),
            "--out",
            str(out),
            "--quiet",
            *extra,
        ]
    )
    text = capsys.readouterr()
    report = text.out + text.err
    assert got == rc, report
    if code is not None:
        line = next((ln for ln in report.splitlines() if f"] {code}:" in ln), None)
        assert line is not None, report
        name = (
            hh
            if code
            not in (
                "invalid_geometry",
                "communities_overlap",
                "duplicate_id",
                "missing_column",
                "community_without_households",
                "crs_assumed_wgs84",
                "unknown_crs",
                "dbf_encoding_guessed",
            )
            else comm
        )
        assert name in line, line
        if column:
            assert f"column '{column}'" in line, line
        if rows:
            assert "rows " + ", ".join(str(r) for r in rows[:10]) in line, line
        assert "Fix:" in line or code in ("header_row",), line
    else:
        assert "0 error(s), 0 warning(s), 0 repair(s)" in report, report
    if rc == 2:
        # Fatal: nothing written, not even the folder's contents.
        assert not out.exists() or not any(out.iterdir())
    else:
        assert (out / "problems.csv").exists()
        rejects = out / "rejects.csv"
        if code == "outside_communities":
            table = pd.read_csv(rejects, encoding="utf-8-sig")
            assert table["row"].tolist() == rows
        else:
            assert rejects.exists() == ("] outside_communities:" in report), report


def test_gbk_and_bom_read_the_same_chinese_values():
    with pytest.warns(UserWarning) as rec:
        gbk = io.read_households(BAD / "hh_gbk.csv")
    assert any("read as GBK" in str(w.message) for w in rec)
    with pytest.warns(UserWarning, match="'户数' used as 'households'"):
        bom = io.read_households(BAD / "hh_utf8_bom.csv")
    good = io.read_households(BAD / "hh_good.csv")
    assert gbk["地址"].tolist() == ["中山路22号"] * 12
    pd.testing.assert_frame_equal(gbk, bom)
    assert gbk["households"].tolist() == good["households"].tolist()
    assert gbk.geometry.equals(good.geometry)


def test_excel_title_row_units_and_swap_give_the_good_values():
    good = io.read_households(BAD / "hh_good.csv")
    for name in ("hh_title_row.xlsx", "hh_units.csv", "hh_swapped.csv"):
        with pytest.warns(UserWarning):
            got = io.read_households(BAD / name)
        assert got["households"].tolist() == good["households"].tolist(), name
        assert got["households"].dtype == "int64"
        assert got.geometry.geom_equals_exact(good.geometry, 1e-9).all(), name


def test_missing_households_column_counts_one_each():
    with pytest.warns(UserWarning, match="one household"):
        got = io.read_households(BAD / "hh_no_households_col.csv")
    assert got["households"].tolist() == [1] * 12


def test_reader_errors_name_file_column_rows_and_fix():
    with pytest.raises(InputError) as exc:
        io.read_households(BAD / "hh_nonpositive.csv")
    e = exc.value
    # rows: positions in the data read; row_numbers: the CSV's lines, as messages show them
    assert (e.file, e.column, e.rows) == ("hh_nonpositive.csv", "households", [0, 3])
    assert e.row_numbers == [2, 5] and "(rows 2, 5)" in str(e)
    assert e.fix and e.message_zh
    with pytest.raises(InputError) as exc:
        io.read_facilities(BAD / "fac_unknown_kind.geojson")
    assert (exc.value.column, exc.value.rows, exc.value.row_numbers) == ("kind", [1], [2])
    assert "clinic" in str(exc.value) and "street_centre" in str(exc.value)


def test_facility_cases_via_cli(tmp_path, capsys):
    out = tmp_path / "o"
    for name, code, rows in (
        ("fac_unknown_kind.geojson", "unknown_kind", "rows 2"),
        ("fac_dup_ids.geojson", "duplicate_id", "rows 2, 3"),
    ):
        rc = main(
            [
                "validate",
                "--facilities",
                str(BAD / name),
                "--communities",
                str(BAD / COMM),
                "--out",
                str(out),
                "-q",
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2 and code in err and rows in err and name in err
        assert not out.exists()


def test_gbk_shapefile_names_decoded():
    for name in ("comm_gbk_cpg.zip", "comm_gbk_nocpg.zip"):
        with pytest.warns() if "nocpg" in name else _nullcontext():
            got = io.read_communities(BAD / name, columns={"community_id": "SQBM", "name": "SQMC"})
        assert got["name"].tolist() == ["解放路社区", "墨池巷社区"], name


def test_overlap_rule_and_convert_refuses_bad_input(tmp_path):
    from gridplan.io.validate import validate_inputs

    r = validate_inputs(households=BAD / "hh_in_overlap.csv", communities=BAD / "comm_overlap.geojson")
    # The first two points lie in the overlap: nearest representative point wins.
    assert r.frames["households"]["community_id"].tolist() == ["C1", "C2", "C1", "C2"]
    out = tmp_path / "x"
    assert main(["convert", str(BAD / "hh_nonpositive.csv"), str(out / "h.geojson"), "-q"]) == 2
    assert not out.exists()
    assert main(["convert", str(BAD / "hh_good.csv"), str(out / "h.txt"), "-q"]) == 2
    assert not any(out.iterdir()) if out.exists() else True


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_corpus_has_at_least_30_files():
    files = [p for p in BAD.iterdir() if p.name != "make_bad.py"]
    assert len(files) >= 30
