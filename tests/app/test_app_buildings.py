"""Moving a single building (楼栋) in the app, driven with AppTest: after a grid and one of its
estate parts, the building box lists the part's buildings by name, offers only the grids the plan
accepts, says what the move would leave, and the move changes the grid figures by exactly that
building's households (an out-of-band move waits for 仍然执行)."""

from __future__ import annotations

import pytest

from gridplan.app.naming import names_of
from gridplan.errors import GridplanError

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app.test_app_editing import APP, _captions, _households, _ok, _panel  # noqa: E402


@pytest.fixture()
def app(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    return at


def _building_move(plan, outside: bool):
    """A grid, one of its estate parts of several buildings, one of those buildings and a grid
    it can move to alone, whose move leaves a grid outside the band (or not)."""
    units = plan.units
    for gid, uid in zip(units["grid_id"], units["unit_id"]):
        buildings = plan.unit_buildings(uid)
        if len(buildings) < 2 or gid in plan.locked:
            continue
        for bid in buildings:
            try:
                targets = plan.building_targets(bid)
            except GridplanError:
                continue
            for to, preview in targets.items():
                if bool(preview.outside) is outside:
                    return gid, uid, bid, to, preview
    pytest.fail(f"the sample has no building move with outside={outside}")


def _building_households(plan, bid) -> int:
    hh = plan.households
    return int(hh.loc[hh["building_id"] == bid, "households"].sum())


def test_a_building_moves_alone_and_the_figures_follow(app):
    plan = app.session_state["plan"]
    gid, uid, bid, to, preview = _building_move(plan, outside=False)
    name = names_of(app.session_state["layers"]).buildings.get(bid, bid)
    before, n = _households(plan), _building_households(plan, bid)
    _panel(app, gid, uid)
    # the existing boxes stay as they were; the building box comes below them
    assert app.selectbox(key="sel_unit_box").label == "单元（或点击地图）"
    box = app.selectbox(key="sel_building_box")
    assert box.label == "楼栋（或点击地图）"
    assert f"{name}（{n} 户）" in box.options
    assert len(box.options) == 1 + len(plan.unit_buildings(uid))
    box.set_value(bid).run()
    _ok(app)
    assert app.selectbox(key="building_to").options == list(plan.building_targets(bid))
    app.selectbox(key="building_to").set_value(to).run()
    said = next(c for c in _captions(app) if c.startswith("移动楼栋后："))
    counts = {g.grid_id: g.after for g in preview.grids}
    assert counts == {gid: before[gid] - n, to: before[to] + n}
    for g in (gid, to):
        assert f"网格 {g}（{before[g]} → {counts[g]} 户）" in said
    assert app.button(key="btn_move_building").label == "移动楼栋"
    app.button(key="btn_move_building").click().run()
    _ok(app)
    after_plan = app.session_state["plan"]
    # the grid figures (and the metrics above them) changed by exactly the building's households
    assert _households(after_plan) == {**before, gid: before[gid] - n, to: before[to] + n}
    assert after_plan.check() == []
    assert app.success[0].value == f"已将 {name} 从网格 {gid} 移到 {to}"
    assert after_plan.edits[-1]["op"] == "move_building" and after_plan.edits[-1]["building"] == bid
    # the edit history says it in words, and undo gives the figures back
    assert any(f"1. 已将 {name} 从网格 {gid} 移到 {to}" in m.value for m in app.markdown)
    app.button(key="btn_undo").click().run()
    _ok(app)
    assert _households(app.session_state["plan"]) == before


def test_an_out_of_band_building_move_waits_for_do_it_anyway(app):
    plan = app.session_state["plan"]
    gid, uid, bid, to, preview = _building_move(plan, outside=True)
    history, before = list(plan.history), _households(plan)
    _panel(app, gid, uid)
    app.selectbox(key="sel_building_box").set_value(bid).run()
    app.selectbox(key="building_to").set_value(to).run()
    app.button(key="btn_move_building").click().run()
    _ok(app)
    assert app.session_state["plan"].history == history  # nothing done yet
    (warning,) = app.warning
    for g in preview.outside:
        assert f"网格 {g.grid_id} 将" in warning.value and f" {g.after} 户" in warning.value
    app.button(key="btn_edit_anyway").click().run()
    _ok(app)
    assert _households(app.session_state["plan"]) == {**before, **{g.grid_id: g.after for g in preview.grids}}


def test_a_click_in_the_selected_unit_picks_the_building_under_it(app):
    plan = app.session_state["plan"]
    gid, uid, bid, _, _ = _building_move(plan, outside=False)
    _panel(app, gid, uid)
    fp = app.session_state["layers"]["buildings"].set_index("building_id").geometry[bid]
    spot = fp.representative_point()
    app.session_state["map_click"] = {"lat": spot.y, "lng": spot.x}
    app.run()
    _ok(app)
    assert app.session_state["sel_grid"] == gid and app.session_state["sel_unit"] == uid
    assert app.selectbox(key="sel_building_box").value == bid
    assert "building_to" in [s.key for s in app.selectbox]
