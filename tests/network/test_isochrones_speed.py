"""Isochrones built from merged chains of walkway pieces: still the network's reach, checked
against NetworkX distances; zero-length pieces still get their disc."""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely
from conftest import examples
from generators import network as netgen  # noqa: E402
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.network import network_from_lines
from gridplan.network.isochrones import isochrones
from gridplan.norms import walk_metres

LINES = netgen.lattice_network(10, 8, seed=3, drop=0.15, parallel=0.1)
NET = network_from_lines(LINES)
GRAPH = NET.to_graph()
EDGES = NET.edges.geometry.values.to_numpy()
BUFFER = 30.0
# two polygon approximations of one buffer differ by a round join's chord sagitta (quad_segs=4)
# plus GEOS's 1 % simplification of a buffered line
TOL = BUFFER * (1 - np.cos(np.pi / 16)) + 0.01 * BUFFER + 1e-6


def _node_distances(snap_row) -> dict[int, float]:
    """Walking distance from a snapped facility to every node, by NetworkX (independent)."""
    e = int(snap_row["edge"])
    u, v = int(NET.edges["u"].iat[e]), int(NET.edges["v"].iat[e])
    length = float(NET.edges["length"].iat[e])
    o, a = float(snap_row["offset_m"]), float(snap_row["snap_m"])
    du = nx.single_source_dijkstra_path_length(GRAPH, u, weight="length")
    dv = nx.single_source_dijkstra_path_length(GRAPH, v, weight="length")
    return {n: a + min(o + du.get(n, np.inf), length - o + dv.get(n, np.inf)) for n in GRAPH}


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), minutes=st.lists(st.floats(2, 12), min_size=1, max_size=3, unique=True))
def test_polygons_hold_every_reached_node_and_nothing_beyond_reached_edges(seed, minutes):
    fac = netgen.random_facilities(LINES, 2, seed=seed)
    snap = NET.snap(fac)
    iso = isochrones(NET, fac, minutes=minutes, buffer_m=BUFFER, fac_snap=snap)
    assert list(iso.columns) == [
        "facility_id",
        "name",
        "kind",
        "minutes",
        "distance_m",
        "area_m2",
        "geometry",
    ]
    for f in range(len(fac)):
        dist = _node_distances(snap.iloc[f])
        d = np.array([dist[n] for n in range(NET.n_nodes)])
        rows = iso[iso["facility_id"] == fac["facility_id"].iat[f]].sort_values("minutes")
        assert rows["minutes"].is_monotonic_increasing
        for poly, m in zip(rows.geometry.to_numpy(), rows["minutes"].to_numpy()):
            c = walk_metres(m, 4.0)
            reached = d <= c - 1e-6
            assert shapely.contains_xy(poly, *NET.node_xy[reached].T).all()
            # everything in the polygon is near an edge with a reached end (or the own edge)
            near = reached[NET.edges["u"].to_numpy()] | reached[NET.edges["v"].to_numpy()]
            near[int(snap["edge"].iat[f])] = True
            allowed = shapely.union_all(shapely.buffer(EDGES[near], BUFFER + TOL))
            assert shapely.difference(poly, allowed).area < 1e-6


def test_zero_length_piece_still_gets_its_disc():
    # a facility whose access leg uses all but a trillionth of a metre of the 5-minute walk:
    # its own reached stretch has no length, and its polygon is the buffer's disc
    fac = netgen.random_facilities(LINES, 1, seed=1)
    snap = NET.snap(fac)
    c = walk_metres(5.0, 4.0)
    snap["snap_m"] = c - 1e-12
    iso = isochrones(NET, fac, minutes=(5.0, 10.0), buffer_m=BUFFER, fac_snap=snap)
    assert iso["minutes"].tolist() == [5.0, 10.0]
    e, o = int(snap["edge"].iat[0]), float(snap["offset_m"].iat[0])
    at = shapely.line_interpolate_point(EDGES[e], o)
    disc = iso.geometry.iat[0]
    assert abs(disc.area - np.pi * BUFFER**2) < 0.05 * np.pi * BUFFER**2
    assert disc.contains(at) and shapely.difference(disc, iso.geometry.iat[1]).area < 1e-6


def test_same_result_whatever_the_facility_order():
    fac = netgen.random_facilities(LINES, 4, seed=8)
    a = isochrones(NET, fac, minutes=(5, 10), buffer_m=BUFFER)
    b = isochrones(NET, fac.iloc[::-1], minutes=(5, 10), buffer_m=BUFFER)
    b = b.set_index(["facility_id", "minutes"]).loc[list(zip(a["facility_id"], a["minutes"]))]
    assert shapely.to_wkb(a.geometry.to_numpy()).tolist() == shapely.to_wkb(b.geometry.to_numpy()).tolist()
