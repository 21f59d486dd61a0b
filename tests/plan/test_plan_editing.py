"""What a plan says of an edit before it is made: the move targets it offers are exactly the moves
``move_unit`` accepts, and the previews of move, split and merge give the households the real
edit then leaves (on the bundled sample, with its barriers, as the app builds the plan)."""

from __future__ import annotations

import pytest

from gridplan.errors import InputError
from gridplan.plan.edits import EditPreview


@pytest.fixture(scope="module")
def sample_plan(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample(sample_dir)
    return Plan.from_partition(
        plan_grids(s, n_jobs=1),
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s.get("barriers"),
    )


def _households(plan) -> dict:
    return plan.grids.set_index("grid_id")["households"].astype(int).to_dict()


def _check_preview(plan, preview: EditPreview, before: dict) -> None:
    """``preview`` is what the edit just made did: every grid it names has the households it said,
    a grid it removed is gone, a grid it made is new, and nothing else changed."""
    after = _households(plan)
    named = set()
    for g in preview.grids:
        named.add(g.grid_id)
        assert g.before == before.get(g.grid_id)
        assert g.after == after.get(g.grid_id)
        in_band = g.after is None or plan.min_households <= g.after <= plan.max_households
        assert g.outside is not in_band
        if g.after is not None:
            status = plan.grids.set_index("grid_id").at[g.grid_id, "status"]
            assert (status != "ok") is g.outside, (g, status)
    assert {k: v for k, v in after.items() if k not in named} == {
        k: v for k, v in before.items() if k not in named
    }
    assert set(preview.outside) == {g for g in preview.grids if g.outside}


@pytest.mark.slow  # every target of every unit of the sample: in CI (make test-ci)
def test_move_targets_are_exactly_the_moves_move_unit_accepts(sample_plan):
    plan = sample_plan
    units = plan.units
    offered = refused = outside = 0
    for uid, own in zip(units["unit_id"], units["grid_id"]):
        targets = plan.move_targets(uid)
        neighbours = plan.unit_neighbour_grids(uid)
        assert set(targets) <= set(neighbours)
        assert list(targets) == [g for g in neighbours if g in targets]  # grid code order
        for to in neighbours:
            before = _households(plan)
            if to in targets:
                plan.move_unit(uid, to)  # accepted, as offered
                assert plan.edits[-1] == {"op": "move", "unit": uid, "from": own, "to": to}
                _check_preview(plan, targets[to], before)
                outside += bool(targets[to].outside)
                assert plan.undo()
                offered += 1
            else:
                with pytest.raises(InputError):
                    plan.move_unit(uid, to)
                refused += 1
    assert plan.check() == []
    # the sample has both kinds, and moves that leave a grid outside the band
    assert offered > 100 and refused > 10 and outside > 10, (offered, refused, outside)


def test_a_locked_grid_is_no_target_and_its_units_have_none(sample_plan):
    plan = sample_plan
    units = plan.units
    uid, to = next((u, t) for u in units["unit_id"] for t in plan.move_targets(u))
    own = units.set_index("unit_id").at[uid, "grid_id"]
    plan.lock(to)
    try:
        assert to not in plan.move_targets(uid)
        assert to not in plan.merge_targets(own)
        with pytest.raises(InputError):
            plan.preview_move(uid, to)
    finally:
        plan.undo()
    plan.lock(own)
    try:
        assert plan.move_targets(uid) == {}
        assert plan.merge_targets(own) == {}
    finally:
        plan.undo()


def test_split_and_merge_previews_equal_the_edits(sample_plan):
    plan = sample_plan
    n_units = plan.units["grid_id"].value_counts()
    splittable = sorted(n_units[n_units >= 2].index)
    single = sorted(n_units[n_units == 1].index)
    for gid in splittable[:12]:
        before = _households(plan)
        preview = plan.preview_split(gid)
        plan.split_grid(gid)
        new = plan.edits[-1]["new"]
        assert [g.grid_id for g in preview.grids] == sorted([gid, new])
        assert next(g for g in preview.grids if g.grid_id == new).before is None
        _check_preview(plan, preview, before)
        assert plan.undo()
    if single:
        with pytest.raises(InputError):
            plan.preview_split(single[0])
    merged = 0
    for gid in plan.grids["grid_id"][:12]:
        targets = plan.merge_targets(gid)
        assert list(targets) == plan.neighbours(gid)  # nothing locked: every neighbour
        for other, preview in targets.items():
            before = _households(plan)
            assert preview == plan.preview_merge(gid, other)
            plan.merge_grids(gid, other)
            gone = plan.edits[-1]["gone"]
            assert next(g for g in preview.grids if g.grid_id == gone).after is None
            _check_preview(plan, preview, before)
            assert plan.undo()
            merged += 1
    assert merged > 10
    assert plan.check() == []


def test_previews_change_nothing(sample_plan):
    plan = sample_plan
    version, history, redo = plan.version, list(plan.history), plan.can_redo
    for uid in plan.units["unit_id"][:50]:
        plan.move_targets(uid)
    for gid in plan.grids["grid_id"][:10]:
        plan.merge_targets(gid)
        try:
            plan.preview_split(gid)
        except InputError:
            pass
    assert (plan.version, plan.history, plan.can_redo) == (version, history, redo)
