"""Plan defects found in review: METIS contiguity, household counts, the shared adjacency builder,
reproducible plan files, and load errors that must not be swallowed."""

from __future__ import annotations

import json
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.errors import InputError
from gridplan.norms import UNIT_ADJACENCY_MIN_EDGE_M
from gridplan.plan import Plan

UTM = "EPSG:32650"


def _strip(nx=4, households=50):
    """One community of ``nx`` unit cells in a row (100 m x 80 m), two grids of two halves."""
    x0, y0 = 500_000.0, 3_500_000.0
    cells = [shapely.box(x0 + i * 100, y0, x0 + (i + 1) * 100, y0 + 80) for i in range(nx)]
    grid = [f"C1-{1 + (i >= nx // 2):02d}" for i in range(nx)]
    units = gpd.GeoDataFrame(
        {"unit_id": range(nx), "community_id": "C1", "grid_id": grid}, geometry=cells, crs=UTM
    )
    hh = gpd.GeoDataFrame(
        {"households": [households] * nx, "building_id": [f"B{i}" for i in range(nx)]},
        geometry=[c.centroid for c in cells],
        crs=UTM,
    ).to_crs(4326)
    assignment = hh.copy()
    assignment["grid_id"] = grid
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["社区"]},
        geometry=[shapely.box(x0, y0, x0 + nx * 100, y0 + 80)],
        crs=UTM,
    ).to_crs(4326)
    result = SimpleNamespace(
        units=units.to_crs(4326), assignment=assignment, grids=None, micro_grids=None, report={}
    )
    return result, hh, communities


@pytest.fixture(scope="module")
def sample(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.grids.api import partition

    s = load_sample(sample_dir)
    r = partition(
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        n_jobs=1,
    )
    return r, s


def _sample_plan(sample) -> Plan:
    r, s = sample
    return Plan.from_partition(
        r,
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
    )


def _reference_adjacency(cells, community) -> sparse.csr_matrix:
    """Independent: units of one community whose cells share >= the minimum edge of boundary."""
    cells = np.asarray(cells, dtype=object)
    a, b = shapely.STRtree(cells).query(cells, predicate="intersects")
    keep = (a < b) & (community[a] == community[b])
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(cells[a]), shapely.boundary(cells[b])))
    ok = shared >= UNIT_ADJACENCY_MIN_EDGE_M
    n = len(cells)
    return sparse.coo_matrix(
        (np.ones(2 * ok.sum()), (np.r_[a[ok], b[ok]], np.r_[b[ok], a[ok]])), shape=(n, n)
    ).tocsr()


def _contiguous(adj: sparse.csr_matrix, idx: np.ndarray) -> bool:
    return len(idx) > 0 and connected_components(adj[idx][:, idx], directed=False)[0] == 1


# ---------------------------------------------------------------- 1. METIS with contiguity
def test_split_grid_asks_metis_for_contiguous_parts(sample, monkeypatch):
    import pymetis

    calls = []
    real = pymetis.part_graph

    def spy(nparts, adjacency=None, *args, **kwargs):
        out = real(nparts, adjacency, *args, **kwargs)
        options = kwargs.get("options")
        calls.append(
            {
                "recursive": kwargs.get("recursive"),
                "contig": None if options is None else options.contig,
                "graph": adjacency,
                "parts": np.asarray(out[1]),
            }
        )
        return out

    monkeypatch.setattr(pymetis, "part_graph", spy)
    plan = _sample_plan(sample)
    u = plan.units_metric
    adj = _reference_adjacency(u.geometry.values, u["community_id"].astype(str).to_numpy())
    big = [g for g, n in u["grid_id"].value_counts().items() if n >= 3]
    assert len(big) >= 10
    for gid in big:
        old, new = plan.split_grid(gid)
        grid = plan.units_metric["grid_id"].to_numpy()
        for part in (old, new):
            assert _contiguous(adj, np.flatnonzero(grid == part)), (gid, part)
        assert plan.check() == []
        plan.undo()
    assert len(calls) == len(big)
    for call in calls:
        # k-way with contig: pymetis's default recursive bisection ignores METIS's contig option
        assert call["recursive"] is False and call["contig"] == 1
        g = call["graph"]
        m = sparse.csr_matrix((np.ones(len(g.adjacent)), g.adjacent, g.adj_starts))
        assert all(_contiguous(m, np.flatnonzero(call["parts"] == p)) for p in (0, 1))


def test_bisect_of_a_graph_in_pieces_does_not_abort():
    from gridplan.plan.rebalance import bisect

    # two separate paths of three units: METIS refuses contig here, the plan must not ask for it
    a = np.array([0, 1, 3, 4])
    b = np.array([1, 2, 4, 5])
    adj = sparse.coo_matrix((np.ones(8), (np.r_[a, b], np.r_[b, a])), shape=(6, 6)).tocsr()
    parts = bisect(adj, np.array([5, 5, 5, 5, 5, 5]), 0)
    assert set(parts.tolist()) == {0, 1}
    for p in (0, 1):
        assert _contiguous(adj, np.flatnonzero(parts == p))


