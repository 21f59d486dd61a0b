"""The walking network: loading, noding, CSR, snapping and exact travel distances."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _walkref import walk_reference

from gridplan.errors import NetworkError
from gridplan.geometry.linework import node_lines, substrings
from gridplan.network import WalkNetwork, load_network, network_from_lines
from gridplan.network.osm import walkable_mask
from gridplan.network.snapping import SnapIndex

CRS = "EPSG:32650"


from generators import network as netgen  # noqa: E402


def lines_gdf(wkts, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.from_wkt(wkts), crs=CRS)


@pytest.fixture(scope="module")
def lattice():
    return netgen.lattice_network(18, 14, seed=7, drop=0.12, parallel=0.1)


@pytest.fixture(scope="module")
def lattice_net(lattice):
    return network_from_lines(lattice)


# ----------------------------------------------------------------------------- noding
def test_lines_join_at_shared_vertices_not_at_crossings():
    # a T-junction at a shared interior vertex, and a bridge crossing without a shared vertex
    g = lines_gdf(
        ["LINESTRING (0 0, 100 0, 200 0)", "LINESTRING (100 0, 100 100)", "LINESTRING (150 -50, 150 50)"]
    )
    net = network_from_lines(g)
    assert len(net.edges) == 4  # the first line is split at x=100; the bridge is not split
    assert net.report["components"] == 2
    assert sorted(net.component_sizes.tolist()) == [2, 4]
    assert np.isclose(net.edges["length"].sum(), 400.0)


def test_ring_and_repeated_vertices():
    r = node_lines(
        shapely.from_wkt(
            ["LINESTRING (0 0, 10 0, 10 10, 0 0)", "LINESTRING (20 0, 20 0, 30 0)", "LINESTRING (5 5, 5 5)"]
        )
    )
    assert len(r["geometry"]) == 2
    assert r["u"][0] == r["v"][0]  # the ring is a loop edge
    assert np.allclose(shapely.length(r["geometry"]), [10 + 10 + math.hypot(10, 10), 10])


def test_substrings_match_shapely_ops():
    from shapely.ops import substring

    line = shapely.from_wkt("LINESTRING (0 0, 10 0, 10 10, 30 10)")
    starts = np.array([0.0, 3.0, 12.0, 5.0])
    ends = np.array([40.0, 15.0, 12.5, 10.0])
    got = substrings(np.array([line] * 4), starts, ends)
    for g, s, e in zip(got, starts, ends):
        assert g.equals_exact(substring(line, s, e), 1e-9)


def test_parallel_edges_keep_the_shortest_in_the_csr():
    # two ways between the same junctions: 100 m straight and a 140 m detour
    g = lines_gdf(["LINESTRING (0 0, 100 0)", "LINESTRING (0 0, 50 48.98979485566356, 100 0)"])
    net = network_from_lines(g)
    assert len(net.edges) == 2 and net.report["parallel_edges_reduced"] == 1
    assert net.csr.nnz == 2
    assert np.isclose(net.csr[0, 1], 100.0)  # not 240 (scipy.sparse sums duplicates)


def test_walkable_filter():
    ways = pd.DataFrame(
        {
            "highway": [
                "footway",
                "motorway",
                "trunk",
                "trunk",
                "service",
                "residential",
                "path",
                "pedestrian",
                "primary",
                "['footway', 'service']",
                "construction",
            ],
            "foot": [None, None, None, None, None, "no", None, None, None, None, None],
            "access": [None, None, None, None, "private", None, "no", None, None, None, None],
            "sidewalk": [None, None, None, "both", None, None, None, None, None, None, None],
            "area": [None, None, None, None, None, None, None, "yes", "yes", None, None],
        }
    )
    mask, dropped = walkable_mask(ways)
    assert mask.tolist() == [True, False, False, True, True, False, False, True, False, True, False]
    assert dropped == {"not_walkable_highway": 3, "foot_no": 1, "access_no": 1, "area": 1}


# ----------------------------------------------------------------------------- loading
def test_geojson_lines_file_equals_geodataframe(tmp_path, lattice, lattice_net):
    path = tmp_path / "walk.geojson"
    lattice.to_crs(4326).to_file(path, driver="GeoJSON")
    net = load_network(path)
    assert net.report["nodes"] == lattice_net.report["nodes"]
    assert net.report["edges"] == lattice_net.report["edges"]
    assert np.isclose(net.edges["length"].sum(), lattice_net.edges["length"].sum(), rtol=1e-6)


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="32.0400" lon="118.7800"/>
  <node id="2" lat="32.0400" lon="118.7810"/>
  <node id="3" lat="32.0400" lon="118.7820"/>
  <node id="4" lat="32.0410" lon="118.7810"/>
  <node id="5" lat="32.0390" lon="118.7810"/>
  <node id="6" lat="32.0420" lon="118.7830"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="name" v="中山路"/></way>
  <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="12"><nd ref="2"/><nd ref="5"/><tag k="highway" v="footway"/><tag k="foot" v="no"/></way>
  <way id="13"><nd ref="3"/><nd ref="6"/><tag k="highway" v="motorway"/></way>
  <way id="14"><nd ref="4"/><nd ref="6"/><tag k="building" v="yes"/></way>
</osm>
"""


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2"])
def test_osm_file_reader_and_filter(tmp_path, suffix):
    import bz2

    path = tmp_path / f"tiny{suffix}"
    data = OSM_XML.encode()
    path.write_bytes(bz2.compress(data) if suffix.endswith("bz2") else data)
    net = load_network(path)
    # way 10 is split at node 2 (shared with way 11); 12 (foot=no) and 13 (motorway) are dropped
    assert len(net.edges) == 3
    assert net.n_nodes == 4
    assert set(net.edges["highway"]) == {"residential", "service"}
    assert "中山路" in set(net.edges["name"].dropna())
    assert net.report["ways_dropped"]["foot_no"] == 1
    assert net.report["ways_dropped"]["not_walkable_highway"] == 1


