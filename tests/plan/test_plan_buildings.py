"""Moving one building (楼栋) between grids, on the bundled sample as the app builds the plan: the
targets offered are exactly the moves accepted, the move leaves what its preview said, the plan
stays sound (households in exactly one grid, grids tiling the community), undo gives the grids
back byte for byte, and a saved plan keeps the moved building."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.errors import InputError
from gridplan.plan.model import Plan
from gridplan.plan.store import PlanStore
from gridplan.plan.store_pieces import frame_bytes
from tests.conftest import examples


@pytest.fixture(scope="module")
def sample(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.workflows import plan_grids

    s = load_sample(sample_dir)
    return s, plan_grids(s, n_jobs=1)


def _rows(sample) -> gpd.GeoDataFrame:
    """The household rows the plan holds: the partition's planned rows when it split a tower
    given as one row by entrance (as along the sample's streets), else the input's."""
    s, result = sample
    return s["households"] if result.parts is None else result.parts


def _plan(sample, households=None, buildings=None) -> Plan:
    """A plan of the sample's grids on its rows, or on ``households``, edited :func:`_rows`."""
    s, result = sample
    if households is not None and result.parts is not None:
        result = dataclasses.replace(result, parts=households)
    return Plan.from_partition(
        result,
        s["households"] if households is None else households,
        s["communities"],
        buildings=s["buildings"] if buildings is None else buildings,
        estates=s["estates"],
        barriers=s.get("barriers"),
    )


@pytest.fixture(scope="module")
def plan(sample):
    """One plan for the module; every test leaves it as it found it (undo)."""
    return _plan(sample)


def _households(plan) -> dict:
    return plan.grids_metric["households"].astype(int).to_dict()


def _bytes(plan) -> tuple[bytes, bytes]:
    return frame_bytes(plan.grids_metric), frame_bytes(plan.units_metric)


def _building_households(plan, bid) -> int:
    hh = plan.households
    return int(hh.loc[hh["building_id"] == bid, "households"].sum())


def _targets(plan, bid) -> dict:
    """``building_targets``, empty for a building that cannot be cut out of its estate part."""
    try:
        return plan.building_targets(bid)
    except InputError:
        return {}


def _shared_buildings(plan) -> list:
    """Buildings whose unit holds other buildings too (they are cut out to move), in row order."""
    a = plan.assignment
    per_unit = a.groupby("unit_id")["building_id"].nunique()
    return a.loc[a["unit_id"].map(per_unit) > 1, "building_id"].tolist()


def _community_area(plan) -> float:
    return shapely.area(shapely.union_all(plan.communities.to_crs(plan.crs).geometry.values))


def _check_sound(plan, community_area: float) -> None:
    """The plan's invariants, and grids and units tiling the community: union = community area,
    and no overlaps (sum of areas = area of the union), both within 1 m²."""
    assert plan.check() == []
    for geoms in (plan.grids_metric.geometry.values, plan.units_metric.geometry.values):
        union = shapely.area(shapely.union_all(geoms))
        assert abs(union - community_area) < 1.0
        assert shapely.area(geoms).sum() - union < 1.0
    a = plan.assignment
    assert a["grid_id"].notna().all()
    by_grid = a.groupby("grid_id")["households"].sum()
    assert (by_grid.sort_index() == plan.grids_metric["households"].sort_index()).all()


def _one_piece(geom) -> bool:
    return int((shapely.area(shapely.get_parts(geom)) >= 1.0).sum()) == 1


def _check_moved(plan, bid, src: str, to: str, preview, before: dict) -> None:
    """The move just made did what its preview said, and moved exactly the building."""
    after = _households(plan)
    n = _building_households(plan, bid)
    counts = {g.grid_id: (g.before, g.after) for g in preview.grids}
    assert counts == {src: (before[src], before[src] - n), to: (before[to], before[to] + n)}
    assert {k: v for k, v in after.items() if k not in counts} == {
        k: v for k, v in before.items() if k not in counts
    }
    assert (after[src], after[to]) == (before[src] - n, before[to] + n)
    action = plan.edits[-1]
    assert action == {"op": "move_building", "building": bid, "unit": action["unit"], "from": src, "to": to}
    a = plan.assignment
    mine = a["building_id"] == bid
    # the building's households, and only they, are the unit it moved as
    assert (a.loc[mine, "grid_id"] == to).all()
    assert set(a.loc[a["unit_id"] == action["unit"], "building_id"]) == {bid}
    g = plan.grids_metric.geometry
    assert _one_piece(g[src]) and _one_piece(g[to])


@pytest.mark.slow  # every target of every building sampled: in CI (make test-ci)
def test_building_targets_are_exactly_the_moves_move_building_accepts(plan):
    area = _community_area(plan)
    start = _bytes(plan)
    grids = plan.grids_metric
    offered = refused = outside = uncut = 0
    for bid in _shared_buildings(plan)[::10]:
        src = plan.assignment.set_index("building_id").at[bid, "grid_id"]
        try:
            targets = plan.building_targets(bid)
        except InputError as exc:  # its estate part would be left in pieces: no move at all
            assert "cannot be cut out" in str(exc) and exc.message_zh
            targets, uncut = {}, uncut + 1
        community = grids.at[src, "community_id"]
        others = [g for g in grids.index[grids["community_id"] == community] if g != src]
        assert list(targets) == [g for g in others if g in targets]  # grid code order
        for to in others:
            if to not in targets:
                with pytest.raises(InputError) as info:
                    plan.move_building(bid, to)
                assert info.value.message_zh and info.value.fix
                refused += 1
                continue
            before, before_bytes = _households(plan), _bytes(plan)
            plan.move_building(bid, to)
            _check_moved(plan, bid, src, to, targets[to], before)
            _check_sound(plan, area)
            after_bytes = _bytes(plan)
            assert plan.undo() and _bytes(plan) == before_bytes
            assert plan.redo() and _bytes(plan) == after_bytes
            assert plan.undo() and _bytes(plan) == before_bytes
            offered += 1
            outside += bool(targets[to].outside)
    assert _bytes(plan) == start and plan.check() == []
    # the sample has accepted and refused moves, and moves that leave a grid outside the band
    assert offered > 25 and refused > 100 and outside > 5 and uncut > 3, (offered, refused, outside, uncut)


def test_a_building_alone_in_its_unit_moves_with_its_unit(plan):
    a = plan.assignment
    per_unit = a.groupby("unit_id")["building_id"].nunique()
    alone = a[a["unit_id"].map(per_unit) == 1]
    tried = 0
    for bid, uid in zip(alone["building_id"], alone["unit_id"]):
        unit_targets = plan.move_targets(uid)
        if not unit_targets:
            continue
        assert plan.building_targets(bid) == unit_targets
        to = next(iter(unit_targets))
        plan.move_unit(uid, to)
        by_unit = _bytes(plan)
        plan.undo()
        plan.move_building(bid, to)
        assert _bytes(plan) == by_unit
        assert plan.edits[-1]["unit"] == uid and plan.edits[-1]["op"] == "move_building"
        plan.undo()
        tried += 1
        if tried == 5:
            break
    assert tried == 5


def test_a_building_cut_out_keeps_its_footprint(plan, sample):
    """The building's new cell holds its footprint (the cut follows the buildings, not a
    straight line through them)."""
    s, _ = sample
    fp = s["buildings"].to_crs(plan.crs).set_index("building_id").geometry
    shares = []
    for bid in _shared_buildings(plan)[::12]:
        targets = _targets(plan, bid)
        if not targets:
            continue
        plan.move_building(bid, next(iter(targets)))
        units = plan.units_metric.set_index("unit_id").geometry
        cell = units[plan.edits[-1]["unit"]]
        shares.append(shapely.area(shapely.intersection(fp[bid], cell)) / fp[bid].area)
        plan.undo()
    assert len(shares) > 5 and min(shares) > 0.95, shares


def test_refusals_name_the_building_and_the_fix(sample, plan):
    grid = plan.grids_metric.index[0]
    with pytest.raises(InputError) as info:
        plan.move_building("NO-SUCH-BUILDING", grid)
    assert "NO-SUCH-BUILDING" in str(info.value) and "building_id" in info.value.fix
    assert "NO-SUCH-BUILDING" in info.value.message_zh
    with pytest.raises(InputError):
        plan.building_targets("NO-SUCH-BUILDING")

    s, _ = sample
    # a building whose households lie in two units cannot move as one
    a = plan.assignment
    first, other = a.iloc[0], a[a["unit_id"] != a.iloc[0]["unit_id"]].iloc[0]
    hh = _rows(sample).copy()
    hh.loc[hh["building_id"] == other["building_id"], "building_id"] = first["building_id"]
    two = _plan(sample, households=hh)
    with pytest.raises(InputError) as info:
        two.building_targets(first["building_id"])
    assert "2 places" in str(info.value) and first["unit_id"] in str(info.value)
    with pytest.raises(InputError):
        two.move_building(first["building_id"], grid)

    # a footprint without households has nothing to move
    extra = s["buildings"].iloc[[0]].copy()
    extra["building_id"] = "EMPTY-1"
    empty = _plan(sample, buildings=pd.concat([s["buildings"], extra], ignore_index=True))
    with pytest.raises(InputError) as info:
        empty.move_building("EMPTY-1", grid)
    assert "no households" in str(info.value)


def test_footprints_alone_say_which_households_a_building_has(sample):
    """Without a building_id column the households in a footprint are the building's."""
    s, _ = sample
    plan = _plan(sample, households=_rows(sample).drop(columns=["building_id"]))
    bid = next(b for b in _shared_buildings(_plan(sample)) if _targets(plan, b))
    fp = s["buildings"].set_index("building_id").geometry[bid]
    inside = _rows(sample).within(fp).to_numpy()
    assert inside.any()
    to = next(iter(plan.building_targets(bid)))
    plan.move_building(bid, to)
    assert (plan.assignment.loc[inside, "grid_id"] == to).all()
    assert plan.check() == []


def test_a_moved_building_survives_save_and_open(plan, tmp_path):
    bid = next(b for b in _shared_buildings(plan) if _targets(plan, b))
    to = next(iter(plan.building_targets(bid)))
    before = _bytes(plan)
    plan.move_building(bid, to)
    try:
        after = _bytes(plan)
        store = PlanStore(tmp_path)
        store.save("楼栋", plan)
        back = PlanStore(tmp_path).open("楼栋")
        assert _bytes(back) == after
        assert back.edits == plan.edits and back.check() == []
        assert back.assignment["unit_id"].equals(plan.assignment["unit_id"])
        assert back.undo() and _bytes(back) == before
        assert back.redo() and _bytes(back) == after

        path = plan.save(tmp_path / "plan.gpkg")  # the GeoPackage keeps the building's unit too
        opened = Plan.load(path)
        assert opened.check() == []
        assert opened.assignment["grid_id"].equals(plan.assignment["grid_id"])
        assert np.array_equal(opened.grids_metric["households"], plan.grids_metric["households"])
        assert plan.edits[-1]["unit"] in set(opened.units_metric["unit_id"])
    finally:
        plan.undo()
    assert _bytes(plan) == before


_pick = st.tuples(st.integers(0, 10**6), st.integers(0, 10**6))


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(_pick, min_size=1, max_size=3))
def test_random_building_moves_keep_the_plan_sound(plan, picks):
    area = _community_area(plan)
    start = _bytes(plan)
    buildings = plan.households["building_id"].tolist()
    made = 0
    try:
        for a, b in picks:
            bid = buildings[a % len(buildings)]
            targets = _targets(plan, bid)
            if not targets:
                continue
            to = list(targets)[b % len(targets)]
            before = _households(plan)
            src = plan.assignment.set_index("building_id").at[bid, "grid_id"]
            plan.move_building(bid, to)
            made += 1
            _check_moved(plan, bid, src, to, targets[to], before)
            _check_sound(plan, area)
    finally:
        for _ in range(made):
            assert plan.undo()
    assert _bytes(plan) == start


def test_the_history_says_which_building_moved_in_words(plan):
    from gridplan.i18n import edit_text

    bid = next(b for b in _shared_buildings(plan) if _targets(plan, b))
    to = next(iter(plan.building_targets(bid)))
    src = plan.assignment.set_index("building_id").at[bid, "grid_id"]
    plan.move_building(bid, to)
    try:
        action = plan.edits[-1]
        assert edit_text(action, "zh") == f"已将 楼栋 {bid} 从网格 {src} 移到 {to}"
        assert edit_text(action, "en") == f"Moved building {bid} from grid {src} to {to}"
    finally:
        plan.undo()
    # a building alone in its estate part moves as that part; the text still names the building
    alone = {"op": "move_building", "building": "B7", "unit": "C1/E:XQ9#2", "from": "C1-01", "to": "C1-02"}
    assert edit_text(alone, "zh") == "已将 楼栋 B7 从网格 C1-01 移到 C1-02"
