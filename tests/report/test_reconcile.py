"""One network (一张网): departmental layers that disagree with ours in known ways."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _lattice import CRS_METRIC, lattice
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.errors import InputError
from gridplan.report.reconcile import OURS, OUTSIDE, reconcile, write_reconcile


@pytest.fixture(scope="module")
def district():
    # One community, 10 x 4 units of 50 households; grids 01..05 are pairs of columns (400 each).
    return lattice(communities=1)


def department(units: gpd.GeoDataFrame, grid_of_unit: dict, prefix: str) -> gpd.GeoDataFrame:
    """A department layer: units dissolved by the department's own grid ids."""
    u = units.to_crs(CRS_METRIC).copy()
    u["dept"] = u["unit_id"].map(grid_of_unit)
    d = u.dissolve(by="dept", sort=True).reset_index()
    d["geometry"] = shapely.normalize(d.geometry.values)
    # Different naming and row order from ours: the matching must not rely on either.
    out = gpd.GeoDataFrame(
        {"code": [f"{prefix}{g}" for g in d["dept"]], "note": "部门网格"},
        geometry=d.geometry.values,
        crs=CRS_METRIC,
    )
    return out.iloc[::-1].reset_index(drop=True).to_crs(4326)


def base_map(units) -> dict:
    return dict(zip(units["unit_id"], units["grid_id"].str[-2:]))


def moved(units, cells, to) -> dict:
    m = base_map(units)
    for c in cells:
        m[c] = to
    return m


@pytest.fixture(scope="module")
def layers(district):
    u = district["units"]
    a = ["C01-u0200", "C01-u0201"]  # two units of grid 02 (column 2, rows 0-1)
    zz = moved(u, a, "01")
    cg = moved(u, a, "01")
    cg.update({k: "45" for k, v in cg.items() if v in ("04", "05")})  # 04 and 05 merged
    wj = base_map(u)
    wj.update({k: "03b" for k in u["unit_id"] if k.startswith("C01-u05")})  # 03 split
    return {
        "综治": department(u, zz, "ZZ-"),
        "城管": department(u, cg, "CG-"),
        "卫健": department(u, wj, "WJ-"),
    }


def _disagree(result, layer, other) -> set:
    return set(result.disagreements(layer, other)["grid"])


def test_finds_exactly_the_known_disagreements(district, layers):
    r = reconcile(district["grids"], district["households"], layers, units=district["units"])
    # Moved units: our 02 is split; the department grid that received them is split.
    assert _disagree(r, OURS, "综治") == {"C01-02"}
    assert _disagree(r, "综治", OURS) == {"ZZ-01"}
    # Moved units and a merge.
    assert _disagree(r, OURS, "城管") == {"C01-02"}
    assert _disagree(r, "城管", OURS) == {"CG-01", "CG-45"}
    # A split: our 03 straddles two health grids; each health grid lies inside one of ours.
    assert _disagree(r, OURS, "卫健") == {"C01-03"}
    assert _disagree(r, "卫健", OURS) == set()
    # Between departments too.
    assert _disagree(r, "综治", "城管") == set()
    assert _disagree(r, "城管", "综治") == {"CG-45"}
    row = r.disagreements(OURS, "综治").iloc[0]
    assert row["households"] == 400 and row["best_match"] == "ZZ-02"
    assert row["best_households"] == 300 and row["split"] == "ZZ-02:300; ZZ-01:100"