def test_graphml_roundtrip(tmp_path, lattice_net):
    import osmnx as ox

    nodes = lattice_net.nodes.to_crs(4326)
    nodes["x"] = nodes.geometry.x
    nodes["y"] = nodes.geometry.y
    nodes = nodes.set_index("node")[["x", "y", "geometry"]]
    edges = lattice_net.edges.to_crs(4326).copy()
    edges["key"] = edges.groupby(["u", "v"]).cumcount()
    edges["osmid"] = np.arange(len(edges))
    # OSMnx walk graphs carry each street in both directions
    rev = edges.rename(columns={"u": "v", "v": "u"})
    rev["geometry"] = shapely.reverse(rev.geometry.values)
    edges = pd.concat([edges, rev], ignore_index=True)
    edges["key"] = edges.groupby(["u", "v"]).cumcount()
    edges = edges.set_index(["u", "v", "key"])[["osmid", "highway", "length", "geometry"]]
    g = ox.convert.graph_from_gdfs(nodes, edges, graph_attrs={"crs": "EPSG:4326"})
    path = tmp_path / "walk.graphml"
    ox.save_graphml(g, path)
    net = load_network(path)
    assert net.n_nodes == lattice_net.n_nodes
    assert len(net.edges) == len(lattice_net.edges)
    assert np.isclose(net.edges["length"].sum(), lattice_net.edges["length"].sum(), rtol=1e-6)


def test_bad_sources_raise_network_error(tmp_path):
    with pytest.raises(NetworkError, match="does not exist"):
        load_network(tmp_path / "missing.osm.pbf")
    with pytest.raises(NetworkError, match="no walking network"):
        load_network(None)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a pbf")
    with pytest.raises(NetworkError):
        load_network(broken)
    only_motorways = lines_gdf(["LINESTRING (0 0, 100 0)"], highway=["motorway"])
    with pytest.raises(NetworkError, match="no walkable lines"):
        network_from_lines(only_motorways)
    points = gpd.GeoDataFrame(geometry=shapely.points([[0, 0]]), crs=CRS)
    with pytest.raises(NetworkError, match="must be lines"):
        network_from_lines(points)


def test_download_offline_is_a_clear_network_error(tmp_path, monkeypatch):
    import osmnx as ox

    # configuration only: keep OSMnx's cache out of the repository and fail fast
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox.settings, "cache_folder", str(tmp_path))
    monkeypatch.setattr(ox.settings, "requests_timeout", 5)
    try:
        import socket

        socket.create_connection(("nominatim.openstreetmap.org", 443), timeout=3).close()
        pytest.skip("online: the offline error path cannot be exercised here")
    except OSError:
        pass
    with pytest.raises(NetworkError, match="could not download") as info:
        load_network(place="鼓楼区, 南京市, 中国")
    assert info.value.message_zh and "--network" in str(info.value)


