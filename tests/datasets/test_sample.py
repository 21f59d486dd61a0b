"""The sample district: files, invariants and the hard cases it promises (gridplan/datasets/district/README.md).

Every check is an independent computation on the written files (GeoPandas/Shapely in a UTM zone,
NetworkX for walking distances), not a re-run of the generator's own logic.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from gridplan.cli import main
from gridplan.datasets.sample import LAYERS, SAMPLE_FILES, load_sample, make_sample, write_sample

UTM = "EPSG:32650"
ID = {
    "street": "street_id",
    "communities": "community_id",
    "estates": "estate_id",
    "gates": "gate_id",
    "buildings": "building_id",
    "households": "building_id",
    "facilities": "facility_id",
    "network": "edge_id",
    "barriers": "barrier_id",
}
REQUIRED = {
    "communities": {"community_id", "name", "street_id", "street_name"},
    "estates": {"estate_id", "name", "community_id", "n_gates"},
    "gates": {"gate_id", "estate_id", "name"},
    "buildings": {"building_id", "estate_id", "levels", "households", "kind", "name"},
    "households": {"households", "population", "building_id", "estate_id"},
    "facilities": {"facility_id", "name", "kind", "area_m2", "community_id"},
    "network": {"highway", "name"},
    "barriers": {"kind", "name"},
}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """The seed-0 district written by the CLI into a fresh folder."""
    out = tmp_path_factory.mktemp("sample")
    assert main(["sample", "--out", str(out), "--seed", "0", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def layers(written) -> dict[str, gpd.GeoDataFrame]:
    """The written layers read back with plain geopandas, in metres (UTM 50N)."""
    out = {}
    for key, rel in SAMPLE_FILES.items():
        gdf = gpd.read_file(written / rel)
        assert gdf.crs.to_epsg() == 4326, rel
        out[key] = gdf.to_crs(UTM)
    return out


def _graph(network: gpd.GeoDataFrame) -> nx.Graph:
    """Undirected graph joining lines by their exact end-point coordinates."""
    g = nx.Graph()
    for line in network.geometry:
        xy = shapely.get_coordinates(line)
        a, b, w = tuple(xy[0]), tuple(xy[-1]), line.length
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=w)
    return g


def _walk_m(layers, kinds=("street_centre", "community_centre")) -> np.ndarray:
    """Network metres from each household point to its nearest centre (both snapped to nodes)."""
    g = _graph(layers["network"])
    nodes = np.array(list(g.nodes))
    tree = cKDTree(nodes)
    fac = layers["facilities"]
    fac = fac[fac["kind"].isin(kinds)]
    _, fi = tree.query(shapely.get_coordinates(fac.geometry.values))
    dist = nx.multi_source_dijkstra_path_length(g, {tuple(nodes[i]) for i in fi}, weight="weight")
    hd, hi = tree.query(shapely.get_coordinates(layers["households"].geometry.values))
    return np.array([dist.get(tuple(nodes[i]), np.inf) for i in hi]) + hd


def _community_of_households(layers) -> gpd.GeoDataFrame:
    return gpd.sjoin(
        layers["households"],
        layers["communities"][["community_id", "geometry"]],
        predicate="within",
        how="left",
    )


# --- files ------------------------------------------------------------------------------------


def test_written_files_are_byte_identical_across_runs_and_to_the_committed_data(written, tmp_path, root):
    again = write_sample(tmp_path, seed=0)
    names = sorted(str(p.relative_to(tmp_path)) for p in again)
    assert names == sorted(list(SAMPLE_FILES.values()) + ["households/households.csv"])
    for rel in names:
        assert filecmp.cmp(written / rel, tmp_path / rel, shallow=False), rel
    committed = root / "gridplan" / "datasets" / "district"
    if (committed / "boundaries" / "communities.geojson").exists():
        for rel in names:
            assert filecmp.cmp(committed / rel, tmp_path / rel, shallow=False), (
                f"{rel} is stale: run `make sample`"
            )
    assert (committed / "README.md").exists()
    size = sum(p.stat().st_size for p in committed.rglob("*") if p.is_file())
    assert size < 5_000_000


def test_layers_have_contract_columns_unique_sorted_ids_and_ccw_rings(layers, written):
    for key in LAYERS:
        gdf = layers[key]
        assert len(gdf) > 0, key
        assert REQUIRED.get(key, set()) <= set(gdf.columns), key
        ids = gdf[ID[key]].tolist()
        assert ids == sorted(ids), f"{key} not sorted by {ID[key]}"
        if key != "households":
            assert len(set(ids)) == len(ids), key
    assert layers["communities"]["community_id"].str.fullmatch(r"420106001\d{3}").all()
    assert (layers["households"]["households"] >= 1).all()
    # RFC 7946: counter-clockwise exteriors, checked on the WGS-84 file.
    comm = gpd.read_file(written / SAMPLE_FILES["communities"])
    assert shapely.is_ccw(shapely.get_exterior_ring(comm.geometry.values)).all()


def test_csv_matches_geojson_points_and_has_bom(written):
    raw = (written / "households" / "households.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    csv = pd.read_csv(
        written / "households" / "households.csv",
        encoding="utf-8-sig",
        dtype={"building_id": str, "estate_id": str},
    )
    pts = gpd.read_file(written / SAMPLE_FILES["households"])
    assert list(csv["building_id"]) == list(pts["building_id"])
    assert np.allclose(csv["lon"], pts.geometry.x, atol=2e-7)
    assert np.allclose(csv["lat"], pts.geometry.y, atol=2e-7)
    assert (csv["households"].to_numpy() == pts["households"].to_numpy()).all()


def test_load_sample_reads_files_or_generates(written, tmp_path):
    read = load_sample(written)
    assert set(read) == set(LAYERS)
    assert (
        read["households"]["households"].sum()
        == gpd.read_file(written / SAMPLE_FILES["households"])["households"].sum()
    )
    generated = load_sample(tmp_path / "empty")  # no files: generated in memory
    assert set(generated) == set(LAYERS)
    assert generated["households"]["households"].sum() == read["households"]["households"].sum()


def test_cli_rejects_bad_seed_and_unwritable_folder_writing_nothing(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "neg"), "--seed", "-3", "-q"]) == 2
    assert "seed" in capsys.readouterr().err
    assert not (tmp_path / "neg").exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["sample", "--out", str(blocker / "sub"), "-q"]) == 2
    assert blocker.read_text() == "not a folder"


# --- what the district looks like ---------------------------------------------------------------


def test_size_and_mix_look_like_a_real_street(layers):
    area_km2 = layers["street"].area.sum() / 1e6
    assert 3.5 < area_km2 < 4.6
    assert 8 <= len(layers["communities"]) <= 12
    assert 50 <= len(layers["estates"]) <= 75
    hh = layers["households"]
    assert 26_000 <= hh["households"].sum() <= 34_000
    assert 2.4 < hh["population"].sum() / hh["households"].sum() < 2.9
    assert (hh["population"] >= 2.0 * hh["households"]).all()
    assert (hh["population"] <= 3.0 * hh["households"]).all()
    b = layers["buildings"]
    assert set(b["kind"]) == {"walkup", "tower", "lowrise"}
    # footprints in metres: walk-ups 40-60 m long and 12 m deep, towers about 24 m
    rect = b.geometry.minimum_rotated_rectangle()
    sides = np.sort(
        np.column_stack(
            [
                rect.exterior.apply(lambda r: shapely.LineString(r.coords[:2]).length),
                rect.exterior.apply(lambda r: shapely.LineString(r.coords[1:3]).length),
            ]
        )
    )
    walk = (b["kind"] == "walkup").to_numpy()
    assert np.allclose(sides[walk, 0], 12.0, atol=0.1) and (sides[walk, 1] >= 39.9).all()
    assert b.loc[b["kind"] == "tower", "levels"].between(18, 45).all()
    assert b.loc[b["kind"] == "lowrise", "levels"].between(1, 3).all()
    # households per building agree between the two layers
    assert b.set_index("building_id")["households"].equals(hh.set_index("building_id")["households"])
    # most buildings are in estates, but not all
    in_estate = b["estate_id"].notna().mean()
    assert 0.3 < in_estate < 1.0
    assert layers["estates"]["n_gates"].between(1, 3).all()
    assert set(layers["facilities"]["kind"]) == {"street_centre", "community_centre", "station"}
    assert layers["facilities"].loc[layers["facilities"]["kind"] == "street_centre", "area_m2"].min() >= 1000


def test_communities_tile_the_street(layers):
    comm, street = layers["communities"], layers["street"].geometry.iloc[0]
    union = shapely.unary_union(comm.geometry.values)
    assert union.symmetric_difference(street).area < 1.0
    i, j = shapely.STRtree(comm.geometry.values).query(comm.geometry.values, predicate="intersects")
    m = i < j
    overlap = shapely.area(shapely.intersection(comm.geometry.values[i[m]], comm.geometry.values[j[m]]))
    assert overlap.max() < 0.5
    assert (comm.geom_type == "Polygon").all()


def test_every_household_in_exactly_one_community(layers):
    joined = _community_of_households(layers)
    assert joined["community_id"].notna().all()
    assert joined.index.value_counts().max() == 1
    assert len(joined) == len(layers["households"])


def test_buildings_inside_their_estate_and_estates_inside_their_community(layers):
    b, e, c = layers["buildings"], layers["estates"], layers["communities"]
    inb = b[b["estate_id"].notna()]
    walls = e.set_index("estate_id").geometry.loc[inb["estate_id"]].values
    assert shapely.covers(shapely.buffer(walls, 0.05), inb.geometry.values).all()
    homes = c.set_index("community_id").geometry.loc[e["community_id"]].values
    assert shapely.covers(shapely.buffer(homes, 0.05), e.geometry.values).all()
    # and no estate reaches into another community
    j = gpd.sjoin(e, c[["community_id", "geometry"]], predicate="intersects")
    shared = j[j["community_id_left"] != j["community_id_right"]]
    for _, row in shared.iterrows():
        other = c.set_index("community_id").geometry.loc[row["community_id_right"]]
        assert row.geometry.intersection(other).area < 0.5


def test_barriers_are_arterials_and_a_river_crossing_communities(layers):
    bar, comm = layers["barriers"], layers["communities"]
    assert set(bar["kind"]) == {"arterial", "river"}
    inner = comm.geometry.buffer(-5.0)
    cut = [
        n
        for n, g in zip(comm["name"], inner)
        if g.intersection(shapely.unary_union(bar.geometry.values)).length > 50
    ]
    assert len(cut) >= 2


# --- the walking network -------------------------------------------------------------------


def _assert_noded(net: gpd.GeoDataFrame) -> None:
    """Lines meet only at shared end points: never cross or overlap between them."""
    assert (net.geom_type == "LineString").all()
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(net.geometry.values, k)) for k in (0, -1)])
    endset = {tuple(p) for p in ends}
    i, j = shapely.STRtree(net.geometry.values).query(net.geometry.values, predicate="intersects")
    m = i < j
    inter = shapely.intersection(net.geometry.values[i[m]], net.geometry.values[j[m]])
    assert set(shapely.get_type_id(inter)) <= {0, 4}, "lines overlap instead of meeting at points"
    assert all(tuple(p) in endset for p in shapely.get_coordinates(inter)), "lines cross between end points"


def _assert_gates_only(layers) -> None:
    """Every place a walkway crosses an estate wall is one of that estate's gates."""
    net, est, gates = layers["network"], layers["estates"], layers["gates"]
    walls = est.geometry.boundary.values
    i, j = shapely.STRtree(net.geometry.values).query(walls, predicate="intersects")
    crossings = shapely.intersection(walls[i], net.geometry.values[j])
    pts = shapely.get_parts(crossings)
    owner = np.repeat(est["estate_id"].to_numpy()[i], shapely.get_num_geometries(crossings))
    assert shapely.get_type_id(pts).max() == 0  # walls are crossed at points, never followed
    gate_xy = gates.set_index("estate_id").geometry
    for p, e in zip(pts, owner):
        assert gate_xy.loc[[e]].distance(p).min() < 0.05, f"a path crosses the wall of {e} off its gates"
    assert est["estate_id"].isin(gates["estate_id"]).all()
    assert (gates.groupby("estate_id").size() == est.set_index("estate_id")["n_gates"]).all()


