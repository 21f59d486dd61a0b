"""Fuzzing the readers: for any content the readers accept, the households read equal the
households written; anything else raises InputError, never another exception."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gridplan import io
from gridplan.errors import InputError

SETTINGS = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

count = st.integers(-5, 10_000)
cell = st.one_of(
    count.map(str),
    count.map(lambda n: f"{n}户"),
    count.map(lambda n: f" {n} "),
    st.just(""),
    st.text(alphabet='ab户,"\n;x1.-', max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
lon = st.one_of(
    st.floats(111.0, 112.0).map(lambda v: f"{v:.6f}"),
    st.just(""),
    st.text(alphabet="0123456789.-e", max_size=6),
)
lat = st.one_of(
    st.floats(30.0, 31.0).map(lambda v: f"{v:.6f}"),
    st.just(""),
    st.text(alphabet="0123456789.-e", max_size=6),
)


def _read(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return io.read_households(path)


def _expected_count(text: str):
    t = text.strip()
    if t.endswith("户"):
        t = t[:-1].strip()
    if t.endswith(".0"):
        t = t[:-2]
    return int(t) if t.lstrip("-").isdigit() else None


good_cell = st.integers(1, 10_000).flatmap(lambda n: st.sampled_from([str(n), f"{n}户", f" {n} ", f"{n}.0"]))
good_lon = st.floats(111.0, 112.0).map(lambda v: f"{v:.6f}")
good_lat = st.floats(30.0, 31.0).map(lambda v: f"{v:.6f}")
# Half clean tables (mostly accepted), half messy ones (mostly rejected).
csv_rows = st.one_of(
    st.lists(st.tuples(good_lon, good_lat, good_cell), min_size=1, max_size=12),
    st.lists(st.tuples(lon, lat, cell), max_size=12),
)


@SETTINGS
@given(
    rows=csv_rows,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
    header=st.sampled_from(
        [
            ("lon", "lat", "households"),
            ("经度", "纬度", "户数"),
            ("lng", "lat", "households"),
            ("a", "b", "c"),
        ]
    ),
)
def test_fuzz_csv(rows, encoding, header):
    def q(v):
        return '"' + v.replace('"', '""') + '"'

    lines = [",".join(header)] + [",".join(q(v) for v in r) for r in rows]
    text = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.csv"
        try:
            path.write_bytes(text.encode(encoding))
        except UnicodeEncodeError:
            return
        try:
            got = _read(path)
        except InputError:
            event("rejected with InputError")
            return
        event("accepted")
    expected = [_expected_count(r[2]) for r in rows]
    assert len(got) == len(rows)
    assert all(e is not None and e >= 1 for e in expected)
    assert got["households"].tolist() == expected
    assert np.allclose(got.geometry.x, [float(r[0]) for r in rows])


geometry = st.one_of(
    st.none(),
    st.builds(
        lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(111.0, 112.0), st.floats(30.0, 31.0)
    ),
    st.just({"type": "Point", "coordinates": []}),
    st.just({"type": "LineString", "coordinates": [[111.0, 30.0], [111.1, 30.1]]}),
    st.just({"type": "Polygon", "coordinates": [[[111, 30], [111.1, 30], [111, 30.1]]]}),
    st.just({"type": "Bogus"}),
)
value = st.one_of(
    count,
    count.map(lambda n: f"{n}户"),
    st.none(),
    st.text(max_size=4),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


good_point = st.builds(
    lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(111.0, 112.0), st.floats(30.0, 31.0)
)
features = st.one_of(
    st.lists(st.tuples(good_point, st.integers(1, 10_000)), max_size=10),
    st.lists(st.tuples(geometry, value), max_size=10),
)


@SETTINGS
@given(feats=features, cut=st.one_of(st.none(), st.none(), st.integers(0, 400)), junk=st.binary(max_size=20))
def test_fuzz_geojson(feats, cut, junk):
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"households": v}, "geometry": g} for g, v in feats],
    }
    raw = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    if cut is not None:
        raw = raw[:cut] + junk
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.geojson"
        path.write_bytes(raw)
        try:
            got = _read(path)
        except InputError:
            event("rejected with InputError")
            return
        event("accepted")
    if cut is None:
        # booleans, blanks and whitespace are never counts: such a file is rejected above
        assert not any(isinstance(v, bool) or v is None for _, v in feats)
        assert len(got) == len(feats)
        expected = []
        for _, v in feats:
            if isinstance(v, bool) or v is None:
                expected.append(None)
            elif isinstance(v, float):
                expected.append(int(v) if v.is_integer() else None)
            else:
                expected.append(_expected_count(str(v)))
        assert got["households"].tolist() == expected


@SETTINGS
@given(
    raw=st.binary(max_size=300),
    ext=st.sampled_from([".csv", ".geojson", ".gpkg", ".parquet", ".xlsx", ".zip", ".shp", ".json", ".txt"]),
)
def test_fuzz_garbage_bytes(raw, ext):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"h{ext}"
        path.write_bytes(raw)
        try:
            got = _read(path)
        except InputError:
            event("rejected with InputError")
            return
        event("accepted")
    assert (got["households"] >= 1).all()


@pytest.mark.parametrize("values", [[True, 5], [1, True, 3], [False, 2], [True], [4, "", 2], [4, " ", 2]])
def test_booleans_and_blanks_in_counts_are_errors(tmp_path, values):
    """GDAL reads a JSON true beside numbers as 1: caught, never one household (seed 118)."""
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"households": v},
                "geometry": {"type": "Point", "coordinates": [111.3, 30.7]},
            }
            for v in values
        ],
    }
    path = tmp_path / "h.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match="households") as err:
        _read(path)
    bad = [i for i, v in enumerate(values) if isinstance(v, bool) or str(v).strip() == ""]
    assert err.value.rows[: len(bad)] == bad
