"""PlanStore: proposals with versions, history and network survive a reload; conflicts refused."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

import gridplan as gp
from gridplan.errors import ConflictError, InputError
from gridplan.plan.model import Plan
from gridplan.plan.store import PlanStore
from gridplan.plan.store_pieces import frame_bytes


@pytest.fixture(scope="module")
def sample(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.grids.api import partition
    from gridplan.network.load import load_network

    s = load_sample(sample_dir)
    r = partition(
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        n_jobs=1,
    )
    return r, s, load_network(s["network"])


def _plan(sample) -> Plan:
    r, s, _ = sample
    return Plan.from_partition(
        r,
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        facilities=s["facilities"],
    )


def _edit(plan: Plan, k: int = 0) -> None:
    """Merge the k-th grid with its first neighbour."""
    g = plan.grids_metric.index[k]
    plan.merge_grids(g, plan.neighbours(g)[0])


def _split(plan: Plan) -> None:
    """Split the unlocked grid with the most households."""
    g = plan.grids_metric
    plan.split_grid(g.loc[~g["locked"], "households"].idxmax())


def _move(plan: Plan) -> list[str]:
    """Move the first unit that can move to a neighbouring grid; the two grids changed."""
    for uid, grid in zip(plan.units_metric["unit_id"], plan.units_metric["grid_id"]):
        for target in plan.unit_neighbour_grids(uid):
            if target != grid:
                try:
                    return plan.move_unit(uid, target)
                except InputError:
                    continue
    raise AssertionError("no unit can move")


def _same_grids(a: Plan, b: Plan) -> None:
    assert frame_bytes(a.grids_metric) == frame_bytes(b.grids_metric)


def test_round_trip_keeps_state_history_and_undo(sample, tmp_path):
    plan = _plan(sample)
    _edit(plan)
    plan.lock(plan.grids_metric.index[5])
    before_last = plan.grids_metric.copy()
    _split(plan)
    store = PlanStore(tmp_path)
    store.save("紫阳 A", plan)

    back = PlanStore(tmp_path).open("紫阳 A")
    _same_grids(back, plan)
    assert back.history == plan.history and back.edits == plan.edits
    assert back.locked == plan.locked
    assert back.assignment["grid_id"].equals(plan.assignment["grid_id"])
    assert back.check() == []
    # undo after reopening brings back the state before the last edit, byte for byte
    assert back.undo()
    assert frame_bytes(back.grids_metric) == frame_bytes(before_last)
    assert back.redo()
    _same_grids(back, plan)
    # undo all the way on both: the same states, and new grid codes are still never reused
    while plan.undo():
        assert back.undo()
        _same_grids(back, plan)
    assert not back.can_undo
    while plan.redo():
        assert back.redo()
    _same_grids(back, plan)


def test_redo_stack_and_rebalance_survive(sample, tmp_path):
    plan = _plan(sample)
    cid = str(plan.grids_metric["community_id"].iloc[0])
    plan.rebalance(cid)  # replaces the unit tables: the edit keeps both
    _edit(plan, 3)
    plan.undo()  # one edit on the redo stack
    store = PlanStore(tmp_path)
    store.save("p", plan)
    back = store.open("p")
    assert back.can_redo and back.history == plan.history
    assert back.redo() and plan.redo()
    _same_grids(back, plan)
    assert back.undo() and back.undo() and plan.undo() and plan.undo()
    _same_grids(back, plan)
    assert back.units_metric["unit_id"].equals(plan.units_metric["unit_id"])


def test_autosave_writes_only_the_new_state(sample, tmp_path):
    plan = _plan(sample)
    store = PlanStore(tmp_path)
    store.save("p", plan)
    db = tmp_path / "proposals.sqlite"

    def pieces():
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT key, length(data) FROM gridplan_pieces").fetchall())

    first = pieces()
    _edit(plan)
    store.save("p", plan)
    added = set(pieces()) - set(first)
    # the new state's grids and unit map; households, units, context are shared (the grids, whose
    # lines run round the footprints, are about a fifth of the whole)
    assert len(added) == 2
    assert sum(pieces()[k] for k in added) < sum(first.values()) / 4
    plan.undo()
    store.save("p", plan)  # undo brings back a stored state: nothing new
    assert set(pieces()) == set(first) | added
    # a handle that opened the proposal shares its pieces too
    other = PlanStore(tmp_path)
    reopened = other.open("p")
    reopened.redo()
    other.save("p", reopened, base=3)
    assert set(pieces()) == set(first) | added


def test_one_crs_spelled_two_ways_is_one_piece():
    """EPSG:4326 as GDAL exports it (a "datum") and as pyproj's database has it (a "datum
    ensemble") are the same CRS: a proposal reopened in the app and saved with no edit wrote a
    second, identical version because the two spellings gave different bytes."""
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    gdal_spelling = {
        "type": "GeographicCRS",
        "name": "WGS 84",
        "datum": {
            "type": "GeodeticReferenceFrame",
            "name": "World Geodetic System 1984",
            "ellipsoid": {"name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563},
        },
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                {"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": "degree"},
                {"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": "degree"},
            ],
        },
        "id": {"authority": "EPSG", "code": 4326},
    }
    pts = shapely.points(np.arange(3.0) + 118, np.arange(3.0) + 32)
    a = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=pts, crs=CRS.from_epsg(4326))
    b = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=pts, crs=CRS.from_user_input(gdal_spelling))
    assert "datum_ensemble" in a.crs.to_json() and "datum_ensemble" not in b.crs.to_json()
    assert frame_bytes(a) == frame_bytes(b)
    assert b.crs.to_json() == CRS.from_user_input(gdal_spelling).to_json()  # the input is not changed
    # a CRS without an EPSG code is written as it is
    local = CRS.from_proj4("+proj=tmerc +lon_0=118.78 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m")
    c = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=pts, crs=local)
    from gridplan.plan.store_pieces import read_frame

    assert read_frame(frame_bytes(c)).crs == local


def test_versions_list_and_older_version(sample, tmp_path):
    plan = _plan(sample)
    store = PlanStore(tmp_path)
    assert store.save("A", plan, note="start") == 1
    assert store.save("A", plan) == 1  # nothing changed: no new version
    assert store.save("A", plan, note="milestone") == 2  # unless the planner names it
    store.delete("A")
    assert store.save("A", plan, note="start") == 1
    v1 = plan.grids_metric.copy()
    _edit(plan)
    assert store.save("A", plan) == 2
    store.save("B", plan)
    listed = store.list()
    assert listed["name"].tolist() == ["A", "B"] and listed["version"].tolist() == [2, 1]
    versions = store.versions("A")
    assert versions["version"].tolist() == [1, 2]
    assert versions["parent"].tolist()[1] == 1 and versions["note"].tolist()[0] == "start"
    assert versions["grids"].tolist() == [len(v1), len(plan.grids_metric)]
    assert frame_bytes(store.open("A", 1).grids_metric) == frame_bytes(v1)
    with pytest.raises(InputError, match="no version 7"):
        store.open("A", 7)
    with pytest.raises(InputError, match="no proposal named"):
        store.open("C")
    store.delete("B")
    assert store.list()["name"].tolist() == ["A"]
    _same_grids(store.open("A"), plan)  # pieces A shares with B stay


def test_delete_removes_unused_pieces(sample, tmp_path):
    store = PlanStore(tmp_path)
    store.save("only", _plan(sample))
    store.delete("only")
    with sqlite3.connect(tmp_path / "proposals.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM gridplan_pieces").fetchone() == (0,)
    with pytest.raises(InputError):
        store.delete("only")


def test_conflict_between_two_sessions(sample, tmp_path):
    plan = _plan(sample)
    PlanStore(tmp_path).save("shared", plan)
    first, second = PlanStore(tmp_path), PlanStore(tmp_path)
    mine, theirs = first.open("shared"), second.open("shared")
    _edit(mine)
    assert first.save("shared", mine) == 2
    _edit(theirs, 7)
    with pytest.raises(ConflictError, match="another session as version 2") as info:
        second.save("shared", theirs)
    assert "其他会话" in info.value.localized("zh")
    assert store_head(tmp_path, "shared") == 2  # nothing overwritten
    _same_grids(first.open("shared"), mine)
    # a new handle may not save over a name it never opened
    with pytest.raises(ConflictError, match="exists already"):
        PlanStore(tmp_path).save("shared", theirs)
    # after reopening the latest, the second session saves on top of it
    second.open("shared")
    assert second.save("shared", theirs) == 3
    # deleted by one session, then saved by another that had it open
    first.delete("shared")
    with pytest.raises(ConflictError, match="deleted"):
        second.save("shared", theirs)


def test_two_sessions_saving_at_once_one_wins(sample, tmp_path):
    """Saves racing in two threads: the write lock makes the check and the write one step."""
    from concurrent.futures import ThreadPoolExecutor

    PlanStore(tmp_path).save("race", _plan(sample))
    handles = [PlanStore(tmp_path), PlanStore(tmp_path)]
    plans = [h.open("race") for h in handles]
    _edit(plans[0])
    _edit(plans[1], 4)

    def save(i):
        try:
            return handles[i].save("race", plans[i])
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(map(str, pool.map(save, [0, 1])))
    assert outcomes == ["2", "conflict"]
    assert PlanStore(tmp_path).versions("race")["version"].tolist() == [1, 2]


def store_head(folder, name) -> int:
    with sqlite3.connect(folder / "proposals.sqlite") as conn:
        return conn.execute("SELECT head FROM gridplan_proposals WHERE name = ?", [name]).fetchone()[0]


def test_network_survives_and_coverage_is_the_same(sample, tmp_path):
    _, s, network = sample
    plan = _plan(sample)
    before = plan.compute_coverage(plan.context["facilities"], network)
    store = PlanStore(tmp_path)
    store.save("net", plan, network=network)
    _edit(plan)
    store.save("net", plan)  # the network carries over to the next version

    proposal = PlanStore(tmp_path).load("net")
    net = proposal.network
    assert net is not None and store.versions("net")["network"].all()
    assert (net.csr != network.csr).nnz == 0 and np.array_equal(net.component, network.component)
    assert np.array_equal(net.node_xy, network.node_xy) and net.crs == network.crs
    assert (store.network("net", 1).csr != network.csr).nnz == 0
    reopened = proposal.plan
    after = reopened.compute_coverage(reopened.context["facilities"], net)
    # the same walking times and flags (grid_id is the plan's: it changed with the edit)
    pd.testing.assert_frame_equal(
        after.households.drop(columns="grid_id"), before.households.drop(columns="grid_id")
    )
    assert after.households["covered"].sum() > 0
    pd.testing.assert_frame_equal(reopened.coverage_by_grid(), plan.coverage_by_grid())


def test_compare_against_an_independent_computation(sample, tmp_path):
    _, _, network = sample
    a, b = _plan(sample), _plan(sample)
    _edit(b)
    _split(b)
    moved_grids = _move(b)  # same ids, other outlines
    cov = b.compute_coverage(b.context["facilities"], network)
    store = PlanStore(tmp_path)
    store.save("A", a)
    store.save("B", b)
    out = store.compare("A", "B")

    def figures(plan: Plan) -> dict:
        g = plan.grids_metric
        band = g["households"].between(plan.min_households, plan.max_households)
        return {
            "grids": len(g),
            "grids_in_band": int(band.sum()),
            "mean_compactness": round(float(g["compactness"].mean()), 4),
            "households": int(g["households"].sum()),
        }

    hh = a.households["households"].to_numpy()
    moved = int(hh[a.assignment["grid_id"].to_numpy() != b.assignment["grid_id"].to_numpy()].sum())
    covered = cov.households["covered"].fillna(False).to_numpy(dtype=bool)
    for label, plan in (("A@1", a), ("B@1", b)):
        for key, value in figures(plan).items():
            assert out.table.at[key, label] == value, (label, key)
        assert out.table.at["households_moved", label] == moved > 0
        assert out.table.at["grid_workers_needed", label] == len(plan.grids_metric)
    assert np.isnan(out.table.at["share_covered", "A@1"])
    assert out.table.at["share_covered", "B@1"] == round(hh[covered].sum() / hh.sum(), 4)
    # the grids that differ: those whose outline or id is not in the other proposal
    ga, gb = a.grids_metric, b.grids_metric
    expect_a = {
        g for g in ga.index if g not in gb.index or not ga.geometry[g].equals_exact(gb.geometry[g], 0)
    }
    expect_b = {
        g for g in gb.index if g not in ga.index or not gb.geometry[g].equals_exact(ga.geometry[g], 0)
    }
    diff = out.grids
    assert set(diff.loc[diff["proposal"] == "A@1", "grid_id"]) == expect_a
    assert set(diff.loc[diff["proposal"] == "B@1", "grid_id"]) == expect_b
    assert set(moved_grids) <= expect_a & expect_b
    assert diff.crs.to_epsg() == 4326 and 4 <= len(diff) < len(ga)


def test_store_location_and_names(sample, tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDPLAN_DB", raising=False)
    monkeypatch.setenv("GRIDPLAN_DATA", str(tmp_path / "data"))
    store = gp.PlanStore()
    assert store.where == str(tmp_path / "data" / "proposals.sqlite")
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InputError, match="proposal name"):
            store.save(bad, _plan(sample))


def test_postgis_store_round_trip_and_conflict(sample, pg_url, monkeypatch):
    """The same store on a PostgreSQL server: history, network and optimistic locking."""
    import uuid

    _, _, network = sample
    name = f"pg-{uuid.uuid4().hex[:8]}"
    plan = _plan(sample)
    _edit(plan)
    monkeypatch.setenv("GRIDPLAN_DB", pg_url)
    first = PlanStore()
    assert first.where.startswith("postgresql://")  # GRIDPLAN_DB names the server
    assert first.save(name, plan, network=network) == 1
    second = PlanStore(pg_url)
    proposal = second.load(name)
    back = proposal.plan
    _same_grids(back, plan)
    assert (proposal.network.csr != network.csr).nnz == 0
    assert back.undo() and plan.undo()
    _same_grids(back, plan)
    assert second.save(name, back) == 2
    with pytest.raises(ConflictError, match="version 2"):
        first.save(name, plan)
    assert second.versions(name)["version"].tolist() == [1, 2]
    assert name in set(second.list()["name"])
    second.delete(name)
    assert name not in set(first.list()["name"])