# ----------------------------------------------------------------------------- snapping
def test_snap_is_exact_against_brute_force(lattice, lattice_net):
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = lattice.total_bounds
    pts = shapely.points(rng.uniform(x0 - 400, x1 + 400, 1500), rng.uniform(y0 - 400, y1 + 400, 1500))
    lines = lattice_net.edges.geometry.values.to_numpy()
    brute = shapely.distance(pts[:, None], lines[None, :]).min(axis=1)
    snap = lattice_net.snap(gpd.GeoSeries(pts, crs=CRS), max_snap_m=200.0)
    within = brute <= 200.0
    assert (snap["off_network"].to_numpy() == ~within).all()
    assert np.allclose(snap["snap_m"].to_numpy()[within], brute[within], atol=1e-6)
    e = snap["edge"].to_numpy()[within]
    assert np.allclose(
        shapely.line_locate_point(lines[e], pts[within]), snap["offset_m"].to_numpy()[within], atol=1e-6
    )
    assert snap.index.equals(pd.RangeIndex(1500))
    # a tiny k forces the exact fallback for many points; the answer must not change
    index = SnapIndex(lines, sample_m=40.0, stages=(1,))
    edge, off, dist, _ = index.query(shapely.get_coordinates(pts), 200.0)
    assert index.fallbacks > 0
    assert np.allclose(dist[within], brute[within], atol=1e-6)
    assert (edge[~within] == -1).all()


# ----------------------------------------------------------------------------- distances
def test_same_edge_household_and_facility():
    net = network_from_lines(lines_gdf(["LINESTRING (0 0, 1000 0)", "LINESTRING (1000 0, 1000 500)"]))
    fac = net.snap(gpd.GeoSeries(shapely.points([[300, 10]]), crs=CRS))
    hh = net.snap(gpd.GeoSeries(shapely.points([[350, -20], [900, 0], [1000, 100]]), crs=CRS))
    d = net.nearest(fac, hh)["dist_m"].to_numpy()
    assert np.allclose(d, [10 + 50 + 20, 10 + 600, 10 + 700 + 100])


def test_nearest_equals_networkx_reference(lattice, lattice_net):
    hh = netgen.random_points(lattice, 1200, seed=11, margin=450)
    fac = netgen.random_facilities(lattice, 7, seed=12)
    got = lattice_net.nearest(lattice_net.snap(fac, 300.0), lattice_net.snap(hh, 300.0))
    ref = walk_reference(
        lattice_net.edges, hh.geometry.values.to_numpy(), fac.geometry.values.to_numpy(), 300.0
    )
    d = got["dist_m"].to_numpy()
    assert (np.isnan(d) == np.isnan(ref)).all()
    assert np.nanmax(np.abs(d - ref)) < 0.01
    assert np.isnan(d).any() and np.isfinite(d).sum() > 600


def test_nearest_with_limit_agrees_below_the_limit(lattice_net, lattice):
    hh = lattice_net.snap(netgen.random_points(lattice, 500, seed=4))
    fac = lattice_net.snap(netgen.random_facilities(lattice, 4, seed=5))
    full = lattice_net.nearest(fac, hh)["dist_m"].to_numpy()
    lim = lattice_net.nearest(fac, hh, limit_m=600.0)["dist_m"].to_numpy()
    below = full - hh["snap_m"].to_numpy() <= 600.0
    assert np.allclose(lim[below], full[below])
    assert np.isnan(lim[~below]).all()


