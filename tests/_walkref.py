"""An independent reference for walking distances: networkx Dijkstra + shapely STRtree snapping.

Shares no code with gridplan.network beyond the edge table it is given: the graph is rebuilt in
networkx from (u, v, length), points are snapped with shapely's exact STRtree.query_nearest and
line_locate_point, and every facility is searched separately from the two ends of its edge.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely


def snap_reference(lines: np.ndarray, pts: np.ndarray, max_snap_m: float):
    tree = shapely.STRtree(lines)
    (qi, ti), dist = tree.query_nearest(pts, return_distance=True, all_matches=False, max_distance=max_snap_m)
    edge = np.full(len(pts), -1)
    snap = np.full(len(pts), np.nan)
    off = np.full(len(pts), np.nan)
    edge[qi], snap[qi] = ti, dist
    off[qi] = shapely.line_locate_point(lines[ti], pts[qi])
    return edge, off, snap


def walk_reference(edges, hh_pts, fac_pts, max_snap_m=300.0):
    """Walking distance (m) from every household point to its nearest facility point, NaN if none."""
    lines = edges.geometry.values.to_numpy()
    u = edges["u"].to_numpy()
    v = edges["v"].to_numpy()
    length = shapely.length(lines)
    g = nx.Graph()
    g.add_nodes_from(range(int(max(u.max(), v.max())) + 1))
    for a, b, w in zip(u.tolist(), v.tolist(), length.tolist()):
        if a == b:
            continue
        if g.has_edge(a, b):
            g[a][b]["w"] = min(g[a][b]["w"], w)
        else:
            g.add_edge(a, b, w=w)
    he, ho, hs = snap_reference(lines, hh_pts, max_snap_m)
    fe, fo, fs = snap_reference(lines, fac_pts, max_snap_m)
    n = g.number_of_nodes()
    best = np.full(len(hh_pts), np.inf)
    hit = he >= 0
    hu, hv = u[np.maximum(he, 0)], v[np.maximum(he, 0)]
    hl = length[np.maximum(he, 0)]
    for f in range(len(fac_pts)):
        if fe[f] < 0:
            continue
        dist = np.full(n, np.inf)
        for end, leg in ((u[fe[f]], fo[f]), (v[fe[f]], length[fe[f]] - fo[f])):
            for node, d in nx.single_source_dijkstra_path_length(g, end, weight="w").items():
                dist[node] = min(dist[node], d + leg)
        cand = np.minimum(dist[hu] + ho, dist[hv] + (hl - ho))
        same = he == fe[f]
        cand = np.where(same, np.minimum(cand, np.abs(ho - fo[f])), cand)
        best = np.minimum(best, np.where(hit, cand + fs[f] + hs, np.inf))
    return np.where(np.isfinite(best), best, np.nan)
