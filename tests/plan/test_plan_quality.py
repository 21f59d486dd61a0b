"""A plan's geometry figures (Plan.geometry_figures) after the partition and after edits: the
partition's own figures at first, then those of the grids as edited, measured independently."""

from __future__ import annotations

import pytest
import shapely

from gridplan.geometry.quality import geometry_quality
from gridplan.plan.model import Plan


@pytest.fixture(scope="module")
def planned(sample_every_layer):
    layers, res = sample_every_layer
    plan = Plan.from_partition(
        res,
        layers["households"],
        layers["communities"],
        buildings=layers["buildings"],
        estates=layers["estates"],
        barriers=layers["barriers"],
    )
    return layers, res, plan


def test_a_new_plan_has_the_partitions_figures(planned):
    layers, res, plan = planned
    f = plan.geometry_figures(streets=layers["streets"])
    t = res.report["total"]
    for k in ("buildings_cut", "estates_cut", "boundary_on_features", "grids_enclosed"):
        assert f[k] == t[k], k


def test_figures_follow_an_edit(planned):
    layers, _, plan = planned
    before = plan.geometry_figures(streets=layers["streets"])
    units = plan.units
    uid, to = next((u, t) for u in units["unit_id"] for t in plan.move_targets(u))
    plan.move_unit(uid, to)
    try:
        after = plan.geometry_figures(streets=layers["streets"])
        crs = plan.crs
        grids = plan.grids.to_crs(crs).reset_index()
        comm = layers["communities"].to_crs(crs)
        q = geometry_quality(
            grids,
            comm,
            buildings=layers["buildings"].to_crs(crs),
            streets=layers["streets"].to_crs(crs).geometry,
            barriers=layers["barriers"].to_crs(crs).geometry,
            estates=layers["estates"].to_crs(crs).clip(shapely.union_all(comm.geometry.values)),
            split_buildings=_split(plan),
        )
        assert after["buildings_cut"] == q["buildings_cut"]
        assert abs(after["boundary_on_features"] - q["boundary_on_features"]) <= 0.002
    finally:
        plan.undo()
    assert plan.geometry_figures(streets=layers["streets"]) == before


def _split(plan: Plan) -> list[str]:
    a = plan.assignment.dropna(subset=["building_id"])
    n = a.groupby(a["building_id"].astype(str))["grid_id"].nunique()
    return n.index[n > 1].tolist()


def test_figures_after_many_edits_are_those_measured_from_scratch(planned):
    """Only the communities an edit touched are measured again; the others' figures are kept.
    After every edit (moves in several communities, a split, undo, redo) the figures equal
    :func:`partition_quality` run on the plan's grids with nothing kept."""
    from gridplan.grids.quality_report import partition_quality

    layers, _, plan = planned
    streets = layers["streets"]

    def from_scratch() -> dict:
        asg = plan.assignment
        total, _ = partition_quality(
            plan.grids_metric.reset_index()[["grid_id", "community_id", "geometry"]],
            layers["communities"].to_crs(plan.crs),
            plan.crs,
            buildings=layers["buildings"],
            estates=layers["estates"],
            streets=streets,
            barriers=layers["barriers"],
            estate=asg["estate_id"].to_numpy(object),
            grid_of=asg["grid_id"].to_numpy(object),
            split=_split(plan),
        )
        return total

    def check() -> None:
        got = plan.geometry_figures(streets=streets)
        want = from_scratch()
        for k in (
            "buildings_cut",
            "estates_cut",
            "boundary_on_features",
            "buildings_cut_ids",
            "estates_cut_ids",
        ):
            assert got[k] == want[k], k

    units = plan.units
    moves, seen = [], set()
    for u, c in zip(units["unit_id"], units["community_id"]):
        targets = list(plan.move_targets(u)) if c not in seen else []
        if targets:
            moves.append((u, targets[0]))
            seen.add(c)
        if len(moves) == 3:
            break
    edits = 0
    for uid, to in moves:
        plan.move_unit(uid, to)
        edits += 1
        check()
    per = plan.units["grid_id"].value_counts()
    plan.split_grid(per[per >= 3].index.sort_values()[0])
    edits += 1
    check()
    plan.undo()
    check()
    plan.redo()
    check()
    for _ in range(edits):
        plan.undo()
    check()
