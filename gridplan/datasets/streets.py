"""Sample district, step 3: the walking network (local metric frame).

Streets, arterial sidewalks and crossings, riverside walks, footbridges, lanes and estate paths are
noded into LineStrings that meet only at shared end points, so that any network builder can join
them by coordinates. Hand-written assembly of synthetic geometry; noding is GEOS (unary_union).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gridplan.datasets.layout import (
    RIVER_NAME,
    RIVER_WIDTH,
    SIDEWALK_OFFSET,
    Layout,
    endpoint_degree,
    node_lines,
)

#: Network reaches this far beyond the street boundary (neighbouring streets' roads).
NETWORK_MARGIN = 150.0
PROMENADE_OFFSET = RIVER_WIDTH / 2 + 5.0
#: Dangling stubs shorter than this are overshoot left from joining lines; they are removed.
STUB_M = 3.0


def _line_rows(geoms, highway, name=None, footway=None, bridge=False):
    return [
        {"geometry": g, "highway": highway, "name": name, "footway": footway, "bridge": bridge}
        for g in geoms
        if g is not None and not g.is_empty
    ]


def base_lines(layout: Layout) -> gpd.GeoDataFrame:
    """Street-level walkable lines before the blocks are filled (not yet noded)."""
    clip = layout.street.buffer(NETWORK_MARGIN)
    river = layout.river
    roads = layout.roads
    cut = river.buffer(RIVER_WIDTH / 2 + 4.4)  # non-bridge roads stop just past the riverside walk
    rows = []
    geoms = shapely.intersection(roads.geometry.values, clip)
    crosses = shapely.intersects(roads.geometry.values, river)
    for g, hw, name, br, x in zip(geoms, roads["highway"], roads["name"], roads["bridge"], crosses):
        if x and not br:
            g = shapely.difference(g, cut)
        rows += _line_rows(shapely.get_parts(g), hw, name, bridge=bool(x and br))
    # Arterial sidewalks: pedestrians walk along an arterial but cross only where a street or a
    # crossing joins both sides (gates connect to the sidewalk, never to the carriageway).
    for name, grp in roads[roads["highway"] == "primary"].groupby("name", sort=True):
        line = shapely.line_merge(shapely.unary_union(grp.geometry.values))
        for off in (SIDEWALK_OFFSET, -SIDEWALK_OFFSET):
            side = shapely.intersection(shapely.offset_curve(line, off), clip)
            rows += _line_rows(shapely.get_parts(side), "footway", name, footway="sidewalk")
        # Two mid-block zebra crossings per arterial, away from intersections.
        parts = [p for p in shapely.get_parts(shapely.intersection(line, layout.street)) if p.length > 300]
        for p in parts[:1]:
            for f in (0.3, 0.7):
                rows += _line_rows(
                    [_across(p, f, SIDEWALK_OFFSET + 0.6)], "footway", name, footway="crossing"
                )
    prom = f"{RIVER_NAME}滨河步道"
    for off in (PROMENADE_OFFSET, -PROMENADE_OFFSET):
        rows += _line_rows(
            shapely.get_parts(shapely.intersection(shapely.offset_curve(river, off), clip)), "footway", prom
        )
    # Footbridges between road bridges: the river is otherwise crossed only on road bridges.
    bridges_x = shapely.get_coordinates(
        shapely.intersection(shapely.unary_union(roads.loc[roads["bridge"], "geometry"].values), river)
    )[:, 0]
    inner = shapely.intersection(river, layout.street)
    for f in _footbridge_fractions(inner, bridges_x):
        rows += _line_rows([_across(inner, f, PROMENADE_OFFSET + 0.6)], "footway", "人行桥", bridge=True)
    return gpd.GeoDataFrame(rows, geometry="geometry")


def _across(line, f: float, half: float) -> shapely.LineString:
    """A segment of ``2 * half`` metres across ``line`` at fraction ``f`` of its length (a zebra
    crossing, a footbridge)."""
    a = shapely.line_interpolate_point(line, f, normalized=True)
    b = shapely.line_interpolate_point(line, f + 0.002, normalized=True)
    t = np.array(b.coords[0]) - np.array(a.coords[0])
    n = np.array([-t[1], t[0]]) / np.hypot(*t)
    a = np.array(a.coords[0])
    return shapely.LineString([a - half * n, a + half * n])


def _footbridge_fractions(inner, bridges_x) -> list[float]:
    """Two footbridges, in the widest gaps between road bridges along the river."""
    if inner.geom_type != "LineString":
        inner = max(shapely.get_parts(inner), key=lambda g: g.length)
    xs = np.sort(np.r_[shapely.get_coordinates(inner)[[0, -1], 0], bridges_x])
    gaps = np.diff(xs)
    best = np.argsort(-gaps, kind="stable")[:2]
    out = []
    for i in sorted(best):
        xm = (xs[i] + xs[i + 1]) / 2
        pt = shapely.intersection(inner, shapely.LineString([(xm, -1e5), (xm, 1e5)]))
        out.append(float(shapely.line_locate_point(inner, shapely.get_parts(pt)[0], normalized=True)))
    return out


def assemble(lines: gpd.GeoDataFrame, street: shapely.Polygon, river: shapely.LineString) -> gpd.GeoDataFrame:
    """Node every walkable line, trim overshoot stubs, clip to the network extent, order stably.

    ``bridge`` ends up true on exactly the pieces that cross the river.
    """
    lines = lines.copy()
    lines["geometry"] = shapely.intersection(lines.geometry.values, street.buffer(NETWORK_MARGIN))
    lines = lines[~lines.geometry.is_empty].reset_index(drop=True)
    net = _merge_close_nodes(node_lines(lines))
    for _ in range(3):
        a, b, deg = endpoint_degree(net.geometry.values)
        short = net.length.to_numpy() < STUB_M
        stub = ((deg[a] == 1) | (deg[b] == 1) | (a == b)) & short
        if not stub.any():
            break
        net = net[~stub].reset_index(drop=True)
    net = _drop_outside_fragments(net, street)
    net["bridge"] = shapely.intersects(net.geometry.values, river)
    # Orientation and order fixed by geometry so that the file bytes are stable.
    net["geometry"] = shapely.normalize(net.geometry.values)
    mid = shapely.get_coordinates(shapely.line_interpolate_point(net.geometry.values, 0.5, normalized=True))
    order = np.lexsort((np.round(mid[:, 0], 2), np.round(mid[:, 1], 2)))
    return net.iloc[order].reset_index(drop=True)


def _merge_close_nodes(net: gpd.GeoDataFrame, tol: float = 0.5) -> gpd.GeoDataFrame:
    """Join line ends that GEOS left a few centimetres apart (near-coincident intersections).

    Noding two lines that cross another one almost at the same point can leave their end points a
    hair apart; such ends are moved onto one shared coordinate (the one most lines already use).
    """
    geoms = net.geometry.values
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    ncoord = shapely.get_num_coordinates(geoms)
    first = np.r_[0, np.cumsum(ncoord)[:-1]]
    last = first + ncoord - 1
    pos = np.r_[first, last]
    ends = xy[pos]
    pairs = cKDTree(ends).query_pairs(tol, output_type="ndarray")
    if len(pairs) == 0:
        return net
    _, exact = np.unique(ends, axis=0, return_inverse=True)
    m = len(ends)
    g = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, cluster = csgraph.connected_components(g, directed=False)
    uses = np.bincount(exact)[exact]
    # representative per cluster: most used coordinate, then smallest x, y (deterministic)
    order = np.lexsort((ends[:, 1], ends[:, 0], -uses, cluster))
    rep = np.empty(cluster.max() + 1, int)
    rep[cluster[order[::-1]]] = order[::-1]
    xy = xy.copy()
    xy[pos] = ends[rep[cluster]]
    lines = shapely.linestrings(xy, indices=idx)
    # Two short pieces whose far ends merged become the same line: keep one.
    wkb = shapely.to_wkb(shapely.normalize(lines))
    _, first_seen = np.unique(wkb, return_index=True)
    keep = np.zeros(len(lines), bool)
    keep[first_seen] = True
    out = net.copy()
    out["geometry"] = lines
    return out[keep & (shapely.length(lines) > 1e-6)].reset_index(drop=True)


def _drop_outside_fragments(net: gpd.GeoDataFrame, street: shapely.Polygon) -> gpd.GeoDataFrame:
    """Remove pieces cut off by the network margin that never reach the street itself."""
    _, a, _, graph = node_graph(net)
    _, label = csgraph.connected_components(graph, directed=False)
    touches = shapely.intersects(net.geometry.values, street)
    return net[np.isin(label[a], label[a[touches]])].reset_index(drop=True)


def node_graph(net: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Node coordinates, each line's end-node indices, and a symmetric CSR matrix of lengths (m)."""
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(net.geometry.values, 0)),
            shapely.get_coordinates(shapely.get_point(net.geometry.values, -1)),
        ]
    )
    nodes, inv = np.unique(ends, axis=0, return_inverse=True)
    n = len(net)
    a, b = inv[:n], inv[n:]
    w = net.length.to_numpy()
    # Two lines may join the same pair of nodes (a ring cut at two points): keep the shorter.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
    lo, hi, w = lo[first], hi[first], w[first]
    m = sparse.coo_matrix((np.r_[w, w], (np.r_[lo, hi], np.r_[hi, lo])), shape=(len(nodes),) * 2)
    return nodes, a, b, m.tocsr()


def walk_from(net: gpd.GeoDataFrame, points_xy: np.ndarray, targets_xy: np.ndarray) -> np.ndarray:
    """Network metres from each target to the nearest source point (both snapped to nodes)."""
    nodes, _, _, graph = node_graph(net)
    tree = cKDTree(nodes)
    ds, src = tree.query(points_xy)
    dt, tgt = tree.query(targets_xy)
    dist = csgraph.dijkstra(graph, directed=False, indices=np.unique(src), min_only=True)
    return dist[tgt] + dt
