"""Grid partition: the sample district, the CLI, micro-grids, locks, replanning, bad input, and
the graph core against brute force."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _partition_checks import check_invariants
from scipy import sparse

from gridplan.cli import main
from gridplan.errors import InputError
from gridplan.grids.api import partition
from gridplan.grids.search import Graph, exact_partition, plan_graph

ROOT = Path(__file__).resolve().parents[2]
from generators.region import city  # noqa: E402

# --- the graph core ----------------------------------------------------------------------------


def _graph(nx_graph: nx.Graph, weights) -> Graph:
    n = nx_graph.number_of_nodes()
    adj = nx.to_scipy_sparse_array(nx_graph, nodelist=range(n), weight=None, format="csr")
    return Graph(
        np.asarray(weights), sparse.csr_matrix(adj.astype(float) * 10.0), np.ones(n), np.full(n, 4.0)
    )


def _brute_force(g: nx.Graph, w, lo, hi) -> bool:
    """Is there a partition of g into connected parts with weights in [lo, hi]? (set partitions)"""
    nodes = list(g.nodes)

    def parts(rest):
        if not rest:
            yield []
            return
        first, others = rest[0], rest[1:]
        for r in range(len(others) + 1):
            for comb in itertools.combinations(others, r):
                block = (first,) + comb
                left = [x for x in others if x not in comb]
                for p in parts(left):
                    yield [block] + p

    for p in parts(nodes):
        if all(lo <= sum(w[x] for x in b) <= hi and nx.is_connected(g.subgraph(b)) for b in p):
            return True
    return False


@pytest.mark.parametrize("seed", range(25))
def test_exact_search_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    g = nx.connected_watts_strogatz_graph(n, 2, 0.5, seed=seed) if n > 3 else nx.path_graph(n)
    w = rng.integers(60, 400, n)
    labels, proven = exact_partition(_graph(g, w), 300, 500)
    assert proven
    assert (labels is not None) == _brute_force(g, w, 300, 500)
    if labels is not None:
        for k in np.unique(labels):
            block = np.flatnonzero(labels == k)
            assert 300 <= w[block].sum() <= 500
            assert nx.is_connected(g.subgraph(block.tolist()))


def test_plan_graph_on_a_lattice_meets_bounds_and_contiguity():
    g = nx.grid_2d_graph(30, 30)
    g = nx.convert_node_labels_to_integers(g, ordering="sorted")
    w = np.random.default_rng(1).integers(10, 121, g.number_of_nodes())
    labels, info = plan_graph(_graph(g, w), 300, 500, seed=0)
    assert info["violation"] == 0
    for k in np.unique(labels):
        block = np.flatnonzero(labels == k)
        assert 300 <= w[block].sum() <= 500
        assert nx.is_connected(g.subgraph(block.tolist()))
    again, _ = plan_graph(_graph(g, w), 300, 500, seed=0)
    assert (again == labels).all()


# --- the sample district ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(sample_dir):
    from gridplan.datasets.sample import load_sample

    s = load_sample()
    res = partition(
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        n_jobs=1,
    )
    return s, res


def test_sample_grids_in_band_except_true_infeasible_cases(sample):
    s, res = sample
    check_invariants(res, s["households"], s["communities"], 300, 500)
    bad = res.grids[res.grids["status"] != "ok"]
    codes = sorted(bad["reason"].str.split(":").str[0])
    assert codes == ["community_below_min"]
    # the community below the minimum really has fewer than 300 households
    row = bad[bad["reason"].str.startswith("community_below_min")].iloc[0]
    hh = res.assignment
    assert hh.loc[hh["grid_id"].str.startswith(row["community_id"]), "households"].sum() < 300
    # the one tower with more than 500 households is split by entrance (its footprint given)
    tower = hh.groupby("building_id")["households"].sum()
    tower = tower.index[tower > 500]
    assert len(tower) == 1 and res.parts is not None
    parts = res.parts[res.parts["building_id"] == tower[0]]
    assert len(parts) >= 2 and parts["grid_id"].nunique() >= 2
    # grid codes: <community_id>-NN, numbered 01.. within each community
    for _cid, g in res.grids.groupby("community_id"):
        nums = sorted(int(x.rsplit("-", 1)[1]) for x in g["grid_id"])
        assert nums == list(range(1, len(g) + 1))
        assert all(len(x.rsplit("-", 1)[1]) >= 2 for x in g["grid_id"])
    rep = res.report["total"]
    assert rep["grids"] == len(res.grids)
    json.dumps(res.report)


@pytest.mark.slow  # the whole sample with micro-grids: in CI (make test-ci)
def test_sample_micro_grids(sample):
    s, _ = sample
    res = partition(
        s["households"],
        s["communities"],
        estates=s["estates"],
        barriers=s["barriers"],
        micro_max=100,
        n_jobs=1,
    )
    mg = res.micro_grids
    crs = s["communities"].estimate_utm_crs()
    grids = res.grids.to_crs(crs).set_index("grid_id")
    m = mg.to_crs(crs)
    assert mg["micro_grid_id"].is_unique
    assert (mg["micro_grid_id"].str.rsplit("-", n=1).str[0] == mg["grid_id"]).all()
    for gid, sub in m.groupby("grid_id"):
        poly = grids.geometry[gid]
        assert sub["households"].sum() == grids.loc[gid, "households"]
        union = shapely.union_all(sub.geometry.values)
        assert abs(union.area - poly.area) <= 1e-6 * poly.area
        assert abs(sub.area.sum() - union.area) <= 1e-6 * poly.area
    over = mg[mg["households"] > 100]
    assert (over["status"] == "over").all() and over["reason"].str.startswith("unit_over_max").all()
    # every over micro-grid is a single building
    asg = res.assignment
    for mid in over["micro_grid_id"]:
        assert asg.loc[asg["micro_grid_id"] == mid, "building_id"].nunique() == 1
    ok = mg[mg["status"] == "ok"]
    assert ((ok["households"] >= 1) & (ok["households"] <= 100)).all()
    assert len(ok) > 0.5 * len(mg)


@pytest.mark.slow  # two whole-sample partitions: in CI
def test_sample_replan_after_demolition_and_new_estate(sample):
    s, res = sample
    hh = s["households"]
    # demolish one estate and build a new one elsewhere (new points at the old estate's site)
    est = hh["estate_id"].dropna().unique()
    gone = sorted(est)[5]
    changed = hh[hh["estate_id"] != gone].copy()
    new = hh[hh["estate_id"] == sorted(est)[20]].copy()
    new["building_id"] = new["building_id"] + "N"
    new["estate_id"] = "NEW1"
    new["geometry"] = new.geometry.translate(0.0003, 0.0002)
    inside = new.within(shapely.union_all(s["communities"].geometry.values))
    changed = gpd.GeoDataFrame(pd.concat([changed, new[inside]], ignore_index=True), crs=hh.crs)
    prev = res.assignment
    rep = partition(changed, s["communities"], estates=None, barriers=s["barriers"], replan=prev, n_jobs=1)
    check_invariants(rep, changed, s["communities"], 300, 500)
    info = rep.report["total"]["replan"]
    assert info["share_changed"] < 0.25, info
    fresh = partition(changed, s["communities"], barriers=s["barriers"], n_jobs=1, seed=5)
    moved_fresh = _share_changed(prev, fresh.assignment, changed)
    assert info["share_changed"] <= moved_fresh
    # grids whose households did not change keep their code
    old = prev.groupby("grid_id")["building_id"].apply(frozenset)
    new_g = rep.assignment.groupby("grid_id")["building_id"].apply(frozenset)
    same = [g for g in old.index if g in new_g.index and old[g] == new_g[g]]
    assert len(same) > 0.5 * len(old)


def _share_changed(prev, new, hh):
    key = prev.set_index("building_id")["grid_id"]
    key = key[~key.index.duplicated()]
    before = hh["building_id"].map(key)
    both = before.notna().to_numpy()
    diff = both & (before.to_numpy() != new["grid_id"].to_numpy())
    h = hh["households"].to_numpy()
    return h[diff].sum() / h[both].sum()


# --- CLI, files, determinism, bad input ------------------------------------------------------


def _cli(args):
    return main(["partition", "--quiet", *map(str, args)])


@pytest.mark.slow
def test_cli_writes_three_files_deterministically(sample_dir, tmp_path):
    args = [
        "--communities",
        sample_dir / "boundaries/communities.geojson",
        "--households",
        sample_dir / "households/households.geojson",
        "--estates",
        sample_dir / "estates/estates.geojson",
        "--barriers",
        sample_dir / "barriers/barriers.geojson",
        "--jobs",
        "1",
    ]
    assert _cli([*args, "--out", tmp_path / "a"]) == 0
    assert _cli([*args, "--out", tmp_path / "b"]) == 0
    for name in ("grids.geojson", "households.geojson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    ra = json.loads((tmp_path / "a/report.json").read_text())
    rb = json.loads((tmp_path / "b/report.json").read_text())
    ra["total"].pop("run_seconds"), rb["total"].pop("run_seconds")
    assert ra == rb
    src = gpd.read_file(sample_dir / "households/households.geojson")
    out = gpd.read_file(tmp_path / "a/households.geojson")
    assert len(out) == len(src)
    assert (out["building_id"] == src["building_id"]).all()
    assert out["grid_id"].notna().all()
    grids = gpd.read_file(tmp_path / "a/grids.geojson")
    assert set(out["grid_id"]) == set(grids["grid_id"])
    # RFC 7946: counter-clockwise exteriors
    assert all(shapely.is_ccw(p.exterior) for p in grids.geometry if p.geom_type == "Polygon")
    # keep half the grids, replan the rest from the previous households file
    keep = grids.iloc[::2]
    keep.to_file(tmp_path / "keep.geojson")
    assert _cli([*args, "--keep", tmp_path / "keep.geojson", "--out", tmp_path / "k"]) == 0
    kept = gpd.read_file(tmp_path / "k/households.geojson")
    for gid in keep["grid_id"]:
        assert ((out["grid_id"] == gid) == (kept["grid_id"] == gid)).all()


def test_cli_households_all_outside_exit_2_and_nothing_written(sample_dir, tmp_path, capsys):
    hh = gpd.read_file(sample_dir / "households/households.geojson")
    hh["geometry"] = shapely.points(116.4 + 0.001 * (hh.index % 50), 39.9)  # all in Beijing
    hh.to_file(tmp_path / "hh.geojson")
    code = _cli(
        [
            "--communities",
            sample_dir / "boundaries/communities.geojson",
            "--households",
            tmp_path / "hh.geojson",
            "--out",
            tmp_path / "out",
        ]
    )
    assert code == 2
    assert "outside every community" in capsys.readouterr().err
    assert not (tmp_path / "out" / "grids.geojson").exists()


def test_bad_households_values_are_named():
    comm = gpd.GeoDataFrame(
        {"community_id": ["A"], "name": ["a"]}, geometry=[shapely.box(111.3, 30.6, 111.31, 30.61)], crs=4326
    )
    hh = gpd.GeoDataFrame(
        {"households": [3, 0, 2]}, geometry=shapely.points([(111.301, 30.601)] * 3), crs=4326
    )
    with pytest.raises(InputError, match="rows 1"):
        partition(hh, comm)
    dup = gpd.GeoDataFrame(
        {"community_id": ["A", "A"], "name": ["a", "b"]},
        geometry=[shapely.box(111.3, 30.6, 111.31, 30.61)] * 2,
        crs=4326,
    )
    with pytest.raises(InputError, match="not unique"):
        partition(hh.assign(households=1), dup)


@pytest.mark.slow  # two partitions of a 30,000-household city: in CI
def test_two_workers_same_as_one():
    c = city(30_000, 800, 80, 12, seed=3)
    one = partition(c["households"], c["communities"], estates=c["estates"], n_jobs=1)
    two = partition(c["households"], c["communities"], estates=c["estates"], n_jobs=2)
    assert one.assignment["grid_id"].tolist() == two.assignment["grid_id"].tolist()
    assert (shapely.to_wkb(one.grids.geometry.values) == shapely.to_wkb(two.grids.geometry.values)).all()
    check_invariants(one, c["households"], c["communities"], 300, 500)
    assert one.grids["status"].eq("ok").mean() > 0.97