def test_overlap_matrix_counts_households_in_every_intersection(district, layers):
    r = reconcile(district["grids"], district["households"], layers, units=district["units"])
    m = r.matrix(OURS, "综治")
    assert m.loc["C01-01", "ZZ-01"] == 400 and m.loc["C01-02", "ZZ-01"] == 100
    assert m.loc["C01-02", "ZZ-02"] == 300 and m.loc["C01-01", "ZZ-02"] == 0
    # Independent count: households per (our grid, department grid) by a plain spatial join.
    hh = district["households"]
    joined = gpd.sjoin(hh, layers["卫健"][["code", "geometry"]], predicate="within")
    expected = joined.groupby(["grid_id", "code"])["households"].sum()
    got = r.overlaps[(r.overlaps["layer_a"] == OURS) & (r.overlaps["layer_b"] == "卫健")]
    got = got.set_index(["grid_a", "grid_b"])["households"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    # Every pair of layers accounts for every household.
    per_pair = r.overlaps.groupby(["layer_a", "layer_b"])["households"].sum()
    assert (per_pair == int(hh["households"].sum())).all()
    assert r.matrix("综治", OURS).loc["ZZ-01", "C01-02"] == 100


def test_unified_layer_moves_what_the_majority_agrees_on(district, layers):
    r = reconcile(district["grids"], district["households"], layers, units=district["units"])
    ch = r.changes.sort_values("unit_id")
    assert ch["unit_id"].tolist() == ["C01-u0200", "C01-u0201"]
    assert set(ch["from_grid"]) == {"C01-02"} and set(ch["to_grid"]) == {"C01-01"}
    assert ch["households"].tolist() == [50, 50]
    assert set(ch["votes"]) == {"综治, 城管"}
    assert "2 个" in ch["reason_zh"].iloc[0]
    assert r.rejected.empty  # the merge and the split have no majority
    u = r.unified.set_index("grid_id")
    assert u.loc["C01-01", "households"] == 500 and u.loc["C01-02", "households"] == 300
    assert u["households"].sum() == district["grids"]["households"].sum()
    assert (u["status"] == "ok").all()
    assert set(u.index[u["changed"]]) == {"C01-01", "C01-02"}
    # The unified grids follow the departments' boundary: same shape as 综治's grids.
    zz = layers["综治"].set_index("code").to_crs(CRS_METRIC)
    mine = r.unified.set_index("grid_id").to_crs(CRS_METRIC)
    for ours_id, dep_id in (("C01-01", "ZZ-01"), ("C01-02", "ZZ-02")):
        sym = mine.geometry[ours_id].symmetric_difference(zz.geometry[dep_id]).area
        assert sym < 1.0
        assert mine.geometry[ours_id].geom_type == "Polygon"
    assert r.report["changes"] == 2 and r.report["households_moved"] == 100


def test_moves_that_break_the_band_are_refused(district):
    u = district["units"]
    three = ["C01-u0200", "C01-u0201", "C01-u0202"]
    layers = {name: department(u, moved(u, three, "01"), f"{name}-") for name in ("A", "B")}
    r = reconcile(district["grids"], district["households"], layers, units=u)
    assert r.changes["unit_id"].tolist() == ["C01-u0200", "C01-u0201"]
    assert r.rejected["unit_id"].tolist() == ["C01-u0202"]
    assert "outside 300-500" in r.rejected["reason"].iloc[0]
    u2 = r.unified.set_index("grid_id")["households"]
    assert u2["C01-01"] == 500 and u2["C01-02"] == 300


def test_derived_units_without_partition_units(district, layers):
    r = reconcile(district["grids"], district["households"], layers)
    assert r.report["units_derived"]
    # Units are buildings here (5 per lattice cell): the same 100 households move.
    assert r.changes["households"].sum() == 100
    assert set(r.changes["from_grid"]) == {"C01-02"} and set(r.changes["to_grid"]) == {"C01-01"}
    moved_buildings = {uid.split("/")[1].rsplit("-b", 1)[0] for uid in r.changes["unit_id"]}
    assert moved_buildings == {"C01-u0200", "C01-u0201"}
    assert r.unified.set_index("grid_id").loc["C01-01", "households"] == 500


def test_households_outside_a_layer_are_counted_not_dropped(district, layers):
    partial = layers["卫健"].to_crs(CRS_METRIC)
    partial = partial[~partial["code"].isin(["WJ-01"])].to_crs(4326)
    r = reconcile(district["grids"], district["households"], {"卫健": partial}, units=district["units"])
    assert (r.membership["卫健"] == OUTSIDE).sum() == 40  # 8 units x 5 points
    pair = next(p for p in r.report["pairs"] if p["layer"] == OURS and p["other_layer"] == "卫健")
    assert pair["households_outside_other"] == 400
    assert _disagree(r, OURS, "卫健") == {"C01-01", "C01-03"}
    assert r.overlaps["households"].sum() == 2000


def test_bad_inputs_are_input_errors(district, layers):
    with pytest.raises(InputError):
        reconcile(district["grids"], district["households"], {})
    with pytest.raises(InputError):
        reconcile(district["grids"].drop(columns="grid_id"), district["households"], layers)
    with pytest.raises(InputError, match="no column 'nope'"):
        reconcile(district["grids"], district["households"], layers, id_columns={"综治": "nope"})


@settings(
    max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_invariants_on_random_department_layers(district, data):
    u = district["units"]
    ids = u["unit_id"].tolist()
    layers = {}
    for name in ("A", "B", "C"):
        m = base_map(u)
        for uid in data.draw(st.lists(st.sampled_from(ids), max_size=6, unique=True)):
            m[uid] = data.draw(st.sampled_from(["01", "02", "03", "04", "05", "06"]))
        layers[name] = department(u, m, f"{name}-")
    r = reconcile(district["grids"], district["households"], layers, units=u)
    total = int(district["households"]["households"].sum())
    assert (r.overlaps.groupby(["layer_a", "layer_b"])["households"].sum() == total).all()
    assert r.alignment["share"].between(0, 1).all()
    assert r.unified["households"].sum() == total
    # The band is kept, every moved unit went to a majority grid, no unit moved twice.
    assert r.unified["households"].between(300, 500).all()
    assert r.changes["unit_id"].is_unique
    # Unified grids still tile the community and are single polygons.
    geoms = r.unified.to_crs(CRS_METRIC).geometry
    assert (geoms.geom_type == "Polygon").all()
    assert abs(geoms.area.sum() - 400_000) < 1.0
    assert abs(shapely.union_all(geoms.values).area - 400_000) < 1.0


def test_write_and_cli(district, layers, tmp_path):
    from gridplan.cli import main

    grids = tmp_path / "grids.geojson"
    hh = tmp_path / "households.geojson"
    units = tmp_path / "units.geojson"
    district["grids"].to_file(grids)
    district["households"].drop(columns=["unit"]).to_file(hh)
    district["units"].to_file(units)
    args = [
        "reconcile",
        "--grids",
        str(grids),
        "--households",
        str(hh),
        "--units",
        str(units),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    for name, layer in layers.items():
        path = tmp_path / f"{name}.geojson"
        layer.to_file(path)
        args += ["--layer", f"{name}={path}:code"]
    assert main(args) == 0
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["changes"] == 2
    changes = pd.read_csv(out / "changes.csv", encoding="utf-8-sig")
    assert sorted(changes["unit_id"]) == ["C01-u0200", "C01-u0201"]
    unified = gpd.read_file(out / "unified.geojson")
    assert unified.set_index("grid_id").loc["C01-01", "households"] == 500
    matrix = pd.read_csv(out / "matrix_ours_综治.csv", encoding="utf-8-sig", index_col=0)
    assert matrix.loc["C01-02", "ZZ-01"] == 100
    # A missing layer file is exit code 2 and nothing is written.
    bad = args[:-2] + ["--layer", f"X={tmp_path / 'missing.geojson'}"]
    bad[bad.index("--out") + 1] = str(tmp_path / "out2")
    assert main(bad) == 2
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())
    result = reconcile(district["grids"], district["households"], layers, units=district["units"])
    files = write_reconcile(result, tmp_path / "again")
    assert {p.name for p in files} >= {
        "overlaps.csv",
        "alignment.csv",
        "changes.csv",
        "rejected.csv",
        "unified.geojson",
        "report.json",
    }
    np.testing.assert_array_equal(
        pd.read_csv(tmp_path / "again" / "overlaps.csv", encoding="utf-8-sig")["households"],
        result.overlaps["households"],
    )


@pytest.mark.slow
def test_on_partition_units_of_the_sample(sample_dir):
    """Real partition units: a department moves one border unit; reconcile finds exactly it."""
    import networkx as nx

    from gridplan.datasets.sample import load_sample
    from gridplan.geometry.adjacency import shared_boundaries
    from gridplan.grids.api import partition

    s = load_sample(sample_dir)
    res = partition(
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        seed=0,
        n_jobs=1,
    )
    units = res.units.reset_index(drop=True)
    metric = units.to_crs(units.estimate_utm_crs())
    hh_of = res.grids.set_index("grid_id")["households"]
    # Independently (networkx): a border unit whose move keeps both grids in band and connected.
    i, j, length = shared_boundaries(metric.geometry.to_numpy())
    graph = nx.Graph()
    graph.add_nodes_from(range(len(units)))
    graph.add_edges_from(zip(i[length > 1.0], j[length > 1.0]))
    grid = units["grid_id"].to_numpy()
    pick = None
    for a, b in sorted(graph.edges):
        for u, v in ((a, b), (b, a)):
            src, dst, h = grid[u], grid[v], int(units["households"].iloc[u])
            if src == dst or h < 0.1 * hh_of[src] or h < 0.1 * (hh_of[dst] + h):
                continue
            if not (300 <= hh_of[src] - h and hh_of[dst] + h <= 500):
                continue
            rest = [k for k in np.flatnonzero(grid == src) if k != u]
            if rest and nx.is_connected(graph.subgraph(rest)):
                pick = (u, src, dst, h)
                break
        if pick:
            break
    assert pick, "no movable unit in the sample"
    u, src, dst, h = pick
    moved_map = dict(zip(units["unit_id"], units["grid_id"]))
    moved_map[units["unit_id"].iloc[u]] = dst
    layers = {name: department(units, moved_map, f"{name}-") for name in ("综治", "城管")}
    layers["卫健"] = department(units, dict(zip(units["unit_id"], units["grid_id"])), "WJ-")
    r = reconcile(res.grids, res.assignment, layers, units=units)
    assert _disagree(r, OURS, "综治") == {src}
    assert _disagree(r, "综治", OURS) == {f"综治-{dst}"}
    assert _disagree(r, OURS, "卫健") == set() and _disagree(r, "卫健", OURS) == set()
    assert r.changes[["unit_id", "from_grid", "to_grid", "households"]].values.tolist() == [
        [units["unit_id"].iloc[u], src, dst, h]
    ]
    unified = r.unified.set_index("grid_id")
    assert unified.loc[src, "households"] == hh_of[src] - h
    assert unified.loc[dst, "households"] == hh_of[dst] + h
    assert unified["households"].sum() == res.grids["households"].sum()
