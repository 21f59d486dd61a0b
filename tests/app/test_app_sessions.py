"""Sessions of the app, driven with AppTest in one process (as the browser tabs of one server).

Every new session opens on a copy of one shared sample plan, and the sessions share the map
layers of a plan state: what each planner sees is the same as if the session had built its own
plan, and an edit in one session never reaches another session or the shared plan.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from geopandas.testing import assert_geodataframe_equal

from gridplan.app.gridmap import grid_payload
from gridplan.io.projection import to_wgs84
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _open():
    """A new session (a new tab): the app's first run."""
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    return at


def _map(at) -> dict:
    """What this run gave the grids map: the layers' ``version`` and, when sent, their ``data``."""
    (comp,) = at.get("component_instance")
    return json.loads(comp.proto.json_args)


def _split_and_lock(at):
    """Split a grid of four units or more and lock it, in the app; the split grid's id."""
    plan = at.session_state["plan"]
    counts = plan.units["grid_id"].value_counts()
    gid = counts[counts >= 4].index.sort_values()[0]
    at.selectbox(key="sel_grid_box").set_value(gid).run()
    at.button(key="btn_split").click().run()
    if "btn_edit_anyway" in [b.key for b in at.button]:
        at.button(key="btn_edit_anyway").click().run()
    at.button(key="btn_lock").click().run()
    _ok(at)
    return gid


@pytest.fixture(scope="module")
def fresh_plan():
    """The sample's plan built from its files, as a session built its own before the plans were
    shared: the plan every new session must show."""
    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    return Plan.from_partition(
        plan_grids(s, n_jobs=1),
        s["households"],
        s["communities"],
        buildings=s.get("buildings"),
        estates=s.get("estates"),
        barriers=s.get("barriers"),
        facilities=s.get("facilities"),
        min_households=GRID_MIN_HOUSEHOLDS,
        max_households=GRID_MAX_HOUSEHOLDS,
    )


def test_a_new_session_shows_the_plan_and_map_it_would_have_built(sample_dir, fresh_plan):
    at = _open()
    plan = at.session_state["plan"]
    assert_geodataframe_equal(plan.grids, fresh_plan.grids)
    assert_geodataframe_equal(plan.units, fresh_plan.units)
    assert plan.edits == [] and plan.locked == frozenset()
    sent = _map(at)
    expected = grid_payload(
        to_wgs84(fresh_plan.grids),
        communities=to_wgs84(fresh_plan.communities),
        micro_grids=fresh_plan.micro_grids,
        lang="zh",
    )
    assert sent["data"] == expected.text and sent["version"] == expected.version


def test_an_edit_in_one_session_never_reaches_another(sample_dir, fresh_plan):
    from gridplan.app.sources import sample_plan

    a, b = _open(), _open()
    assert a.session_state["plan"] is not b.session_state["plan"]
    start = _map(b)["version"]
    gid = _split_and_lock(a)
    edited = a.session_state["plan"]
    assert len(edited.grids) == len(fresh_plan.grids) + 1 and gid in edited.locked
    assert _map(a)["version"] != start

    # B, rerun after A's edit, and C, opened after it, still have the sample's grids and map
    b.run()
    c = _open()
    for at in (b, c):
        _ok(at)
        plan = at.session_state["plan"]
        assert_geodataframe_equal(plan.grids, fresh_plan.grids)
        assert plan.edits == [] and plan.locked == frozenset()
        assert _map(at)["version"] == start
    # nor has the shared plan every session copies
    shared = sample_plan(GRID_MIN_HOUSEHOLDS, GRID_MAX_HOUSEHOLDS, 0)
    assert shared.edits == [] and shared.locked == frozenset()
    assert_geodataframe_equal(shared.grids, fresh_plan.grids)

    # and an edit in C leaves A's plan as A made it
    before = a.session_state["plan"].grids
    _split_and_lock(c)
    a.run()
    _ok(a)
    assert_geodataframe_equal(a.session_state["plan"].grids, before)
    assert a.session_state["plan"].history == edited.history


def test_a_copied_plan_is_edited_and_undone_alone(fresh_plan):
    """What the sessions rely on: a deep copy of a plan shares no state with the plan."""
    original = fresh_plan.grids
    version = fresh_plan.version
    mine = copy.deepcopy(fresh_plan)
    counts = mine.units["grid_id"].value_counts()
    gid = counts[counts >= 4].index.sort_values()[0]
    new_id = mine.split_grid(gid)[1]
    mine.lock(gid)
    uid = mine.units["unit_id"].iloc[0]
    to = next(iter(mine.move_targets(uid)), None)
    if to is not None:
        mine.move_unit(uid, to)
    assert new_id in set(mine.grids["grid_id"])
    assert fresh_plan.edits == [] and fresh_plan.locked == frozenset() and fresh_plan.version == version
    assert_geodataframe_equal(fresh_plan.grids, original)
    while mine.undo():
        pass
    assert_geodataframe_equal(mine.grids, original)
    assert mine.version == version
