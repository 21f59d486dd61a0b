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
