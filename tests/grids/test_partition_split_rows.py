"""A building given as one household row with more than the maximum is split by entrance:
its footprint into slices along the long axis, its row into one row per slice, each with its
share of the households; without a footprint, or with ``keep_buildings_whole``, it stays whole."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import examples
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gridplan.grids.api import partition
from gridplan.grids.footprints import entrance_shares

UTM = "EPSG:32649"
X0, Y0 = 300_000.0, 3_390_000.0
LO, HI = 300, 500
TOWER = "B00253"  # the sample's 540-household tower, one row in households.csv


def _planned(res):
    """The rows as planned: ``parts`` when a row was split, else the assignment."""
    return res.assignment if res.parts is None else res.parts


def _check_rows(res, households: gpd.GeoDataFrame) -> None:
    """The assignment is the input rows in order (the data contract); the planned rows list
    every input row in order, a split row's parts summing to it; the grids hold their rows."""
    asg = res.assignment
    assert asg.index.equals(households.index) and len(asg) == len(households)
    assert (asg["households"].to_numpy() == households["households"].to_numpy()).all()
    planned = _planned(res)
    labels = planned.index.to_numpy()
    assert (labels[np.r_[True, labels[1:] != labels[:-1]]] == households.index.to_numpy()).all()
    per_row = planned.groupby(level=0, sort=False)["households"].sum()
    assert (per_row.to_numpy() == households["households"].to_numpy()).all()
    if "population" in households:
        pop = planned.groupby(level=0, sort=False)["population"].sum()
        assert (pop.to_numpy() == households["population"].to_numpy()).all()
    # households conserved: a grid holds the sum of its planned rows
    per_grid = planned.groupby("grid_id")["households"].sum()
    grids = res.grids.set_index("grid_id")["households"]
    assert (per_grid.reindex(grids.index).to_numpy() == grids.to_numpy()).all()
    assert int(grids.sum()) == int(households["households"].sum())
    if res.parts is not None:
        # a split row names all its parts' grids and takes the largest part's grid
        for label, grp in res.parts.groupby(level=0, sort=False):
            if len(grp) > 1:
                want = ";".join(f"{g}:{h}" for g, h in zip(grp["grid_id"], grp["households"]))
                assert asg.loc[label, "grid_parts"] == want
                assert asg.loc[label, "grid_id"] == grp["grid_id"].iloc[int(np.argmax(grp["households"]))]
            else:
                assert pd.isna(asg.loc[label, "grid_parts"])
                assert asg.loc[label, "grid_id"] == grp["grid_id"].iloc[0]


# --- the sample district, every layer ----------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(sample_every_layer):
    return sample_every_layer


def test_sample_tower_of_one_row_is_split_by_entrance(sample_run):
    layers, res = sample_run
    hh = layers["households"]
    tower = hh[hh["building_id"] == TOWER]
    assert len(tower) == 1 and int(tower["households"].iloc[0]) == 540
    _check_rows(res, hh)
    asg = _planned(res)
    parts = asg[asg["building_id"] == TOWER]
    assert parts["households"].tolist() == [270, 270]
    assert parts["building_part"].tolist() == [f"{TOWER}#1", f"{TOWER}#2"]
    assert parts["grid_id"].nunique() == 2
    assert asg.loc[asg["building_id"] != TOWER, "building_part"].isna().all()
    # every grid of the tower's community is in the band now
    cid = parts["grid_id"].iloc[0].rsplit("-", 1)[0]
    mine = res.grids[res.grids["community_id"] == cid]
    assert mine["households"].between(LO, HI).all(), mine[["grid_id", "households", "reason"]]
    assert (mine["status"] == "ok").all()
    t = res.report["total"]
    assert t["buildings_split"] == 1 and t["buildings_cut"] == 0
    assert res.report["communities"][cid]["buildings_split"] == 1


