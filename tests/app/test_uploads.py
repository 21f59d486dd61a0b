"""Uploads: bad files give a clear message (English and Chinese), never a traceback or a leak."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridplan.app import uploads
from gridplan.errors import InputError


def _households_geojson() -> bytes:
    gdf = gpd.GeoDataFrame(
        {"households": [12, 30], "building_id": ["B1", "B2"]},
        geometry=gpd.points_from_xy([114.30, 114.31], [30.55, 30.56]),
        crs=4326,
    )
    return gdf.to_json().encode()


def _zip(members: dict[str, bytes], *, mode=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


@pytest.fixture()
def no_leftovers(tmp_path, monkeypatch):
    """Staging folders of this test only, in a temporary folder of its own: the shared one also
    holds those of the tests running beside it (the other worker's uploads)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield
    assert list(tmp_path.glob("gridplan-upload-*")) == [], "staging folders left behind"


def test_good_geojson_is_read(no_leftovers):
    gdf, problems = uploads.read_upload("households", "户点.geojson", _households_geojson())
    assert not [p for p in problems if p.severity == "error"]
    assert list(gdf["households"]) == [12, 30] and gdf.crs.to_epsg() == 4326


def test_zipped_shapefile_is_read(tmp_path, no_leftovers):
    comm = gpd.GeoDataFrame(
        {"SQMC": ["紫阳社区"]}, geometry=[shapely.box(114.3, 30.5, 114.31, 30.51)], crs=4326
    )
    comm.to_file(tmp_path / "comm.shp", encoding="utf-8")
    members = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    gdf, problems = uploads.read_upload(
        "communities", "comm.zip", _zip(members), columns={"community_id": "SQMC", "name": "SQMC"}
    )
    assert not [p for p in problems if p.severity == "error"], problems
    assert gdf["name"].tolist() == ["紫阳社区"]


def test_gbk_csv_is_decoded(no_leftovers):
    text = "lon,lat,households,小区\n114.30,30.55,12,锦绣花园\n114.31,30.56,30,盛世城\n"
    gdf, problems = uploads.read_upload("households", "hh.csv", text.encode("gbk"))
    assert not [p for p in problems if p.severity == "error"], problems
    assert gdf["households"].tolist() == [12, 30]
    assert "锦绣花园" in gdf.astype(str).to_string()


@pytest.mark.parametrize("name", ["data.exe", "notes.txt", "model.pkl", "noext"])
def test_wrong_type_is_refused(name, no_leftovers):
    with pytest.raises(InputError) as e:
        uploads.read_upload("households", name, b"whatever")
    assert "unsupported" in str(e.value) and e.value.message_zh


def test_garbage_in_a_known_format_is_a_problem_not_a_traceback(no_leftovers):
    gdf, problems = uploads.read_upload("households", "hh.geojson", b"{not json at all")
    assert gdf is None and problems[0].severity == "error" and problems[0].message_zh


def test_broken_zip(no_leftovers):
    data = _zip({"a.geojson": _households_geojson()})
    with pytest.raises(InputError) as e:
        uploads.read_upload("households", "hh.zip", data[: len(data) // 2])
    assert "zip" in str(e.value) and "压缩包" in e.value.localized("zh")


@pytest.mark.parametrize(
    "member",
    [
        "../evil.geojson",
        "../../tmp/evil.geojson",
        "/tmp/evil.geojson",
        "a/../../evil.geojson",
        "C:/evil.geojson",
    ],
)
def test_path_traversal_is_refused(member, tmp_path, no_leftovers):
    data = _zip({member: _households_geojson()})
    with pytest.raises(InputError) as e:
        uploads.stage_upload("hh.zip", data, tmp_path / "stage")
    assert "unsafe path" in str(e.value)
    assert not (tmp_path / "evil.geojson").exists() and not Path("/tmp/evil.geojson").exists()


def test_symlink_member_is_refused(tmp_path):
    data = _zip({"link.geojson": b"/etc/passwd"}, mode=stat.S_IFLNK | 0o777)
    with pytest.raises(InputError):
        uploads.stage_upload("hh.zip", data, tmp_path)


def test_size_limit(tmp_path):
    with pytest.raises(InputError) as e:
        uploads.stage_upload("hh.geojson", b"x" * 2048, tmp_path, max_bytes=1024)
    assert "MB" in str(e.value) and "超过上限" in e.value.localized("zh")
    with pytest.raises(InputError):
        uploads.stage_upload("hh.geojson", b"", tmp_path)


def test_zip_bomb_is_stopped_early(tmp_path, no_leftovers):
    bomb = _zip({"big.geojson": b"\0" * (40 * 1024 * 1024)})
    assert len(bomb) < 100_000  # a ratio of several hundred to one
    with pytest.raises(InputError) as e:
        uploads.read_upload("households", "bomb.zip", bomb)
    assert "zip bomb" in str(e.value) and "压缩炸弹" in e.value.localized("zh")
    # the total unpacked limit holds for many moderately compressed members as well
    members = {f"part{i}.csv": os.urandom(300_000) for i in range(4)}
    with pytest.raises(InputError) as e:
        uploads.safe_extract(
            _write(tmp_path / "many.zip", _zip(members)), tmp_path / "out", max_unpacked=1_000_000
        )
    assert "unpacks to more than" in str(e.value)


def test_zip_without_or_with_several_data_files(tmp_path):
    with pytest.raises(InputError) as e:
        uploads.stage_upload("x.zip", _zip({"readme.txt": b"hello"}), tmp_path / "a")
    assert "no data file" in str(e.value)
    two = _zip({"a.geojson": _households_geojson(), "b.geojson": _households_geojson()})
    with pytest.raises(InputError) as e:
        uploads.stage_upload("x.zip", two, tmp_path / "b")
    assert "several data files" in str(e.value)


def test_names_cannot_escape_the_staging_folder(tmp_path):
    path = uploads.stage_upload("../../etc/hh.geojson", _households_geojson(), tmp_path)
    assert path.parent == tmp_path and path.name == "hh.geojson"
    path = uploads.stage_upload("..\\..\\hh2.geojson", _households_geojson(), tmp_path)
    assert path.parent == tmp_path


def test_peek_columns(tmp_path):
    p = uploads.stage_upload("hh.geojson", _households_geojson(), tmp_path)
    assert uploads.peek_columns(p)[-2:] == ["households", "building_id"]  # to_json adds "id"
    c = uploads.stage_upload("hh.csv", "经度,纬度,户数\n114.3,30.5,3\n".encode("gbk"), tmp_path)
    assert uploads.peek_columns(c) == ["经度", "纬度", "户数"]
    assert uploads.peek_columns(tmp_path / "missing.gpkg") == []


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_peek_columns_sees_what_the_reader_sees(tmp_path):
    # a long UTF-8 file: the header is read from the decoded text, never a byte prefix
    rows = "".join(f"114.{i:04d},30.5,{i % 9 + 1},幸福路{i}号楼\n" for i in range(25_000))
    c = uploads.stage_upload("big.csv", ("经度,纬度,户数,地址\n" + rows).encode("utf-8"), tmp_path)
    assert uploads.peek_columns(c) == ["经度", "纬度", "户数", "地址"]
    # a title line above the header, as exported by population systems
    t = uploads.stage_upload(
        "title.csv", "某某社区住户表\n经度,纬度,总户数\n114.3,30.5,3\n".encode(), tmp_path
    )
    assert uploads.peek_columns(t) == ["经度", "纬度", "总户数"]
    # a quoted header with a comma inside a name
    q = uploads.stage_upload("q.csv", b'lon,lat,"name, full"\n114.3,30.5,a\n', tmp_path)
    assert uploads.peek_columns(q) == ["lon", "lat", "name, full"]
