"""Editing like a planner, in the app driven with AppTest, and the search behind its find box.

Only moves the plan accepts are offered; an edit that would leave a grid outside the household
band waits for 仍然执行 and says which grid and how many households; a row of the grid table and
the find box select a grid, and the map brings it into view.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gridplan.app.naming import names_of
from gridplan.app.services import Found, find_in_plan
from gridplan.errors import GridplanError
from gridplan.plan.common import grid_sort_key

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture()
def app(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    return at


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _households(plan) -> dict:
    return plan.grids.set_index("grid_id")["households"].astype(int).to_dict()


def _move(plan, outside: bool):
    """A grid, one of its units and a target the plan offers, whose move leaves a grid outside
    the band (or not)."""
    units = plan.units
    for gid in plan.grids["grid_id"]:
        for uid in units.loc[units["grid_id"] == gid, "unit_id"]:
            for to, preview in plan.move_targets(uid).items():
                if bool(preview.outside) is outside:
                    return gid, uid, to, preview
    pytest.fail(f"the sample has no move with outside={outside}")


def _panel(at, gid, uid=None):
    at.selectbox(key="sel_grid_box").set_value(gid).run()
    if uid is not None:
        at.selectbox(key="sel_unit_box").set_value(uid).run()
    _ok(at)


def _focused(at) -> bool:
    """The map is asked this run to bring the selected grid into view (a focus number)."""
    (comp,) = at.get("component_instance")
    return json.loads(comp.proto.json_args)["focus"] is not None


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


# ---------------------------------------------------------------- only valid move targets
def test_the_move_box_offers_exactly_the_accepted_targets(app):
    plan = app.session_state["plan"]
    units = plan.units
    # a unit that can go to two grids; the planner locks one of them: the box lists the other
    gid, uid, (locked, free) = next(
        (g, u, list(plan.move_targets(u))[:2])
        for g, u in zip(units["grid_id"], units["unit_id"])
        if len(plan.move_targets(u)) >= 2
    )
    _panel(app, locked)
    app.button(key="btn_lock").click().run()
    assert locked in app.session_state["plan"].locked
    _panel(app, gid, uid)
    offered = app.selectbox(key="move_to").options
    assert free in offered and locked not in offered
    assert offered == list(plan.move_targets(uid))
    for to in set(plan.unit_neighbour_grids(uid)) - set(offered):
        with pytest.raises(GridplanError):
            plan.move_unit(uid, to)
    # a unit that holds its grid together touches other grids but may go to none: the caption says so
    gid, uid = next(
        (g, u)
        for g, u in zip(units["grid_id"], units["unit_id"])
        if g not in plan.locked and plan.unit_neighbour_grids(u) and not plan.move_targets(u)
    )
    _panel(app, gid, uid)
    assert "move_to" not in [s.key for s in app.selectbox]
    assert "该单元没有可移入的相邻网格。" in _captions(app)


# ---------------------------------------------------------------- confirmation
def test_an_in_band_move_goes_at_once_with_its_figures_shown_before(app):
    plan = app.session_state["plan"]
    gid, uid, to, preview = _move(plan, outside=False)
    _panel(app, gid, uid)
    app.selectbox(key="move_to").set_value(to).run()
    before = _households(plan)
    counts = {g.grid_id: g.after for g in preview.grids}
    said = next(c for c in _captions(app) if c.startswith("移动后："))
    for g in (gid, to):
        assert f"网格 {g}（{before[g]} → {counts[g]} 户）" in said
    app.button(key="btn_move").click().run()
    _ok(app)
    assert _households(app.session_state["plan"]) == {**before, **counts}
    assert app.success[0].value.startswith("已将") and not app.warning
    # the same words beside the buttons
    assert any(m.value == f":green[✓ {app.success[0].value}]" for m in app.markdown)


def test_an_out_of_band_move_waits_for_do_it_anyway(app):
    plan = app.session_state["plan"]
    gid, uid, to, preview = _move(plan, outside=True)
    history, before = list(plan.history), _households(plan)
    _panel(app, gid, uid)
    app.selectbox(key="move_to").set_value(to).run()
    app.button(key="btn_move").click().run()
    _ok(app)
    assert app.session_state["plan"].history == history  # nothing done yet
    (warning,) = app.warning
    for g in preview.outside:
        assert f"网格 {g.grid_id} 将" in warning.value and f" {g.after} 户" in warning.value
    assert warning.value.endswith("仍要执行吗？")
    assert app.button(key="btn_edit_anyway").label == "仍然执行"
    # 取消: nothing done, the question goes away
    app.button(key="btn_edit_cancel").click().run()
    assert not app.warning and app.session_state["plan"].history == history
    assert "btn_edit_anyway" not in [b.key for b in app.button]
    # asked again, and done
    app.button(key="btn_move").click().run()
    app.button(key="btn_edit_anyway").click().run()
    _ok(app)
    after = _households(app.session_state["plan"])
    assert after == {**before, **{g.grid_id: g.after for g in preview.grids}}
    assert re.fullmatch(rf"已将 .* 从网格 {re.escape(gid)} 移到 {re.escape(to)}", app.success[0].value)
    assert app.session_state["plan"].check() == []


def test_a_question_is_dropped_when_the_planner_turns_elsewhere(app):
    plan = app.session_state["plan"]
    gid, uid, to, _ = _move(plan, outside=True)
    _panel(app, gid, uid)
    app.selectbox(key="move_to").set_value(to).run()
    app.button(key="btn_move").click().run()
    assert app.warning
    other = next(g for g in plan.grids["grid_id"] if g != gid)
    app.selectbox(key="sel_grid_box").set_value(other).run()
    app.selectbox(key="sel_grid_box").set_value(gid).run()
    assert not app.warning and "btn_edit_anyway" not in [b.key for b in app.button]


def test_an_out_of_band_merge_and_split_wait_for_do_it_anyway(app):
    plan = app.session_state["plan"]
    gid, other, preview = next(
        (g, other, p)
        for g in plan.grids["grid_id"]
        for other, p in plan.merge_targets(g).items()
        if p.outside
    )
    (kept,) = [g for g in preview.grids if g.after is not None]
    _panel(app, gid)
    app.selectbox(key="merge_with").set_value(other).run()
    said = next(c for c in _captions(app) if c.startswith("合并后："))
    assert f"网格 {kept.grid_id}（{kept.before} → {kept.after} 户，不在 300–500 户之间）" in said
    n = len(plan.grids)
    app.button(key="btn_merge").click().run()
    assert len(app.session_state["plan"].grids) == n
    limit = "多于上限 500 户" if kept.after > 500 else "少于下限 300 户"
    assert f"网格 {kept.grid_id} 将{'有' if kept.after > 500 else '只有'} {kept.after} 户，{limit}" in (
        app.warning[0].value
    )
    app.button(key="btn_edit_anyway").click().run()
    _ok(app)
    assert len(app.session_state["plan"].grids) == n - 1
    assert _households(app.session_state["plan"])[kept.grid_id] == kept.after
    # the panel stays on the merged grid, with the outcome beside the buttons
    assert app.session_state["sel_grid"] == kept.grid_id
    assert any(m.value.startswith(":green[✓ 已将网格") for m in app.markdown)
    # a split of an in-band grid leaves two small grids: asked too
    n_units = plan.units["grid_id"].value_counts()
    gid = next(g for g in sorted(n_units[n_units >= 4].index) if plan.preview_split(g).outside)
    _panel(app, gid)
    app.button(key="btn_split").click().run()
    assert len(app.session_state["plan"].grids) == n - 1 and "将只有" in app.warning[0].value
    app.button(key="btn_edit_anyway").click().run()
    _ok(app)
    assert len(app.session_state["plan"].grids) == n
    assert app.success[0].value.startswith(f"已将网格 {gid} 拆分为")


def test_a_single_unit_grid_cannot_be_split_and_says_why(app):
    plan = app.session_state["plan"]
    n_units = plan.units["grid_id"].value_counts()
    single = sorted(n_units[n_units == 1].index)
    if not single:
        pytest.skip("every grid of the sample has several units")
    _panel(app, single[0])
    assert app.button(key="btn_split").disabled
    assert any("无法拆分" in c for c in _captions(app))


# ---------------------------------------------------------------- table rows
def test_a_table_row_selects_its_grid_and_the_map_brings_it_into_view(app):
    plan = app.session_state["plan"]
    ids = plan.grids["grid_id"].tolist()
    k = len(ids) - 3
    app.session_state["grid_table"] = {"selection": {"rows": [k], "columns": []}}
    app.run()
    _ok(app)
    assert app.session_state["sel_grid"] == ids[k]
    assert app.selectbox(key="sel_grid_box").value == ids[k]
    assert [s.value for s in app.subheader if s.value.startswith("网格 ")] == [f"网格 {ids[k]}"]
    assert _focused(app)
    # a plain rerun does not select again or move the view
    app.run()
    assert not _focused(app)
    # a grid chosen in the box: the map brings it into view, the table row follows
    app.selectbox(key="sel_grid_box").set_value(ids[1]).run()
    assert _focused(app)
    app.run()
    assert list(app.session_state["grid_table"]["selection"]["rows"]) == [1]
    # the same row clicked again after a look elsewhere brings the grid back into view
    app.session_state["grid_table"] = {"selection": {"rows": [k], "columns": []}}
    app.run()
    assert app.session_state["sel_grid"] == ids[k] and _focused(app)


# ---------------------------------------------------------------- find
def test_the_find_box_selects_the_grid_and_the_estate(app):
    plan = app.session_state["plan"]
    layers = app.session_state["layers"]
    estates = layers["estates"]
    name = str(estates["name"].iloc[0])
    expected = find_in_plan(plan, name, names_of(layers))[0]
    assert expected.kind == "estate" and expected.name == name
    app.text_input(key="find_box").set_value(name).run()
    _ok(app)
    assert app.session_state["sel_grid"] == expected.grid_id
    assert app.session_state["sel_unit"] == expected.unit_id
    assert _focused(app)
    assert f"小区“{name}”：网格 {expected.grid_id}" in _captions(app)
    grid = plan.grids["grid_id"].iloc[-1]
    app.text_input(key="find_box").set_value(f" {grid} ").run()
    assert app.session_state["sel_grid"] == grid and app.session_state["sel_unit"] is None
    app.text_input(key="find_box").set_value("没有这个小区").run()
    assert app.session_state["sel_grid"] == grid
    assert "没有找到“没有这个小区”" in _captions(app)


@pytest.fixture(scope="module")
def sample_plan(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample(sample_dir)
    plan = Plan.from_partition(
        plan_grids(s, n_jobs=1),
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
    )
    return plan, s, names_of(s)


def test_find_ranks_whole_matches_first_and_names_what_it_found(sample_plan):
    plan, s, names = sample_plan
    a = plan.assignment
    grid = plan.grids["grid_id"].iloc[3]
    assert find_in_plan(plan, f"  {grid.upper()} ", names)[0] == Found("grid", grid, grid)
    assert find_in_plan(plan, "", names) == [] == find_in_plan(plan, "zzz-none", names)
    # an estate by its name or id: the grid and unit holding most of its households
    est = s["estates"].iloc[2]
    rows = a[a["estate_id"] == est["estate_id"]]
    per_unit = rows.groupby("unit_id")["households"].sum()
    for query in (est["name"], est["estate_id"].lower()):
        (hit,) = [f for f in find_in_plan(plan, query, names) if f.kind == "estate"]
        assert hit.name == est["name"] and per_unit[hit.unit_id] == per_unit.max()
        assert hit.grid_id == rows.loc[rows["unit_id"] == hit.unit_id, "grid_id"].iloc[0]
    # a building by its id, named with its estate's name
    b = s["buildings"].iloc[0]
    hit = find_in_plan(plan, b["building_id"], names)[0]
    assert hit.kind == "building" and hit.name == f"{names.estate(b['estate_id'])} {b['name']}"
    assert hit.grid_id == a.loc[a["building_id"] == b["building_id"], "grid_id"].iloc[0]
    # a community by its name: its first grid
    c = s["communities"].iloc[1]
    ids = plan.grids.loc[plan.grids["community_id"] == c["community_id"], "grid_id"]
    first = min(ids, key=grid_sort_key)
    assert find_in_plan(plan, c["name"], names)[0] == Found("community", c["name"], first)
    # by its code: the whole code ranks before the grids whose codes contain it
    hits = find_in_plan(plan, c["community_id"], names)
    assert hits[0] == Found("community", c["name"], first)
    assert sorted(f.grid_id for f in hits[1:] if f.kind == "grid") == sorted(ids)