def test_sample_tower_slices_run_across_its_long_axis(sample_run):
    layers, res = sample_run
    crs = res.grids.estimate_utm_crs()
    fp = layers["buildings"].to_crs(crs).set_index("building_id").geometry[TOWER]
    grids = res.grids.to_crs(crs)
    asg = _planned(res)
    held = [
        shapely.area(shapely.intersection(fp, grids.set_index("grid_id").geometry[g])) / fp.area
        for g in asg.loc[asg["building_id"] == TOWER, "grid_id"]
    ]
    # two halves, one in each grid, nothing of the footprint in a third grid
    assert all(0.45 < h < 0.55 for h in held), held
    assert abs(sum(held) - 1.0) < 1e-6
    # the cut between them is across the long axis: shorter than the footprint's long side
    a, b = asg.loc[asg["building_id"] == TOWER, "grid_id"]
    g = grids.set_index("grid_id").geometry
    cut = shapely.intersection(shapely.intersection(g[a], g[b]), fp)
    rect = shapely.minimum_rotated_rectangle(fp)
    sides = np.hypot(*np.diff(np.asarray(rect.exterior.coords)[:3], axis=0).T)
    assert shapely.length(cut) <= sides.min() + 1e-6


# --- small communities: whole without footprints or when asked ---------------------------------


