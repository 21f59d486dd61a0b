"""The data step in the app (streamlit.testing.v1.AppTest): per-file datums, uploads kept
across steps, no stale "check passed" under a new refusal."""

from __future__ import annotations

import numpy as np
import pytest

from gridplan.io.projection import local_crs

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app.test_app import APP, _goto, _ok  # noqa: E402

FILES = {
    "households": "households/households.geojson",
    "communities": "boundaries/communities.geojson",
    "facilities": "facilities/facilities.geojson",
}


@pytest.fixture()
def uploaded(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    _goto(at, "data")
    at.radio(key="source__zh").set_value("upload").run()
    for kind, rel in FILES.items():
        path = sample_dir / rel
        at.file_uploader(key=f"up_{kind}").set_value(
            (path.name, path.read_bytes(), "application/geo+json")
        ).run()
        _ok(at)
    return at


def _shift_m(a, b) -> np.ndarray:
    crs = local_crs(a)
    return a.to_crs(crs).geometry.distance(b.to_crs(crs).geometry, align=False).to_numpy()


def test_the_gcj02_option_of_one_file_moves_only_that_file(uploaded):
    at = uploaded
    sample = at.session_state["layers"]
    # one datum per file: the facilities come from Amap (GCJ-02), the rest is WGS-84
    at.selectbox(key="coords_facilities__zh").set_value("gcj02").run()
    assert at.selectbox(key="coords_households__zh").value == "wgs84"
    at.button(key="btn_read").click().run()
    _ok(at)
    assert at.session_state["dataset"] == "upload"
    layers = at.session_state["layers"]
    for kind in ("households", "communities"):
        assert _shift_m(sample[kind], layers[kind]).max() < 1e-3, kind
    moved = _shift_m(sample["facilities"], layers["facilities"])
    assert moved.min() > 200 and moved.max() < 1000


def test_uploads_and_choices_survive_a_step_change(uploaded):
    at = uploaded
    at.selectbox(key="coords_facilities__zh").set_value("gcj02").run()
    at.selectbox(key="map_households_households").set_value("households").run()
    _goto(at, "grids")
    _ok(at)
    _goto(at, "data")
    _ok(at)
    assert sorted(at.session_state["uploads"]) == sorted(FILES)
    assert at.selectbox(key="coords_facilities__zh").value == "gcj02"
    assert any("已载入：households.geojson" in c.value for c in at.caption)
    # the kept files are read without uploading them again
    at.button(key="btn_read").click().run()
    _ok(at)
    assert at.session_state["dataset"] == "upload"
    assert any(s.value.startswith("数据检查通过") for s in at.success)


def test_no_stale_check_passed_under_a_new_error(uploaded):
    at = uploaded
    at.button(key="btn_read").click().run()
    assert any(s.value.startswith("数据检查通过") for s in at.success)
    at.file_uploader(key="up_households").set_value(("households.csv", b"a,b\n1,2\n", "text/csv")).run()
    at.button(key="btn_read").click().run()
    _ok(at)
    assert at.error, "the broken file is refused"
    assert not any(s.value.startswith("数据检查通过") for s in at.success)
