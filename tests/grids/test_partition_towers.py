"""Towers above the maximum together with estates and a remainder that cannot form a grid.

Regression for a crash on real extracts (``IndexError`` in ``_plan_once``): the unit planner
(now :func:`gridplan.grids.regions.plan_units`) reused the name of its per-grid "failed" flags
for the list of failed component roots, so the flags the estate refinement reads were shorter
than (or shifted against) the grid labels whenever a community held buildings above the maximum
and a part without a valid plan.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _partition_checks import check_invariants
from conftest import examples
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from gridplan.grids.api import partition
from gridplan.grids.regions import plan_units
from gridplan.grids.unitgraph import UnitGraph

UTM = "EPSG:32649"
X0, Y0 = 300_000.0, 3_390_000.0
LO, HI = 300, 500


def _frames(xy, hh, bid, estate_boxes, community):
    households = gpd.GeoDataFrame(
        {"households": hh, "building_id": bid}, geometry=shapely.points(np.asarray(xy, dtype=float)), crs=UTM
    ).to_crs(4326)
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["测试社区"]}, geometry=[community], crs=UTM
    ).to_crs(4326)
    estates = gpd.GeoDataFrame(
        {"estate_id": [f"E{i}" for i in range(len(estate_boxes))]}, geometry=list(estate_boxes), crs=UTM
    ).to_crs(4326)
    return households, communities, estates


def _tower_grids(res, towers):
    """grid_id of every tower (each must be alone in its grid)."""
    asg = res.assignment
    out = {}
    for t in towers:
        gids = asg.loc[asg["building_id"] == t, "grid_id"].unique()
        assert len(gids) == 1, (t, gids)
        out[t] = gids[0]
    return out


def _check_towers(res, households, towers):
    grids = res.grids.set_index("grid_id")
    asg = res.assignment
    for t, gid in _tower_grids(res, towers).items():
        row = grids.loc[gid]
        assert row["reason"].startswith("unit_over_max"), (t, row["reason"])
        assert row["status"] == "over"
        assert set(asg.loc[asg["grid_id"] == gid, "building_id"]) == {t}
        assert row["households"] == households.loc[households["building_id"] == t, "households"].sum()


# --- the deterministic shape of the crash -------------------------------------------------------


@pytest.mark.parametrize(
    "tower_hh, remainder, estates_as",
    [
        ((600, 650), 250, "polygons"),
        ((550, 700, 620), 150, "buildings"),
    ],
)
def test_towers_estates_and_unsplittable_remainder(tower_hh, remainder, estates_as):
    community = shapely.box(X0, Y0, X0 + 800, Y0 + 400)
    spots = [(X0 + 100, Y0 + 200), (X0 + 700, Y0 + 200), (X0 + 400, Y0 + 370)]
    towers = [f"T{i + 1}" for i in range(len(tower_hh))]
    # towers first: they become the first units, so the failed part is not root 0
    xy, hh, bid = list(spots[: len(tower_hh)]), list(tower_hh), list(towers)
    n_small = 25
    each = np.full(n_small, remainder // n_small)
    each[: remainder % n_small] += 1
    for i in range(n_small):
        xy.append((X0 + 260 + (i % 5) * 70, Y0 + 60 + (i // 5) * 55))
        hh.append(int(each[i]))
        bid.append(f"B{i}")
    # E0: part of the remainder; E1: the first tower and some small buildings (over the max)
    boxes = [
        shapely.box(X0 + 380, Y0 + 30, X0 + 560, Y0 + 320),
        shapely.box(X0 + 60, Y0 + 30, X0 + 340, Y0 + 320),
    ]
    households, communities, estates = _frames(xy, hh, bid, boxes, community)
    if estates_as == "polygons":
        res = partition(households, communities, estates=estates, seed=0, n_jobs=1)
    else:
        est_of = gpd.sjoin(households[["building_id", "geometry"]], estates, how="left", predicate="within")
        buildings = est_of[["building_id", "estate_id"]].drop_duplicates("building_id")
        assert buildings["estate_id"].notna().any()
        res = partition(households, communities, buildings=buildings, seed=0, n_jobs=1)

    grids = res.grids.set_index("grid_id")
    asg = res.assignment
    assert asg["grid_id"].notna().all()
    assert set(asg["grid_id"]) <= set(grids.index)
    assert int(grids["households"].sum()) == int(households["households"].sum())
    check_invariants(res, households, communities, LO, HI)
    _check_towers(res, households, towers)
    # the flags belong to the grids they describe: over = the towers, under = the remainder
    tower_grids = set(_tower_grids(res, towers).values())
    assert set(grids.index[grids["status"] == "over"]) == tower_grids
    rest = grids.drop(index=sorted(tower_grids))
    assert len(rest) == 1
    assert rest["households"].iloc[0] == remainder and rest["status"].iloc[0] == "under"
    assert rest["reason"].iloc[0].startswith("part_below_min")


def test_plan_units_returns_one_flag_per_grid():
    # units: two towers, then a path 450 - 100 - 450 that has no split into 300-500 grids
    w = np.array([600, 650, 450, 100, 450])
    ui, uj = np.array([0, 1, 2, 3]), np.array([2, 4, 3, 4])
    ulen = np.full(4, 50.0)
    usame = np.ones(4, dtype=bool)
    plan = plan_units(
        UnitGraph(w, ui, uj, ulen, usame, np.full(5, 1e4), np.full(5, 400.0)),
        LO,
        HI,
        0,
        whole_total=int(w.sum()),
    )
    labels, reasons, crossing, failed = plan.labels, plan.reasons, plan.crossing, plan.failed
    ngrids = int(labels.max()) + 1
    assert len(reasons) == len(crossing) == len(failed) == ngrids
    assert all(isinstance(f, bool) for f in failed)
    for u in (0, 1):
        assert reasons[labels[u]].code == "unit_over_max" and not failed[labels[u]]
        assert reasons[labels[u]].text().startswith("unit_over_max: ")
    # the path failed but is feasible by count: its grids are the ones estate splitting may fix
    for u in (2, 3, 4):
        assert failed[labels[u]]


# --- random communities of the same kind --------------------------------------------------------


@st.composite
def tower_cases(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    wdt, hgt = draw(st.floats(300, 900)), draw(st.floats(300, 900))
    community = shapely.box(X0, Y0, X0 + wdt, Y0 + hgt)
    n_towers = int(rng.integers(0, 4))  # uniform: hypothesis alone would mostly draw 0
    n_small = draw(st.integers(1, 40))
    # the remainder: often below the minimum or in the gap 500-600 (no whole grids), else larger
    remainder = draw(
        st.one_of(
            st.integers(n_small, 299),
            st.integers(max(n_small, 501), 599),
            st.integers(max(n_small, 300), 1500),
        )
    )
    small = 1 + rng.multinomial(remainder - n_small, np.full(n_small, 1 / n_small))
    hh = np.r_[[draw(st.integers(HI + 1, 800)) for _ in range(n_towers)], small].astype(np.int64)
    n_b = len(hh)
    xy = rng.uniform((X0 + 5, Y0 + 5), (X0 + wdt - 5, Y0 + hgt - 5), size=(n_b, 2))
    order = rng.permutation(n_b) if draw(st.booleans()) else np.arange(n_b)
    hh, xy = hh[order], xy[order]
    bid = np.array([f"B{i}" for i in range(n_b)], dtype=object)
    towers = bid[hh > HI].tolist()
    # estates: boxes around random buildings; the first often holds a tower or is wide enough
    # to pass the maximum
    n_e = draw(st.integers(1, 4))
    centres = xy[rng.choice(n_b, min(n_e, n_b), replace=False)]
    if towers and rng.random() < 0.5:
        centres[0] = xy[np.flatnonzero(hh > HI)[0]]
    half = rng.uniform(30, 150, len(centres))
    if rng.random() < 0.5:
        half[0] = max(wdt, hgt) / 2
    boxes = [shapely.box(cx - h, cy - h, cx + h, cy + h) for (cx, cy), h in zip(centres, half)]
    households, communities, estates = _frames(xy, hh, bid, boxes, community)
    return households, communities, estates, towers, seed


@settings(
    max_examples=examples(25),
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tower_cases())
def test_towers_with_estates_random(case):
    households, communities, estates, towers, seed = case
    res = partition(households, communities, estates=estates, seed=seed % 7, n_jobs=1)
    est = estates.to_crs(UTM)
    pts = households.to_crs(UTM)
    inside = shapely.contains(np.asarray(est.geometry.values)[:, None], np.asarray(pts.geometry.values)[None])
    over_est = int(((inside * households["households"].to_numpy()[None]).sum(1) > HI).sum())
    event(f"towers={len(towers)}, estates over max={over_est > 0}")

    asg = res.assignment
    assert asg["grid_id"].notna().all()
    assert int(res.grids["households"].sum()) == int(households["households"].sum())
    per_grid = asg.groupby("grid_id")["households"].sum()
    assert (res.grids.set_index("grid_id")["households"].reindex(per_grid.index) == per_grid).all()
    # one Polygon per grid, tiling the community; statuses and reasons match the totals
    assert (shapely.get_type_id(res.grids.geometry.values) == 3).all()
    check_invariants(res, households, communities, LO, HI)
    _check_towers(res, households, towers)
    over = res.grids["status"] == "over"
    assert (over == (res.grids["households"] > HI)).all()
    assert (res.grids.loc[over, "reason"].notna()).all()