# ---------------------------------------------------------------- 2. household counts
@pytest.mark.parametrize("bad", [2.5, 0, -3, "two", None])
def test_plan_refuses_counts_that_are_not_whole_numbers(bad):
    result, hh, communities = _strip()
    hh["households"] = hh["households"].astype(object)
    hh.loc[1, "households"] = bad
    with pytest.raises(InputError) as e:
        Plan.from_partition(result, hh, communities)
    assert e.value.column == "households" and e.value.rows == [1] and e.value.message_zh


def test_plan_counts_whole_households():
    result, hh, communities = _strip()
    hh["households"] = [40.0, 41.0, 42.0, 43.0]
    plan = Plan.from_partition(result, hh, communities)
    assert plan.grids["households"].tolist() == [81, 85]


# ---------------------------------------------------------------- 3. the shared adjacency builder
def test_plan_adjacency_comes_from_the_shared_builder(monkeypatch):
    from gridplan.geometry import adjacency

    seen = []
    real = adjacency.shared_boundaries

    def spy(cells, *args, **kwargs):
        seen.append(len(cells))
        return real(cells, *args, **kwargs)

    monkeypatch.setattr(adjacency, "shared_boundaries", spy)
    result, hh, communities = _strip()
    plan = Plan.from_partition(result, hh, communities)
    assert seen == [4]
    assert plan.neighbours("C1-01") == ["C1-02"]
    assert plan.unit_neighbour_grids(1) == ["C1-02"] and plan.unit_neighbour_grids(0) == []


def test_sample_adjacency_against_an_independent_rule(sample):
    """The neighbours the plan offers on the sample, against an independent rule: cells whose
    boundaries run within the snapping tolerance for at least the minimum edge (the exact
    intersection misses edges that drifted by millimetres on the WGS-84 round trip)."""
    from gridplan.geometry.adjacency import SNAP_M

    plan = _sample_plan(sample)
    u = plan.units_metric
    cells = np.asarray(u.geometry.values, dtype=object)
    comm = u["community_id"].astype(str).to_numpy()
    a, b = shapely.STRtree(cells).query(cells, predicate="dwithin", distance=SNAP_M)
    keep = (a < b) & (comm[a] == comm[b])
    a, b = a[keep], b[keep]
    near = shapely.buffer(shapely.boundary(cells[b]), SNAP_M)
    shared = shapely.length(shapely.intersection(shapely.boundary(cells[a]), near))
    ok = shared >= UNIT_ADJACENCY_MIN_EDGE_M + 0.01  # clear of the rounding at the threshold
    grid = u["grid_id"].to_numpy()
    expected = {i: set() for i in range(len(u))}
    for i, j in zip(a[ok], b[ok]):
        if grid[i] != grid[j]:
            expected[i].add(grid[j])
            expected[j].add(grid[i])
    for i, uid in enumerate(u["unit_id"]):
        assert expected[i] <= set(plan.unit_neighbour_grids(uid)), uid


# ---------------------------------------------------------------- 4. reproducible plan files
def test_same_plan_saved_twice_gives_the_same_bytes(tmp_path):
    result, hh, communities = _strip(nx=6)
    plan = Plan.from_partition(result, hh, communities)
    plan.lock("C1-01")
    a = plan.save(tmp_path / "a.gpkg").read_bytes()
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    b = plan.save(tmp_path / "b.gpkg").read_bytes()
    assert a == b
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") == before  # not left pinned
    again = Plan.load(tmp_path / "a.gpkg")
    assert again.locked == {"C1-01"} and again.check() == []


# ---------------------------------------------------------------- 5. load errors
def _plan_file(tmp_path, value) -> str:
    result, hh, communities = _strip()
    path = Plan.from_partition(result, hh, communities).save(tmp_path / "p.gpkg")
    pyogrio.write_dataframe(pd.DataFrame({"key": ["plan"], "value": [value]}), path, layer="plan_meta")
    return path


@pytest.mark.parametrize("value", ["{not json", json.dumps(["a", "list"]), json.dumps(7)])
def test_load_refuses_a_broken_meta_table(tmp_path, value):
    path = _plan_file(tmp_path, value)
    with pytest.raises(InputError) as e:
        Plan.load(path)
    assert e.value.message_zh


def test_load_does_not_hide_unexpected_errors(tmp_path, monkeypatch):
    result, hh, communities = _strip()
    path = Plan.from_partition(result, hh, communities).save(tmp_path / "p.gpkg")

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(pyogrio, "read_dataframe", broken)
    with pytest.raises(MemoryError):
        Plan.load(path)


def test_unedited_plan_grids_have_the_partitions_figures(sample):
    """One grid-figures function: a plan made from a partition shows the partition's figures
    (before, the plan rounded area and compactness its own way)."""
    plan = _sample_plan(sample)
    res, _ = sample
    a = res.grids.set_index("grid_id").sort_index()
    b = plan.grids.set_index("grid_id").loc[a.index]
    for col in ("households", "population", "n_buildings", "n_estates", "status", "area_m2", "compactness"):
        pd.testing.assert_series_equal(a[col].astype(object), b[col].astype(object), check_names=False)