def test_network_is_noded_connected_and_tagged(layers):
    net = layers["network"]
    _assert_noded(net)
    assert {"primary", "secondary", "residential", "service", "footway", "path", "living_street"} <= set(
        net["highway"]
    )
    assert nx.is_connected(_graph(net))
    footbridges = net[(net["name"] == "人行桥") & net["bridge"]]
    assert len(footbridges) >= 1


def _assert_arterials_crossed_at_junctions(net: gpd.GeoDataFrame) -> None:
    """The arterial carriageway is met only at junctions and crossings, never by a lane or path."""
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(net.geometry.values, k)) for k in (0, -1)])
    _, node = np.unique(ends, axis=0, return_inverse=True)
    n = len(net)
    # Allowed at the carriageway: streets, crossings, and named street-level walks (the other
    # arterial's sidewalks at a junction, the riverside walk at a bridge head); not lanes, old-town
    # paths or estate paths.
    road = net["highway"].isin(["primary", "secondary", "residential"]).to_numpy()
    road = road | net["footway"].isin(["crossing", "sidewalk"]).to_numpy()
    road = road | ((net["highway"] == "footway") & net["name"].notna()).to_numpy()
    is_primary = net["highway"].to_numpy() == "primary"
    primary_nodes = np.unique(node[np.r_[is_primary, is_primary]])
    incident_ok = np.r_[road, road]
    bad = np.isin(node, primary_nodes) & ~incident_ok
    assert not bad.any(), net.iloc[np.flatnonzero(bad) % n][["highway", "name"]].to_string()


