"""The app's answers are right: per-file datums, column headers of large UTF-8 files, the
standards sheet counts grids, siting says why it stops early (gridplan.app.services, without
Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridplan.app import services
from gridplan.app.labels import APP_LABELS
from gridplan.io.projection import local_crs

CJK_ROW = "紫阳花园小区{i}号楼东单元"


def _files(sample_dir):
    return {
        "households": sample_dir / "households" / "households.geojson",
        "communities": sample_dir / "boundaries" / "communities.geojson",
        "facilities": sample_dir / "facilities" / "facilities.geojson",
    }


def _shift_m(a, b) -> np.ndarray:
    crs = local_crs(a)
    return a.to_crs(crs).geometry.distance(b.to_crs(crs).geometry, align=False).to_numpy()


def test_the_gcj02_option_of_one_file_moves_only_that_file(sample_dir):
    files = _files(sample_dir)
    plain = services.load_uploads(files)
    mixed = services.load_uploads(files, coords={"facilities": "gcj02"})
    assert plain.usable and mixed.usable
    # the WGS-84 files stay where they are, to the millimetre
    for kind in ("households", "communities"):
        assert _shift_m(plain.layers[kind], mixed.layers[kind]).max() < 1e-3, kind
    # the GCJ-02 file is moved back by the datum's offset (hundreds of metres in Wuhan)
    moved = _shift_m(plain.layers["facilities"], mixed.layers["facilities"])
    assert 200 < moved.min() and moved.max() < 1000, moved
    # one datum for every file still works as before
    every = services.load_uploads(files, coords="gcj02")
    assert _shift_m(plain.layers["households"], every.layers["households"]).min() > 200


def test_column_headers_of_a_large_utf8_csv_whose_64kb_cut_splits_a_character():
    rows = ["户编号,经度,纬度,户数,楼栋名称"] + [
        f"H{i:06d},114.{i % 1000:03d}1,30.{i % 997:03d}2,1,{CJK_ROW.format(i=i % 50)}" for i in range(25000)
    ]
    for pad in range(3):  # shift the rows until byte 65,536 falls inside a 3-byte character
        data = "\n".join([rows[0], rows[1] + "x" * pad, *rows[2:]]).encode("utf-8")
        if (data[1 << 16] & 0xC0) == 0x80:  # a continuation byte right after the cut
            break
    with pytest.raises(UnicodeDecodeError):  # the first 64 KB end inside a character
        data[: 1 << 16].decode("utf-8")
    assert services.upload_columns("住户.csv", data) == ["户编号", "经度", "纬度", "户数", "楼栋名称"]


@pytest.fixture(scope="module")
def sample_plan():
    from gridplan.access.coverage import coverage
    from gridplan.datasets.sample import load_sample
    from gridplan.network import load_network
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    plan = Plan.from_partition(
        plan_grids(s, n_jobs=1),
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        facilities=s["facilities"],
    )
    net = load_network(s["network"])
    # as the app's cached sample coverage: computed on the plan's household rows (a tower split
    # by entrance is a row per part), without the grids
    rows = plan.assignment.drop(columns=["unit_id", "grid_id"])
    plan.attach_coverage(coverage(rows, s["facilities"], net, communities=s["communities"]))
    return plan, s, net


def test_the_excel_standards_sheet_counts_the_plans_grids(sample_plan, tmp_path):
    from gridplan.report.export import export

    plan, _, _ = sample_plan
    per = plan.grids.groupby("community_name").size()
    assert per["紫阳社区"] == 8  # the command line's report for the sample
    path = export(plan.grids, xlsx=tmp_path / "r.xlsx", coverage=services.export_coverage(plan))["xlsx"]
    sheet = pd.read_excel(path, sheet_name="设施标准")
    name_col = next(c for c in sheet.columns if sheet[c].astype(str).eq("紫阳社区").any())
    row = sheet[sheet[name_col] == "紫阳社区"].iloc[0]
    assert row["网格数"] == 8 and row["需专职网格员数"] == 8
    assert int(sheet["网格数"].sum()) == len(plan.grids)
    # the cached coverage alone has no grids: the recount is what fixes the sheet
    assert int(plan.coverage.standards["grids"].sum()) == 0


def test_siting_says_why_it_gives_fewer_sites(sample_plan):
    from gridplan.siting.api import site

    plan, s, net = sample_plan
    res = site(plan.assignment.drop(columns=["unit_id"]), s["facilities"], net, add=3, grids=plan.grids)
    assert len(res.sites) == 2
    zh = services.siting_note(res.report, 3, "zh")
    en = services.siting_note(res.report, 3, "en")
    assert "只推荐了 2 处（要求 3 处）" in zh and "100%" in zh and "全部覆盖" in zh
    assert "Only 2 of the 3 sites" in en and "100%" in en
    assert services.siting_note(res.report, 2, "zh") is None
    short = dict(res.report, households_covered_after=res.report["households_eligible"] - 5)
    assert "覆盖不到" in services.siting_note(short, 3, "zh")


def test_app_labels_in_both_languages():
    for key, entry in APP_LABELS.items():
        assert entry["zh"] and entry["en"], key


def test_fixes_of_the_check_are_column_choices_in_words_not_command_lines(sample_dir):
    import geopandas as gpd

    from gridplan.app import hints, uploads

    hh = gpd.read_file(sample_dir / "households" / "households.geojson")
    table = hh.assign(经度=hh.geometry.x, 纬度=hh.geometry.y, 住户规模=hh["households"])
    csv = table[["经度", "纬度", "住户规模"]].to_csv(index=False).encode()
    fac = gpd.read_file(sample_dir / "facilities" / "facilities.geojson")
    found = []
    found += uploads.read_upload("households", "住户.csv", csv)[1]
    found += uploads.read_upload(
        "households", "住户.csv", table[["经度", "纬度"]].to_csv(index=False).encode()
    )[1]
    found += uploads.read_upload("facilities", "设施.geojson", fac.drop(columns=["kind"]).to_json().encode())[
        1
    ]
    dup = fac.assign(facility_id="F1").to_json().encode()
    found += uploads.read_upload("facilities", "设施.geojson", dup)[1]
    found += uploads.read_upload("households", "住户.csv", csv, columns={"households": "户数"})[1]
    codes = {p.code for p in found}
    assert {"households_unmapped", "households_missing", "kind_missing", "duplicate_id"} <= codes, codes
    mapped = [p for p in found if "--map" in (p.fix or "") + (p.fix_zh or "")]
    assert mapped and {p.code for p in mapped} <= set(hints.FIXES), {p.code for p in mapped} - set(
        hints.FIXES
    )
    for p in found:
        for lang, kind in (("zh", "住户"), ("en", "Households")):
            fix = hints.fix_text(p, lang, kind)
            assert "--map" not in fix and "columns=" not in fix and "gridplan " not in fix, (p.code, fix)
            if p.code in hints.FIXES:
                assert kind in fix, (p.code, fix)
    unmapped = next(p for p in found if p.code == "households_unmapped")
    assert hints.fix_text(unmapped, "zh", "住户") == "请在“住户”的列对应中为“户数”选择列 住户规模"