def _town(tower_hh: int, n_small: int, rng: np.random.Generator, *, footprints: bool = True):
    """A 600 x 400 m community with a street cross, one tower of one row among small buildings."""
    community = shapely.box(X0, Y0, X0 + 600, Y0 + 400)
    streets = [
        shapely.LineString([(X0 - 50, Y0 + 200), (X0 + 650, Y0 + 200)]),
        shapely.LineString([(X0 + 300, Y0 - 50), (X0 + 300, Y0 + 450)]),
    ]
    # the tower in the first quarter, long side along x; small buildings on a lattice
    fps = [shapely.box(X0 + 60, Y0 + 60, X0 + 180, Y0 + 90)]
    spots = [(X0 + 40 + 70 * (i % 8), Y0 + 120 + 45 * (i // 8)) for i in range(48)]
    spots = [p for p in spots if not (p[0] < 200 and p[1] < 130)]
    spots = [spots[i] for i in sorted(rng.choice(len(spots), n_small, replace=False))]
    fps += [shapely.box(x, y, x + 20, y + 12) for x, y in spots]
    hh = np.r_[tower_hh, rng.integers(20, 90, n_small)].astype(np.int64)
    bid = [f"B{i}" for i in range(len(fps))]
    xy = shapely.points([(g.centroid.x, g.centroid.y) for g in fps])
    households = gpd.GeoDataFrame({"building_id": bid, "households": hh}, geometry=xy, crs=UTM).to_crs(4326)
    buildings = gpd.GeoDataFrame({"building_id": bid}, geometry=fps if footprints else xy, crs=UTM).to_crs(
        4326
    )
    communities = gpd.GeoDataFrame({"community_id": ["C1"], "name": ["测试"]}, geometry=[community], crs=UTM)
    layers = {
        "households": households,
        "communities": communities.to_crs(4326),
        "buildings": buildings,
        "streets": gpd.GeoDataFrame(geometry=streets, crs=UTM).to_crs(4326),
    }
    return layers


def _run(layers, **kw):
    return partition(
        layers["households"],
        layers["communities"],
        buildings=layers["buildings"],
        streets=layers["streets"],
        n_jobs=1,
        **kw,
    )


def _whole(res, tower_hh: int) -> None:
    asg = res.assignment
    assert res.parts is None and asg.index.is_unique
    assert "building_part" not in asg.columns and "grid_parts" not in asg.columns
    gid = asg.loc[asg["building_id"] == "B0", "grid_id"].iloc[0]
    row = res.grids.set_index("grid_id").loc[gid]
    assert row["status"] == "over" and row["reason"].startswith("unit_over_max")
    assert row["households"] == tower_hh
    assert res.report["total"]["buildings_split"] in (0, None)


def test_keep_buildings_whole_keeps_the_tower_of_one_row_whole():
    layers = _town(540, 20, np.random.default_rng(1))
    _whole(_run(layers, keep_buildings_whole=True), 540)


def test_tower_known_only_as_a_point_stays_whole():
    # no footprint: no ground to divide by entrance
    layers = _town(540, 20, np.random.default_rng(1), footprints=False)
    res = _run(layers)
    _whole(res, 540)
    _check_rows(res, layers["households"])


@settings(
    max_examples=examples(8),
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(tower_hh=st.integers(HI + 1, 3 * HI + 50), n_small=st.integers(8, 28), seed=st.integers(0, 2**16))
def test_tower_of_one_row_parts_fit_and_sum_to_the_row(tower_hh, n_small, seed):
    layers = _town(tower_hh, n_small, np.random.default_rng(seed))
    res = _run(layers)
    _check_rows(res, layers["households"])
    asg = _planned(res)
    parts = asg[asg["building_id"] == "B0"]
    assert len(parts) == math.ceil(tower_hh / HI)  # the fewest parts
    assert int(parts["households"].sum()) == tower_hh
    assert (parts["households"] <= HI).all()
    assert parts["building_part"].tolist() == [f"B0#{k + 1}" for k in range(len(parts))]
    t = res.report["total"]
    assert t["buildings_split"] == 1 and t["buildings_cut"] == 0
    # the same input gives the same parts and grids
    again = _run(layers)
    assert again.parts["grid_id"].tolist() == asg["grid_id"].tolist()
    assert again.assignment.equals(res.assignment)


@given(total=st.integers(1, 100_000), hi=st.integers(1, 2_000))
def test_entrance_shares_are_whole_even_and_fit(total, hi):
    k = math.ceil(total / hi)
    s = entrance_shares(total, k)
    assert len(s) == k and int(s.sum()) == total
    assert s.max() <= hi and s.max() - s.min() <= 1
    assert (np.diff(s) <= 0).all()


def test_a_plan_of_the_split_tower_counts_as_the_partition(sample_run):
    # the editable plan holds the planned rows: the tower's halves stay in their two grids
    from gridplan.plan import Plan

    layers, res = sample_run
    plan = Plan.from_partition(
        res, layers["households"], layers["communities"], buildings=layers["buildings"]
    )
    got = plan.grids.set_index("grid_id")["households"].sort_index()
    want = res.grids.set_index("grid_id")["households"].sort_index()
    assert got.to_dict() == want.to_dict()
    assert plan.check() == []


def test_a_replan_compares_each_part_of_a_split_row_with_its_previous_part():
    """A previous households file holds a split tower as one row at its entrance, its parts in
    ``grid_parts``: each planned part takes its own previous grid (not 'new', not the row's)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from gridplan.grids.inputs import previous_ids

    crs = "EPSG:32650"
    given = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.Point(100, 0)], crs=crs)
    previous = gpd.GeoDataFrame(
        {"grid_id": ["C-01", "C-02"], "grid_parts": ["C-01:300;C-03:240", None]},
        geometry=given.geometry.values,
        crs=crs,
    )
    # the tower (row 0) split in two parts placed on its footprint's slices, 20 m from the entrance
    planned = gpd.GeoDataFrame(
        geometry=[shapely.Point(-20, 0), shapely.Point(20, 0), shapely.Point(100, 0)], crs=crs
    )
    src = np.array([0, 0, 1])
    got = previous_ids(previous, planned, crs, (src, given))
    assert got.tolist() == ["C-01", "C-03", "C-02"]
    # split into three parts now: the parts cannot be paired, each takes the row's grid
    three = gpd.GeoDataFrame(geometry=[shapely.Point(x, 0) for x in (-20, 0, 20, 100)], crs=crs)
    got = previous_ids(previous, three, crs, (np.array([0, 0, 0, 1]), given))
    assert got.tolist() == ["C-01", "C-01", "C-01", "C-02"]
    # matched on the planned points alone (as before), the parts were not found at all
    assert previous_ids(previous, planned, crs)[:2].tolist() == [None, None]


def test_estates_whose_households_all_lie_outside_them_hold_no_grid():
    """A community with estate pieces but every household outside the estates (regression: the
    table of grids per estate was sized by the households' estates, and indexing it by the
    pieces' estates raised IndexError)."""
    import numpy as np

    from gridplan.grids.community import _whole

    group = np.array([0, 0, 1, -1])  # the estate of each piece; -1 outside every estate
    hh_piece = np.array([3, 3])  # both households in the piece outside the estates
    piece_grid = np.array([0, 0, 1, 1])
    assert _whole(group, hh_piece, piece_grid).tolist() == [False, False, False, False]