def test_arterials_are_crossed_only_at_junctions_and_crossings(layers):
    net = layers["network"]
    _assert_arterials_crossed_at_junctions(net)
    # and the sidewalks exist on both sides
    side = net[net["footway"] == "sidewalk"]
    assert set(side["name"]) == set(net.loc[net["highway"] == "primary", "name"])


def test_estates_are_entered_only_through_their_gates(layers):
    _assert_gates_only(layers)


# --- hard cases (gridplan/datasets/district/README.md) ------------------------------------------------------------


def test_hard_case_cluster_beyond_fifteen_minutes(layers):
    walk = _walk_m(layers)
    hh = layers["households"]
    assert np.isfinite(walk).all()
    far = walk > 1000.0  # 15 min at 4 km/h
    assert hh.loc[far, "households"].sum() >= 300
    # a cluster, not scattered points: some 400 m disc holds at least 300 far households
    xy = shapely.get_coordinates(hh.geometry.values[far])
    w = hh.loc[far, "households"].to_numpy()
    tree = cKDTree(xy)
    best = max(w[tree.query_ball_point(p, 400.0)].sum() for p in xy)
    assert best >= 300
    # and most households are covered: the gap is a local one
    assert hh.loc[~far, "households"].sum() > 0.6 * hh["households"].sum()


