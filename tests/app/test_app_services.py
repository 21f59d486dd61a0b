"""The app's work without Streamlit: the upload step's read -> check -> partition
(gridplan.app.services) and the library's fixes worded for the app (gridplan.app.hints)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridplan.app import hints, services
from gridplan.app.state import KINDS
from gridplan.errors import InputError
from gridplan.i18n import LABELS
from gridplan.io.schema import mappable_fields
from gridplan.network import WalkNetwork
from gridplan.workflows import checked_layers, plan_grids, read_contract_layers

SAMPLE = {
    "households": "households/households.geojson",
    "communities": "boundaries/communities.geojson",
    "buildings": "buildings/buildings.geojson",
    "estates": "estates/estates.geojson",
    "barriers": "barriers/barriers.geojson",
}


def _errors(problems):
    return [p for p in problems if p.severity == "error"]


def test_load_uploads_plans_as_the_command_line_does(sample_dir):
    paths = {k: sample_dir / rel for k, rel in SAMPLE.items()}
    out = services.load_uploads(paths, network=sample_dir / "network" / "walk.geojson")
    assert out.usable and out.refusal is None and not _errors(out.problems)
    assert isinstance(out.network, WalkNetwork)
    # the command line's sequence (gridplan.workflows) on the same files, the network's lines
    # as the streets (``gridplan partition --network``): the same grids
    layers, _ = checked_layers(read_contract_layers(paths))
    streets = gpd.read_file(sample_dir / "network" / "walk.geojson")[["geometry"]]
    expect = plan_grids(layers, n_jobs=1, streets=streets)
    got = out.result.grids
    assert got["grid_id"].tolist() == expect.grids["grid_id"].tolist()
    assert got["households"].tolist() == expect.grids["households"].tolist()
    assert got.geometry.geom_equals_exact(expect.grids.geometry, 1e-9).all()
    # the layers handed to the plan are the checked ones (households joined to communities)
    assert out.layers["households"]["community_id"].notna().all()


def test_load_uploads_takes_bytes_a_column_mapping_and_a_band(sample_dir):
    hh = gpd.read_file(sample_dir / SAMPLE["households"])
    table = hh.assign(经度=hh.geometry.x, 纬度=hh.geometry.y, 户数合计=hh["households"])
    csv = table[["经度", "纬度", "户数合计"]].to_csv(index=False).encode("gbk")
    comm = (sample_dir / SAMPLE["communities"]).read_bytes()
    files = {"households": ("住户.csv", csv), "communities": ("社区.geojson", comm)}
    out = services.load_uploads(
        files,
        columns={"households": {"households": "户数合计", "lon": "经度", "lat": "纬度"}},
        min_households=250,
        max_households=450,
    )
    assert out.usable, [p.message for p in _errors(out.problems)]
    assert out.layers["households"]["households"].sum() == hh["households"].sum()
    g = out.result.grids
    assert ((g["households"] >= 250) & (g["households"] <= 450)).mean() > 0.8
    # the check names the uploaded files, not the layer keys
    assert not [p for p in out.problems if p.file in KINDS]


def test_a_file_with_an_error_stops_before_the_check(sample_dir):
    comm = (sample_dir / SAMPLE["communities"]).read_bytes()
    out = services.load_uploads(
        {"households": ("hh.geojson", b"{not json"), "communities": ("c.geojson", comm)}
    )
    assert not out.usable and out.result is None
    assert _errors(out.problems)[0].file and out.layers["households"] is None


def test_a_check_error_stops_before_the_partition(sample_dir, monkeypatch):
    hh = gpd.read_file(sample_dir / SAMPLE["households"]).head(30)
    far = gpd.GeoDataFrame(
        {"community_id": ["X1"], "name": ["远方社区"]},
        geometry=[shapely.box(120.0, 40.0, 120.01, 40.01)],
        crs=4326,
    )
    called = []
    monkeypatch.setattr(services, "plan_grids", lambda *a, **k: called.append(1))
    out = services.load_uploads(
        {
            "households": ("hh.geojson", hh.to_json().encode()),
            "communities": ("c.geojson", far.to_json().encode()),
        }
    )
    assert not out.usable and _errors(out.problems) and called == []


def test_a_refused_partition_is_reported_not_raised(sample_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise InputError("no grids", message_zh="无法划分")

    monkeypatch.setattr(services, "plan_grids", refuse)
    paths = {k: sample_dir / SAMPLE[k] for k in ("households", "communities")}
    out = services.load_uploads(paths)
    assert not out.usable and out.result is None
    assert out.refusal.localized("zh").startswith("无法划分")


def test_an_unusable_upload_raises():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "no data here")
    with pytest.raises(InputError, match="no data file"):
        services.load_uploads({"households": ("hh.zip", buf.getvalue())})
    with pytest.raises(InputError, match="unsupported"):
        services.load_uploads({"households": ("hh.exe", b"MZ")})


def test_upload_columns():
    assert services.upload_columns("a.csv", "经度,纬度,户数\n114.3,30.5,3\n".encode()) == [
        "经度",
        "纬度",
        "户数",
    ]
    assert services.upload_columns("a.exe", b"MZ") == []


def test_every_mappable_field_has_words_in_both_languages():
    for kind in KINDS:
        for field in mappable_fields(kind):
            assert f"col_{field}" in LABELS or f"field_{field}" in LABELS, (kind, field)
            for lang in ("zh", "en"):
                assert hints.field_text(field, lang) != field or lang == "en", (field, lang)


@pytest.mark.parametrize(
    ("text", "lang", "expect"),
    [
        (
            "add it, or map it with --map kind=YOUR_COLUMN",
            "en",
            'add it, or choose the column for "Kind" in the column mapping',
        ),
        (
            "rename the column to 'households' or pass --map households=HH",
            "en",
            "rename the column to 'households' or choose column HH for \"Households\" in the column mapping",
        ),
        (
            "pass --map households=户数合计 (columns={'households': '户数合计'})",
            "en",
            'choose column 户数合计 for "Households" in the column mapping',
        ),
        ("check the spelling of --map / columns=", "en", "check the spelling of the column mapping"),
        ("check the --map lon=/lat= names", "en", 'check the column mapping ("Longitude", "Latitude") names'),
        (
            "use `gridplan households --from-osm FILE` to estimate households from buildings",
            "en",
            "estimate households from the buildings first",
        ),
        ("请检查 --map 中的列名（区分大小写）", "zh", "请检查“列对应”中的列名（区分大小写）"),
        ("请用 --map households=户数合计 指定户数列", "zh", "请在“列对应”中为“户数”选择列 户数合计"),
        ("或用 --map lon=列名,lat=列名 指定", "zh", "或在“列对应”中为“经度”、“纬度”选择列"),
        ("请使用 `gridplan households --from-osm 文件`", "zh", "请先由建筑轮廓估算户点"),
        ("户数必须为正整数", "zh", "户数必须为正整数"),
        (None, "zh", ""),
    ],
)
def test_fixes_are_worded_for_the_app(text, lang, expect):
    assert hints.app_wording(text, lang) == expect


def test_no_command_line_hint_survives_in_the_readers_fixes():
    # every string literal of the readers and checks that names --map, as the library has it
    import gridplan.io

    sources = [p.read_text("utf-8") for p in Path(gridplan.io.__file__).parent.glob("*.py")]
    hints_found = set()
    for src in sources:
        hints_found |= set(re.findall(r"[\"'](?:[^\"'\n]*?)--map[^\"'\n]*[\"']", src))
    assert hints_found
    for raw in hints_found:
        text = raw.strip("\"'f").replace("{col}", "households").replace("{fld}", "households")
        text = re.sub(r"\{[^}]*\}", "X", text)
        for lang in ("zh", "en"):
            assert "--map" not in hints.app_wording(text, lang), (raw, lang)
