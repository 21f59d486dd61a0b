"""Partition follow-ups: communities without households, replanning that keeps what did not
change, and ``--map`` applied per file."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _partition_checks import check_invariants

from gridplan.cli import main
from gridplan.grids.api import partition

CRS = 32649  # UTM 49N, the sample's zone


# --- communities and parts without households -----------------------------------------------------


def _square(x0, y0, size):
    return shapely.box(x0, y0, x0 + size, y0 + size)


def _grid_points(x0, y0, size, n, rng):
    xy = rng.uniform((x0 + 5, y0 + 5), (x0 + size - 5, y0 + size - 5), size=(n, 2))
    return shapely.points(xy)


def test_community_without_households_gets_one_flagged_grid_and_parts_join_neighbours():
    rng = np.random.default_rng(3)
    x0, y0 = 500_000.0, 3_400_000.0
    # A: one square with households; B: two squares, households only in the first; C: none
    a = _square(x0, y0, 400)
    b = shapely.MultiPolygon([_square(x0 + 1000, y0, 400), _square(x0 + 1600, y0, 200)])
    c = _square(x0, y0 + 1000, 300)
    comm = gpd.GeoDataFrame(
        {"community_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"]}, geometry=[a, b, c], crs=CRS
    ).to_crs(4326)
    pts = np.r_[_grid_points(x0, y0, 400, 30, rng), _grid_points(x0 + 1000, y0, 400, 30, rng)]
    hh = gpd.GeoDataFrame({"households": rng.integers(5, 30, len(pts))}, geometry=pts, crs=CRS).to_crs(4326)
    res = partition(hh, comm, min_households=60, max_households=150, n_jobs=1)
    check_invariants(res, hh, comm, 60, 150)
    g = res.grids.set_index("grid_id")
    assert g.loc["C-01", "households"] == 0 and g.loc["C-01", "status"] == "under"
    assert g.loc["C-01", "reason"].startswith("no_households")
    assert (res.grids["community_id"] == "C").sum() == 1
    # B's empty square is in one of B's grids (a multipart grid), not left out
    bm = gpd.GeoSeries([b], crs=CRS).iloc[0]
    b_grids = res.grids[res.grids["community_id"] == "B"].to_crs(CRS)
    assert abs(shapely.union_all(b_grids.geometry.values).area - bm.area) < 1e-6 * bm.area
    assert res.report["total"]["infeasible_communities"]["C"][0].startswith("no_households")


# --- replanning -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario(sample_dir):
    """The sample, one estate demolished in the 2nd community and three towers of 200
    households (a new estate, as in notebooks/04_scenarios.ipynb) in the 3rd, replanned."""
    from gridplan.datasets.sample import load_sample

    s = load_sample(sample_dir)
    ctx = dict(buildings=s["buildings"], estates=s["estates"], barriers=s["barriers"], seed=0, n_jobs=1)
    before = partition(s["households"], s["communities"], **ctx)
    a = before.assignment
    cid = a["grid_id"].str.rsplit("-", n=1).str[0]
    c2, c3 = s["communities"]["community_id"].iloc[[1, 2]]
    gone = a[cid == c2].groupby("estate_id")["households"].sum().idxmax()
    keep = (a["estate_id"] != gone).to_numpy()
    centre = s["communities"].to_crs(CRS).geometry.iloc[2].representative_point()
    towers = gpd.GeoDataFrame(
        {
            "households": [200] * 3,
            "population": [540] * 3,
            "building_id": ["NEW-1", "NEW-2", "NEW-3"],
            "estate_id": "NEW",
        },
        # on open ground, 60 m north of the centre: a tower placed inside an existing footprint
        # would share that footprint's piece, which is never cut
        geometry=[shapely.Point(centre.x + dx, centre.y + 60.0) for dx in (-30.0, 0.0, 30.0)],
        crs=CRS,
    ).to_crs(4326)
    assert not s["buildings"].to_crs(CRS).intersects(towers.to_crs(CRS).union_all()).any()
    hh = gpd.GeoDataFrame(pd.concat([s["households"][keep], towers], ignore_index=True), crs=4326)
    after = partition(hh, s["communities"], replan=a, **ctx)
    return s, before, after, hh, keep, {c2, c3}


def test_replan_keeps_unchanged_communities_exactly(scenario):
    s, before, after, hh, keep, changed = scenario
    check_invariants(after, hh, s["communities"], 300, 500)
    bg = before.grids[~before.grids["community_id"].isin(changed)].reset_index(drop=True)
    ag = after.grids[~after.grids["community_id"].isin(changed)].reset_index(drop=True)
    assert len(bg) > 40
    assert bg["grid_id"].tolist() == ag["grid_id"].tolist()
    assert bg["households"].tolist() == ag["households"].tolist()
    assert all(shapely.equals_exact(bg.geometry.values, ag.geometry.values, 0.0))
    old = before.assignment["grid_id"].to_numpy(object)[keep]
    new = after.assignment["grid_id"].to_numpy(object)[: keep.sum()]
    comm = np.array([g.rsplit("-", 1)[0] for g in old], dtype=object)
    calm = ~np.isin(comm, sorted(changed))
    assert (old[calm] == new[calm]).all()


def test_replan_moves_few_households_and_stays_in_band(scenario):
    s, before, after, hh, keep, changed = scenario
    # no grid outside the band except the sample's true infeasible case (a 138-household
    # community): the same as before the change; its 540-household tower is split by entrance
    bad = after.grids[after.grids["status"] != "ok"]
    assert set(bad["reason"].str.split(":").str[0]) <= {"community_below_min"}
    assert (bad["status"] == "over").sum() == (before.grids["status"] == "over").sum() == 0
    info = after.report["total"]["replan"]
    # computed independently: existing rows whose grid changed (rows keep their order)
    old = before.assignment["grid_id"].to_numpy(object)[keep]
    new = after.assignment["grid_id"].to_numpy(object)[: keep.sum()]
    w = hh["households"].to_numpy()[: keep.sum()]
    assert info["households_changed"] == int(w[old != new].sum())
    # the sample's tower is split by entrance and its parts placed on its footprint's slices; the
    # previous households file holds it at its entrance with its parts in grid_parts: its parts
    # are compared there, only the three new towers are new
    assert after.parts is not None and (after.parts["building_part"].fillna("") != "").any()
    assert info["households_new"] == 600
    assert info["share_changed"] < 0.05, info


@pytest.mark.slow  # several whole-sample partitions: in CI
def test_replan_of_an_unchanged_input_reproduces_the_plan_whatever_the_seed(sample_dir):
    from gridplan.datasets.sample import load_sample

    s = load_sample(sample_dir)
    ctx = dict(buildings=s["buildings"], estates=s["estates"], barriers=s["barriers"], n_jobs=1)
    before = partition(s["households"], s["communities"], seed=0, **ctx)
    again = partition(s["households"], s["communities"], seed=7, replan=before.grids, **ctx)
    assert again.assignment["grid_id"].tolist() == before.assignment["grid_id"].tolist()
    assert all(shapely.equals_exact(again.grids.geometry.values, before.grids.geometry.values, 0.0))
    assert again.report["total"]["replan"]["households_changed"] == 0


# --- --map per file -------------------------------------------------------------------------------


def test_map_entry_for_no_file_is_an_error(tmp_path, capsys, root):
    bad = root / "tests" / "data" / "bad"
    out = tmp_path / "out"
    rc = main(
        [
            "partition",
            "--households",
            str(bad / "hh_good.csv"),
            "--communities",
            str(bad / "comm_gbk_cpg.zip"),
            "--out",
            str(out),
            "--min",
            "20",
            "--max",
            "200",
            "--jobs",
            "1",
            "-q",
            "--map",
            "community_id=SQBM,name=SQNAME",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert "SQNAME" in err and "comm_gbk_cpg.zip" in err
    assert not out.exists() or not any(out.iterdir())