def test_reach_matrix_equals_per_source_reference(lattice, lattice_net):
    hh = netgen.random_points(lattice, 600, seed=21)
    cand = netgen.random_facilities(lattice, 9, seed=22)
    hs = lattice_net.snap(hh)
    m = lattice_net.reach_matrix(cand, hs, 900.0, batch=4)
    assert m.shape == (600, 9)
    dense = m.toarray()
    for j in range(9):
        ref = walk_reference(
            lattice_net.edges, hh.geometry.values.to_numpy(), cand.geometry.values.to_numpy()[[j]], math.inf
        )
        ok = ref <= 900.0
        assert np.allclose(dense[ok, j], ref[ok], atol=0.01)
        assert (dense[~ok, j] == 0).all()
    # the row minimum is the nearest-source distance when that is within the cutoff
    near = lattice_net.nearest(lattice_net.snap(cand), hs)["dist_m"].to_numpy()
    nz = np.where(dense > 0, dense, np.inf).min(axis=1)
    ok = near <= 900.0
    assert np.allclose(nz[ok], near[ok])
    assert np.isinf(nz[~ok]).all()


def test_sample_district_travel_times(sample_dir):
    sample = pytest.importorskip("gridplan.datasets.sample")
    if not hasattr(sample, "load_sample"):
        pytest.skip("gridplan.datasets.sample.load_sample is not written yet")
    data = sample.load_sample()
    net = load_network(data["network"])
    fac = data["facilities"]
    hh = data["households"]
    got = net.nearest(net.snap(fac, 300.0), net.snap(hh, 300.0))["dist_m"].to_numpy()
    ref = walk_reference(
        net.edges,
        hh.to_crs(net.crs).geometry.values.to_numpy(),
        fac.to_crs(net.crs).geometry.values.to_numpy(),
        300.0,
    )
    assert (np.isnan(got) == np.isnan(ref)).all()
    assert np.nanmax(np.abs(got - ref)) < 0.01


def test_to_graph_matches_csr_distances(lattice_net):
    from scipy.sparse.csgraph import dijkstra

    g = nx.Graph()
    for a, b, d in lattice_net.to_graph().edges(data="length"):
        if a != b and (not g.has_edge(a, b) or g[a][b]["length"] > d):
            g.add_edge(a, b, length=d)
    ref = nx.single_source_dijkstra_path_length(g, 0, weight="length")
    got = dijkstra(lattice_net.csr, indices=0)
    for node, d in ref.items():
        assert abs(got[node] - d) < 1e-6
    assert isinstance(lattice_net, WalkNetwork)


def test_web_mercator_lines_are_measured_in_metres(lattice_net):
    """A network exported in EPSG:3857 (web maps) is 1.16x too long at 30°N if measured in its
    own units: it is reprojected to the UTM zone, so lengths equal the WGS-84 network's."""
    wgs = lattice_net.edges.to_crs(4326)[["highway", "geometry"]]
    a = network_from_lines(wgs)
    b = network_from_lines(wgs.to_crs(3857))
    assert b.crs.to_epsg() == a.crs.to_epsg()
    assert abs(b.edges["length"].sum() / a.edges["length"].sum() - 1) < 1e-6


def test_a_local_gauss_kruger_zone_is_kept(lattice_net):
    """CGCS2000 3-degree Gauss-Kruger zones measure true lengths: no reprojection."""
    from gridplan.io.projection import local_crs

    lines = lattice_net.edges.to_crs(4326)
    lon = float(lines.union_all().centroid.x)
    zone = 4534 + round((lon - 75) / 3)  # EPSG:4534 is CM 75°E; one code per 3°
    gk = lines.to_crs(zone)
    assert local_crs(gk).to_epsg() == zone


def test_identical_points_snap_once_to_the_same_answer(lattice_net, lattice):
    # households of one building share a point: snapped once, every copy gets the same answer,
    # equal to snapping the distinct points alone
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = lattice.total_bounds
    distinct = np.c_[rng.uniform(x0, x1, 300), rng.uniform(y0, y1, 300)]
    xy = distinct[rng.integers(0, 300, 3000)]
    index = lattice_net.snap_index
    got = index.query(xy, 200.0)
    alone = index.query(distinct, 200.0)
    pos = np.array([np.flatnonzero((distinct == p).all(axis=1))[0] for p in xy])
    for a, b in zip(got, alone):
        assert np.array_equal(a, b[pos], equal_nan=True)
    snap = lattice_net.snap(gpd.GeoSeries(shapely.points(xy), crs=CRS), 200.0, geometry=False)
    assert list(snap.columns) == ["edge", "u", "v", "offset_m", "length_m", "snap_m", "off_network", "x", "y"]
    assert np.array_equal(snap["snap_m"].to_numpy(), got[2], equal_nan=True)
