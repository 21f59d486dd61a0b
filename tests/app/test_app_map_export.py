"""The export step's map files (PNG and PDF), driven with streamlit.testing.v1.AppTest: the map is
the current plan's grids, titled with the proposal's name, in the session's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from _figures import missing_status_colours

from gridplan.app.labels import text

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_map_exports_follow_the_plan_the_proposal_and_the_language(sample_dir, tmp_path):
    from gridplan.report.figures import plot_grids

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    _ok(at)
    at.sidebar.radio(key="step__zh").set_value("export").run()
    _ok(at)
    assert at.get("download_button") == []
    for key in ("export_map_png", "export_map_pdf"):
        at.button(key=f"btn_prepare_{key}").click().run()
        _ok(at)
    buttons = {d.key: d.label for d in at.get("download_button")}
    assert buttons == {"dl_export_map_png": "下载地图（PNG）", "dl_export_map_pdf": "下载地图（PDF）"}
    plan, proposal = at.session_state["plan"], at.session_state["proposal"]
    assert proposal
    files = at.session_state["_exports"]["files"]
    name, png, mime = files[("export_map_png", ("zh", proposal))]
    assert (name, mime) == ("grids_map.png", "image/png")
    # exactly the map of the current grids and communities, titled with the proposal's name
    ref = tmp_path / "ref.png"
    fig = plot_grids(plan.grids, ref, communities=plan.communities, title=proposal, lang="zh")
    assert png == ref.read_bytes()
    (tmp_path / "app.png").write_bytes(png)
    assert missing_status_colours(tmp_path / "app.png", fig) == {}
    name, pdf, mime = files[("export_map_pdf", ("zh", proposal))]
    assert (name, mime) == ("grids_map.pdf", "application/pdf") and pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf

    # in English the Chinese map is not offered: it is built again, in English
    at.sidebar.radio(key="lang").set_value("en").run()
    _ok(at)
    assert at.get("download_button") == []
    at.button(key="btn_prepare_export_map_png").click().run()
    _ok(at)
    [button] = at.get("download_button")
    assert button.label == text("export_map_png", "en") == "Download the map (PNG)"
    proposal = at.session_state["proposal"]
    _, png_en, _ = at.session_state["_exports"]["files"][("export_map_png", ("en", proposal))]
    plot_grids(plan.grids, ref, communities=plan.communities, title=proposal, lang="en")
    assert png_en == ref.read_bytes() != png
