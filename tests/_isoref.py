"""An independent reference for isochrones: the walkway a facility reaches, from NetworkX.

Shares no code with gridplan.network beyond the edge table (u, v, geometry): facilities are
snapped with shapely (tests/_walkref.py), node distances come from NetworkX Dijkstra run from
both ends of the facility's edge, and the reached stretch of every edge is cut with
``shapely.ops.substring``. The polygon of a facility and a distance is the union of those
stretches buffered.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely
from _walkref import snap_reference
from shapely.ops import substring


def graph_of(edges) -> nx.Graph:
    """Nodes and the shortest of parallel edges, from (u, v, geometry length)."""
    g = nx.Graph()
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    g.add_nodes_from(range(int(max(u.max(), v.max())) + 1))
    for a, b, w in zip(u.tolist(), v.tolist(), shapely.length(edges.geometry.values.to_numpy()).tolist()):
        if a != b and (not g.has_edge(a, b) or g[a][b]["w"] > w):
            g.add_edge(a, b, w=w)
    return g


def reached_stretches(edges, g: nx.Graph, fac_pt, cutoff_m: float, max_snap_m: float = np.inf):
    """LineStrings of every stretch of walkway within ``cutoff_m`` of the facility point."""
    lines = edges.geometry.values.to_numpy()
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    length = shapely.length(lines)
    fe, fo, fs = snap_reference(lines, np.array([fac_pt]), max_snap_m)
    if fe[0] < 0:
        return []
    e, o, a = int(fe[0]), float(fo[0]), float(fs[0])
    dist = np.full(g.number_of_nodes(), np.inf)
    for end, leg in ((u[e], o), (v[e], length[e] - o)):
        for node, d in nx.single_source_dijkstra_path_length(g, int(end), weight="w").items():
            dist[node] = min(dist[node], a + leg + d)
    out = []
    ra, rb = cutoff_m - dist[u], cutoff_m - dist[v]  # walk left at each end of every edge
    for j in np.flatnonzero((ra > 0) | (rb > 0)):
        if max(ra[j], 0.0) + max(rb[j], 0.0) >= length[j]:
            out.append(lines[j])
            continue
        if ra[j] > 0:
            out.append(substring(lines[j], 0.0, ra[j]))
        if rb[j] > 0:
            out.append(substring(lines[j], length[j] - rb[j], length[j]))
    r = cutoff_m - a
    if r > 0:  # the facility's own edge, walked straight from its snapped point
        out.append(substring(lines[e], max(o - r, 0.0), min(o + r, length[e])))
    return out


def isochrone_reference(
    edges, g: nx.Graph, fac_pt, cutoff_m: float, buffer_m: float, max_snap_m: float = np.inf
):
    """Union of the reached stretches buffered by ``buffer_m`` (None when nothing is reached)."""
    parts = reached_stretches(edges, g, fac_pt, cutoff_m, max_snap_m)
    if not parts:
        return None
    return shapely.union_all(shapely.buffer(np.asarray(parts, dtype=object), buffer_m, quad_segs=8))