def _per_community(layers) -> pd.Series:
    return _community_of_households(layers).groupby("community_id")["households"].sum()


def _assert_small_community(layers) -> None:
    per = _per_community(layers)
    assert per.min() < 300
    assert (per >= 300).sum() >= len(per) - 1


def _assert_large_estate_and_building(layers) -> None:
    hh = layers["households"]
    per_estate = hh.groupby("estate_id").agg(h=("households", "sum"), n=("building_id", "size"))
    assert ((per_estate["h"] > 500) & (per_estate["n"] >= 2)).any()
    assert (hh["households"] > 500).any()


def _assert_centre_below_norm(layers) -> None:
    per = _per_community(layers)
    fac = layers["facilities"]
    cc = fac[fac["kind"] == "community_centre"].set_index("community_id")
    # the centre's own community comes from its location, not only from its attribute
    loc = gpd.sjoin(fac, layers["communities"][["community_id", "geometry"]], predicate="within")
    assert len(loc) == len(fac)
    assert (loc["community_id_left"] == loc["community_id_right"]).all()
    norm = per.loc[cc.index] * 30.0 / 100.0
    assert (cc["area_m2"] < norm).any()
    assert len(cc) >= len(per) - 2  # a centre in most communities


def test_hard_case_small_community(layers):
    _assert_small_community(layers)


def test_hard_case_large_estate_and_single_large_building(layers):
    _assert_large_estate_and_building(layers)


def test_hard_case_centre_below_floor_area_norm(layers):
    _assert_centre_below_norm(layers)


# --- other seeds keep the invariants ----------------------------------------------------------


@settings(
    max_examples=examples(8),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(min_value=1, max_value=10_000))
def test_other_seeds_keep_the_invariants(seed):
    layers = {k: v.to_crs(UTM) for k, v in make_sample(seed).items()}
    comm, street = layers["communities"], layers["street"].geometry.iloc[0]
    assert shapely.unary_union(comm.geometry.values).symmetric_difference(street).area < 1.0
    joined = _community_of_households(layers)
    assert joined["community_id"].notna().all() and joined.index.is_unique
    hh = layers["households"]
    assert (hh["households"] >= 1).all() and 15_000 < hh["households"].sum() < 45_000
    assert nx.is_connected(_graph(layers["network"]))
    _assert_noded(layers["network"])
    _assert_gates_only(layers)
    _assert_arterials_crossed_at_junctions(layers["network"])
    _assert_small_community(layers)
    _assert_large_estate_and_building(layers)
    _assert_centre_below_norm(layers)
    assert layers["households"].loc[_walk_m(layers) > 1000.0, "households"].sum() >= 300


def test_the_sample_ships_inside_the_package():
    """An installed wheel has the files: load_sample reads them instead of regenerating."""
    from importlib.resources import files

    from gridplan.datasets.sample import SAMPLE_DIR, SAMPLE_FILES

    root = files("gridplan") / "datasets" / "district"
    assert all((root / rel).is_file() for rel in SAMPLE_FILES.values())
    assert SAMPLE_DIR.is_dir()
