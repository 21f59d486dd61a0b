"""Proposals (方案) in the app: autosave after each edit and after 生成网格, a reload (a new
session with ``?proposal=`` in the address) reopens the proposal with its undo history and its
walking network, 生成网格 asks first and can be undone, a second session on the same proposal
is refused, and two proposals are compared. Service functions first (no Streamlit), then the
app driven by ``streamlit.testing.v1.AppTest`` on a real store in a temporary folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gridplan.app import services
from gridplan.app.labels import text
from gridplan.plan.store import PlanStore

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture()
def data(tmp_path, monkeypatch):
    """The store's folder: a temporary GRIDPLAN_DATA (never the user's data folder)."""
    monkeypatch.delenv("GRIDPLAN_DB", raising=False)
    monkeypatch.setenv("GRIDPLAN_DATA", str(tmp_path))
    return tmp_path


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _session(sample_dir, proposal: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    if proposal is not None:
        at.query_params["proposal"] = proposal
    at.run()
    _ok(at)
    return at


def _split(at) -> str:
    """Split the first grid of four units or more (an edit, through the app's edit button)."""
    plan = at.session_state["plan"]
    n_units = plan.units["grid_id"].value_counts()
    gid = n_units[n_units >= 4].index.sort_values()[0]
    at.selectbox(key="sel_grid_box").set_value(gid).run()
    at.button(key="btn_split").click().run()
    if "btn_edit_anyway" in [b.key for b in at.button]:  # the halves are outside the band
        at.button(key="btn_edit_anyway").click().run()
    _ok(at)
    return gid


def _goto(at, step):
    at.sidebar.radio(key=f"step__{at.session_state['lang']}").set_value(step).run()
    _ok(at)


# ------------------------------------------------------------------ without Streamlit
def test_proposal_names_are_new_and_in_the_language():
    now = datetime(2026, 11, 30, 9, 15)
    assert services.proposal_name([], "zh", now) == "方案 2026-11-30 09:15"
    assert services.proposal_name(["方案 2026-11-30 09:15"], "zh", now) == "方案 2026-11-30 09:15 (2)"
    assert services.proposal_name([], "en", now) == "Proposal 2026-11-30 09:15"


def test_comparison_and_version_tables_are_in_words(sample_dir, tmp_path):
    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    plan = Plan.from_partition(plan_grids(s, n_jobs=1), s["households"], s["communities"])
    store = PlanStore(tmp_path)
    store.save("甲", plan)
    per = plan.units["grid_id"].value_counts()
    plan.split_grid(per[per >= 2].index.sort_values()[0])  # a grid of one unit cannot split
    store.save("乙", plan)
    cmp = store.compare("甲", "乙")
    shown = services.comparison_table(cmp.table, "zh")
    assert shown.columns.tolist() == ["指标", "甲@1", "乙@1"]
    rows = shown.set_index("指标")
    assert rows.loc["网格数"].tolist() == [f"{len(plan.grids) - 1:,}", f"{len(plan.grids):,}"]
    assert rows.loc["15分钟服务覆盖率"].tolist() == ["—", "—"]  # saved without coverage
    assert rows.loc["户数达标网格占比"].iloc[0].endswith("%")
    moved = int(cmp.table.loc["households_moved"].iloc[0])
    assert moved > 0 and rows.loc["所属网格不同的住户数"].iloc[0] == f"{moved:,}"
    assert set(shown["指标"]) == {text(f"figure_{f}", "zh") for f in cmp.table.index}
    versions = services.versions_table(store.versions("甲"), "en")
    assert versions.columns.tolist() == [
        "Version",
        "Saved (UTC)",
        "Note",
        "Grids",
        "Edits to undo",
        "Walking network",
    ]
    listing = services.proposals_table(store.list(), "zh")
    assert listing["方案名称"].tolist() == ["乙", "甲"] or listing["方案名称"].tolist() == ["甲", "乙"]


# ------------------------------------------------------------------ the app
def test_an_edit_is_saved_and_a_reload_reopens_it_with_undo_and_network(data, sample_dir):
    at = _session(sample_dir)
    name = at.session_state["proposal"]
    assert at.query_params["proposal"] in (name, [name])
    assert PlanStore(data).list().empty  # nothing written before the first edit
    before = at.session_state["plan"].grids["grid_id"].tolist()
    _split(at)
    edited = at.session_state["plan"].grids["grid_id"].tolist()
    assert len(edited) == len(before) + 1
    assert PlanStore(data).versions(name)["edits"].tolist() == [1]

    # F5: a new session with the same address
    again = _session(sample_dir, name)
    plan = again.session_state["plan"]
    assert plan.grids["grid_id"].tolist() == edited and plan.can_undo
    assert again.session_state["proposal_version"] == 1
    # the walking network came back: coverage is computed on it after reopening
    _goto(again, "coverage")
    again.button(key="btn_coverage").click().run()
    _ok(again)
    cov = again.session_state["plan"].coverage
    assert cov is not None and cov.households["covered"].sum() > 0
    _goto(again, "grids")
    again.button(key="btn_undo").click().run()
    _ok(again)
    assert again.session_state["plan"].grids["grid_id"].tolist() == before
    versions = PlanStore(data).versions(name)
    assert versions["version"].tolist() == [1, 2, 3] and versions["edits"].tolist() == [1, 1, 0]


def test_generate_asks_first_and_can_be_undone(data, sample_dir):
    at = _session(sample_dir)
    _split(at)
    edited = at.session_state["plan"].grids["grid_id"].tolist()
    at.number_input(key="hi").set_value(450)
    at.button(key="btn_generate").click().run()
    _ok(at)
    assert at.session_state["plan"].grids["grid_id"].tolist() == edited  # not yet
    assert any("确定生成" in w.value for w in at.warning), [w.value for w in at.warning]
    at.button(key="btn_generate_no").click().run()
    _ok(at)
    assert at.session_state["plan"].can_undo and "btn_generate_yes" not in [b.key for b in at.button]

    at.button(key="btn_generate").click().run()
    at.button(key="btn_generate_yes").click().run()
    _ok(at)
    plan = at.session_state["plan"]
    assert plan.max_households == 450 and not plan.can_undo
    name = at.session_state["proposal"]
    notes = PlanStore(data).versions(name)["note"].tolist()
    assert notes[-1] == "生成网格"

    at.button(key="btn_generate_undo").click().run()
    _ok(at)
    plan = at.session_state["plan"]
    assert plan.grids["grid_id"].tolist() == edited and plan.can_undo
    versions = PlanStore(data).versions(name)
    assert versions["note"].tolist()[-1] == "撤销生成网格" and versions["edits"].tolist()[-1] == 1


def test_a_second_session_on_the_same_proposal_is_told_and_overwrites_nothing(data, sample_dir):
    first = _session(sample_dir)
    _split(first)
    name = first.session_state["proposal"]
    second = _session(sample_dir, name)
    _split(first)  # the first session saves version 2
    head = PlanStore(data).load(name).plan.grids["grid_id"].tolist()
    _split(second)  # the second still follows version 1
    assert second.session_state["save_conflict"]
    shown = [e.value for e in second.error]
    assert any("其他会话" in m and "另存为新方案" in m for m in shown), shown
    store = PlanStore(data)
    assert store.versions(name)["version"].tolist() == [1, 2]
    assert store.load(name).plan.grids["grid_id"].tolist() == head
    # the second session keeps its work under a new name
    _goto(second, "proposals")
    second.text_input(key="save_as_name").input("乙方案")
    form_buttons = [b for b in second.button if b.label == "另存为新方案"]
    form_buttons[0].click().run()
    _ok(second)
    assert second.session_state["proposal"] == "乙方案" and not second.session_state["save_conflict"]
    assert (
        PlanStore(data).load("乙方案").plan.grids["grid_id"].tolist()
        == second.session_state["plan"].grids["grid_id"].tolist()
    )


def test_two_planners_starting_in_the_same_minute_get_two_proposals(data, sample_dir):
    """The name from the clock is taken when the first edit is saved, not when the page opens:
    the second planner's edits go to a proposal of their own, not into a refusal."""
    first, second = _session(sample_dir), _session(sample_dir)
    name = first.session_state["proposal"]
    # the two opened on each side of a minute: the second gets the same name from the clock
    second.session_state["proposal"] = name
    # both saves take their names from the clock: the same name only when they fall in one
    # minute (a slow machine may cross into the next one between them)
    minute = datetime.now().strftime("%H:%M")
    _split(first)
    name = first.session_state["proposal"]
    _split(second)
    same_minute = datetime.now().strftime("%H:%M") == minute
    assert not second.session_state["save_conflict"]
    other = second.session_state["proposal"]
    assert other != name
    if same_minute:
        assert other == f"{name} (2)"
    assert second.query_params["proposal"] in (other, [other])
    store = PlanStore(data)
    assert sorted(store.list()["name"]) == sorted([name, other])
    assert store.versions(name)["version"].tolist() == [1] and store.versions(other)["version"].tolist() == [
        1
    ]


def test_two_proposals_are_compared_on_the_proposals_page(data, sample_dir):
    at = _session(sample_dir)
    _split(at)
    a = at.session_state["proposal"]
    _goto(at, "proposals")
    at.text_input(key="save_as_name").input("乙方案")
    [b for b in at.button if b.label == "另存为新方案"][0].click().run()
    _goto(at, "grids")
    _split(at)
    _goto(at, "proposals")
    at.selectbox(key="cmp_a_name").set_value(a).run()
    at.selectbox(key="cmp_b_name").set_value("乙方案").run()
    at.button(key="btn_compare").click().run()
    _ok(at)
    table = at.dataframe[-1].value
    assert table.columns.tolist() == ["指标", f"{a}@1", "乙方案@2"]
    rows = table.set_index("指标")
    assert rows.loc["网格数"].tolist()[1] == str(len(at.session_state["plan"].grids))
    assert int(rows.loc["所属网格不同的住户数"].iloc[0].replace(",", "")) > 0
    assert at.session_state["comparison"][2].grids["proposal"].nunique() == 2


def test_without_a_writable_store_the_app_works_and_says_nothing_is_saved(tmp_path, monkeypatch, sample_dir):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.delenv("GRIDPLAN_DB", raising=False)
    monkeypatch.setenv("GRIDPLAN_DATA", str(blocker))
    at = _session(sample_dir)
    assert at.session_state["save_conflict"]
    assert any("GRIDPLAN_DATA" in e.value or "文件夹" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    n = len(at.session_state["plan"].grids)
    _split(at)
    assert len(at.session_state["plan"].grids) == n + 1 and at.session_state["proposal_version"] is None
