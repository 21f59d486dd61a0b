"""The grid lines' check on the grids step (AppTest): the figures shown are the plan's own
(:meth:`~gridplan.plan.quality.PlanQuality.geometry_figures` against the walking network's
streets, measured here again on a copy), follow an edit, are served from the plan's memo on a
selection, switch language, and say what they could not count without the layers."""

from __future__ import annotations

import copy
import re

import pytest

from gridplan.app.labels import text
from gridplan.datasets.sample import load_sample
from gridplan.network import load_network

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app.test_app import APP, CJK, _goto, _ok  # noqa: E402
from tests.app.test_app_data_step import FILES  # noqa: E402


@pytest.fixture()
def app(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    return at


@pytest.fixture(scope="module")
def streets():
    """The sample's street lines, loaded here, not taken from the app."""
    return load_network(load_sample()["network"]).edges


def _block(at, code: str = "zh") -> str:
    """The check's text: the markdown under its heading."""
    heads = [h.value for h in at.subheader]
    assert text("quality_title", code) in heads, heads
    (shown,) = [m.value for m in at.markdown if text("quality_buildings_cut", code) in m.value]
    return shown


def _read(shown: str, code: str = "zh") -> tuple:
    """The figures in the check's text: cut buildings, divided estates, the share on streets,
    walls and outlines as shown, the enclave grids and the codes named."""
    sep = "：" if code == "zh" else ": "

    def after(key: str, pattern: str) -> re.Match:
        m = re.search(re.escape(text(key, code) + sep) + pattern, shown)
        assert m, (key, shown)
        return m

    enclosed = after("quality_enclosed", r"(\d+)[^\n]*")
    return (
        int(after("quality_buildings_cut", r"(\d+)").group(1)),
        int(after("quality_estates_cut", r"(\d+)").group(1)),
        after("quality_lines", r"(\d+\.\d%)").group(1),
        int(enclosed.group(1)),
        re.findall(r"\d{12}-\d{2}", enclosed.group(0)),
    )


def _expected(figures: dict) -> tuple:
    return (
        figures["buildings_cut"],
        figures["estates_cut"],
        f"{figures['boundary_on_features']:.1%}",
        figures["grids_enclosed"],
        figures["grids_enclosed_ids"],
    )


def _fresh(plan, streets) -> dict:
    """The figures of a copy of ``plan`` against ``streets``: measured anew, not the app's."""
    return copy.deepcopy(plan).geometry_figures(streets)


def _a_move_that_changes_the_figures(plan, streets):
    """A move the plan takes at once (inside the band) after which the check reads otherwise;
    its grid, unit and target and the figures after it."""
    before = _expected(_fresh(plan, streets))
    trial = copy.deepcopy(plan)
    units = trial.units
    for gid, uid in zip(units["grid_id"], units["unit_id"]):
        for to, preview in trial.move_targets(uid).items():
            if preview.outside:
                continue
            trial.move_unit(uid, to)
            after = trial.geometry_figures(streets)
            if _expected(after) != before:
                return gid, uid, to, after
            trial.undo()
            break
    pytest.fail("no move of the sample changes the grid lines' figures")


def test_the_check_shows_the_plans_figures_against_the_streets(app, streets):
    plan = app.session_state["plan"]
    figures = _fresh(plan, streets)
    shown = _block(app)
    assert _read(shown) == _expected(figures)
    # the sample's grids cut no building, and most of their lines run on streets: a check made
    # without the streets would read about a quarter
    assert figures["buildings_cut"] == 0 and "✓ 被网格线切开的楼栋：0 栋（应为 0）" in shown
    assert figures["boundary_on_features"] > 0.9
    assert text("quality_no_network", "zh") not in [c.value for c in app.caption]
    # a selection (a row of the grid table reruns the whole page) is served by the plan's memo
    memo = plan._quality_memo
    row = plan.grids["grid_id"].tolist().index(figures["grids_enclosed_ids"][0])
    app.session_state["grid_table"] = {"selection": {"rows": [row], "columns": []}}
    app.run()
    _ok(app)
    assert app.session_state["sel_grid"] == figures["grids_enclosed_ids"][0]
    assert app.session_state["plan"]._quality_memo is memo
    assert _read(_block(app)) == _expected(figures)


def test_after_a_move_the_check_shows_the_new_plan(app, streets):
    plan = app.session_state["plan"]
    before = _read(_block(app))
    gid, uid, to, after = _a_move_that_changes_the_figures(plan, streets)
    version = plan.version
    app.selectbox(key="sel_grid_box").set_value(gid).run()
    app.selectbox(key="sel_unit_box").set_value(uid).run()
    app.selectbox(key="move_to").set_value(to).run()
    app.button(key="btn_move").click().run()
    _ok(app)
    plan = app.session_state["plan"]
    assert plan.version != version and uid in plan.units.loc[plan.units["grid_id"] == to, "unit_id"].tolist()
    shown = _read(_block(app))
    assert shown == _expected(after) == _expected(_fresh(plan, streets)) != before
    app.button(key="btn_undo").click().run()
    _ok(app)
    assert _read(_block(app)) == before


def test_the_check_in_english(app, streets):
    app.sidebar.radio(key="lang").set_value("en").run()
    _ok(app)
    shown = _block(app, "en")
    assert _read(shown, "en") == _expected(_fresh(app.session_state["plan"], streets))
    assert not CJK.search(shown), shown
    assert "Buildings cut by a grid line: 0 (should be 0)" in shown


def test_without_network_or_outlines_the_check_says_what_it_could_not_count(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    _goto(at, "data")
    at.radio(key="source__zh").set_value("upload").run()
    for kind, rel in FILES.items():  # households, communities and centres only
        path = sample_dir / rel
        at.file_uploader(key=f"up_{kind}").set_value(
            (path.name, path.read_bytes(), "application/geo+json")
        ).run()
        _ok(at)
    at.button(key="btn_read").click().run()
    _ok(at)
    _goto(at, "grids")
    _ok(at)
    assert at.session_state["dataset"] == "upload"
    shown = _block(at)
    figures = _fresh(at.session_state["plan"], None)
    assert figures["buildings_cut"] is None and figures["boundary_on_features"] is None
    assert "被网格线切开的楼栋：未统计（数据中没有楼栋轮廓）" in shown
    assert "沿围墙或楼栋轮廓的网格线：未统计（数据中没有街道、围墙或楼栋轮廓）" in shown
    assert f"飞地网格（四周被另一网格包围）：{figures['grids_enclosed']} 个" in shown
    assert text("quality_no_network", "zh") in [c.value for c in at.caption]
