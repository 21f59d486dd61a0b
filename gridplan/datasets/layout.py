"""Sample district, step 1: roads, river, blocks, the street and its communities.

Everything here works in a local metric frame (x east, y north, metres, origin at the south-west
corner of the district before rotation); :mod:`gridplan.datasets.sample` moves the result to UTM and then
to WGS-84 at the end. Hand-written because no library generates plausible synthetic Chinese
street layouts; the geometry itself is all shapely.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

# District size (metres) before the street outline trims it: about 2.2 km x 2.0 km.
WIDTH = 2200.0
HEIGHT = 2000.0
#: How far road lines run beyond the district so that every block is closed.
OVERRUN = 450.0
#: Mean y of the river (it meanders around this line).
RIVER_Y = 560.0
RIVER_WIDTH = 36.0
#: Half widths (centreline to estate wall) by road class, metres.
SETBACK = {"primary": 26.0, "secondary": 15.0, "residential": 10.0, "river": RIVER_WIDTH / 2 + 16.0}
#: Arterial sidewalks run this far from the centreline.
SIDEWALK_OFFSET = 16.0

VERTICAL_NAMES = [
    "粮道街",
    "紫荆路",
    "书院街",
    "胭脂路",
    "花堤街",
    "青石街",
    "望山路",
    "长湖路",
    "文昌路",
    "积玉路",
    "候补街",
]
HORIZONTAL_NAMES = [
    "棋盘街",
    "大成路",
    "三道街",
    "复兴街",
    "楚望路",
    "民主路",
    "涵三路",
    "白鹭街",
    "昙华林路",
    "彭家巷",
]
ARTERIAL_V = "紫阳大道"
ARTERIAL_H = "武珞路"
SECONDARY_V = "首义路"
SECONDARY_H = "解放路"
RIVER_NAME = "紫阳河"


@dataclass
class Layout:
    """Roads (noded pieces), river, blocks and communities in the local frame."""

    roads: gpd.GeoDataFrame  # road centreline pieces: name, highway, bridge, road_id
    river: shapely.LineString  # river centreline
    blocks: gpd.GeoDataFrame  # block_id, geometry, community (int), touches_river, on_edge
    street: shapely.Polygon  # union of blocks
    n_communities: int
    small_block: int  # block_id of the single-block small community


def _positions(rng: np.random.Generator, start: float, stop: float, lo: float, hi: float) -> list[float]:
    out, p = [], start + rng.uniform(0, lo)
    while p < stop:
        out.append(p)
        p += rng.uniform(lo, hi)
    return out


def _wavy(rng, fixed: float, length: float, amp: float, vertical: bool) -> shapely.LineString:
    """A road running across the whole frame with a gentle, smooth jitter of amplitude ``amp``."""
    t = np.arange(-OVERRUN, length + OVERRUN + 1, 50.0)
    phase = rng.uniform(0, 2 * np.pi, 2)
    wave = amp * np.sin(2 * np.pi * t / rng.uniform(900, 1600) + phase[0]) + 0.3 * amp * np.sin(
        2 * np.pi * t / rng.uniform(300, 500) + phase[1]
    )
    c = fixed + wave
    xy = np.column_stack([c, t]) if vertical else np.column_stack([t, c])
    return shapely.LineString(xy)


def river_line(rng: np.random.Generator) -> shapely.LineString:
    t = np.arange(-OVERRUN, WIDTH + OVERRUN + 1, 25.0)
    ph = rng.uniform(0, 2 * np.pi, 2)
    y = RIVER_Y + 90 * np.sin(2 * np.pi * t / 1500 + ph[0]) + 25 * np.sin(2 * np.pi * t / 420 + ph[1])
    return shapely.LineString(np.column_stack([t, y]))


def node_lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Split lines at every intersection; each piece keeps the attributes of its first source.

    Source order is the priority when two sources overlap (the earlier row wins).
    """
    merged = shapely.unary_union(gdf.geometry.values)
    pieces = shapely.get_parts(shapely.get_parts(merged))
    pieces = pieces[shapely.length(pieces) > 1e-6]
    mid = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(gdf.geometry.values)
    piece_idx, src_idx = tree.query(mid, predicate="dwithin", distance=1e-6)
    first = np.full(len(pieces), -1)
    # lowest source index per piece: sort by (piece, src) then take the first of each piece.
    order = np.lexsort((src_idx, piece_idx))
    piece_idx, src_idx = piece_idx[order], src_idx[order]
    keep = np.r_[True, piece_idx[1:] != piece_idx[:-1]]
    first[piece_idx[keep]] = src_idx[keep]
    if (first < 0).any():  # numerically a midpoint may miss by a hair: fall back to nearest
        miss = np.flatnonzero(first < 0)
        first[miss] = tree.nearest(mid[miss])
    out = gdf.iloc[first].drop(columns="geometry").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=pieces, crs=gdf.crs)


def endpoint_degree(lines) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids of each line's two ends and each node's degree (exact coordinate matching)."""
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(lines, 0)),
            shapely.get_coordinates(shapely.get_point(lines, -1)),
        ]
    )
    _, inv, counts = np.unique(ends, axis=0, return_inverse=True, return_counts=True)
    n = len(lines)
    return inv[:n], inv[n:], counts


def build_roads(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, shapely.LineString]:
    """Road centrelines (before noding) and the river centreline."""
    river = river_line(rng)
    rows = []
    xs = _positions(rng, -260.0, WIDTH + 260.0, 220.0, 300.0)
    mid_x = int(np.argmin(np.abs(np.array(xs) - WIDTH * 0.52)))
    sec_x = int(np.argmin(np.abs(np.array(xs) - WIDTH * 0.2)))
    names = iter(VERTICAL_NAMES)
    curvy = set(rng.choice([i for i in range(len(xs)) if i not in (mid_x, sec_x)], 2, replace=False))
    for i, x in enumerate(xs):
        amp = 55.0 if i in curvy else rng.uniform(6, 18)
        if i == mid_x:
            hw, name, bridge = "primary", ARTERIAL_V, True
        elif i == sec_x:
            hw, name, bridge = "secondary", SECONDARY_V, True
        else:
            hw, name, bridge = "residential", next(names), False
        rows.append((name, hw, bridge, _wavy(rng, x, HEIGHT, amp, vertical=True)))
    ys = [y for y in _positions(rng, -260.0, HEIGHT + 260.0, 210.0, 290.0) if abs(y - RIVER_Y) > 180]
    mid_y = int(np.argmin(np.abs(np.array(ys) - HEIGHT * 0.6)))
    sec_y = int(np.argmin(np.abs(np.array(ys) - HEIGHT * 0.86)))
    names = iter(HORIZONTAL_NAMES)
    for i, y in enumerate(ys):
        if i == mid_y:
            hw, name = "primary", ARTERIAL_H
        elif i == sec_y:
            hw, name = "secondary", SECONDARY_H
        else:
            hw, name = "residential", next(names)
        rows.append((name, hw, False, _wavy(rng, y, WIDTH, rng.uniform(6, 25), vertical=False)))
    # One residential road crosses the river on a bridge too (the third crossing).
    res_v = [i for i in range(len(xs)) if rows[i][1] == "residential" and 0.6 * WIDTH < xs[i] < 0.9 * WIDTH]
    if res_v:
        r = rows[res_v[0]]
        rows[res_v[0]] = (r[0], r[1], True, r[3])
    roads = gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "highway": [r[1] for r in rows], "bridge": [r[2] for r in rows]},
        geometry=[r[3] for r in rows],
    )
    return roads, river


def _drop_some_segments(rng, pieces: gpd.GeoDataFrame, river: shapely.LineString) -> gpd.GeoDataFrame:
    """Remove a few residential pieces between T-junctions so that blocks become irregular."""
    riv_pieces = shapely.get_parts(river)
    allg = np.concatenate([pieces.geometry.values, riv_pieces])
    a, b, deg = endpoint_degree(allg)
    deg = deg.copy()
    a, b = a[: len(pieces)], b[: len(pieces)]
    inside = shapely.contains_xy(
        shapely.box(150, 150, WIDTH - 150, HEIGHT - 150), *shapely.get_coordinates(pieces.geometry.centroid).T
    )
    cand = np.flatnonzero(
        (pieces["highway"].to_numpy() == "residential")
        & inside
        & shapely.is_empty(shapely.intersection(pieces.geometry.values, river.buffer(60)))
    )
    drop = []
    for i in rng.permutation(cand):
        if len(drop) >= max(4, len(cand) // 8):
            break
        if deg[a[i]] >= 4 and deg[b[i]] >= 4:  # both ends stay T-junctions: no dangles
            deg[a[i]] -= 1
            deg[b[i]] -= 1
            drop.append(i)
    return pieces.drop(index=drop).reset_index(drop=True)


def _street_outline(rng) -> shapely.Polygon:
    """A rough irregular outline; the street is made of the blocks whose centre falls in it."""
    ang = np.linspace(0, 2 * np.pi, 11)[:-1] + rng.uniform(-0.15, 0.15, 10)
    rad = rng.uniform(0.98, 1.12, 10)
    cx, cy = WIDTH / 2, HEIGHT / 2
    # A superellipse-like (squarish) shape fills the frame like a real street does.
    c, s = np.cos(ang), np.sin(ang)
    x = cx + rad * (WIDTH / 2 - 40) * np.sign(c) * np.abs(c) ** 0.45
    y = cy + rad * (HEIGHT / 2 - 40) * np.sign(s) * np.abs(s) ** 0.45
    return shapely.Polygon(np.column_stack([x, y]))


def _adjacency(polys: np.ndarray) -> list[set[int]]:
    tree = shapely.STRtree(polys)
    i, j = tree.query(polys, predicate="intersects")
    m = i < j
    i, j = i[m], j[m]
    shared = shapely.length(shapely.intersection(shapely.boundary(polys[i]), shapely.boundary(polys[j])))
    adj = [set() for _ in range(len(polys))]
    for p, q in zip(i[shared > 1.0], j[shared > 1.0]):
        adj[p].add(int(q))
        adj[q].add(int(p))
    return adj


def _group_communities(rng, blocks: gpd.GeoDataFrame, n: int, small: int) -> np.ndarray:
    """Grow ``n - 1`` contiguous communities from spread-out seeds; ``small`` stays on its own."""
    polys = blocks.geometry.values
    adj = _adjacency(polys)
    cent = shapely.get_coordinates(shapely.centroid(polys))
    area = shapely.area(polys)
    # Farthest-point seeds (deterministic from the first random pick) spread communities evenly.
    free = [k for k in range(len(polys)) if k != small and small not in adj[k]]
    seeds = [free[int(rng.integers(len(free)))]]
    while len(seeds) < n - 1:
        d = np.min(np.linalg.norm(cent[free][:, None, :] - cent[seeds][None, :, :], axis=2), axis=1)
        seeds.append(free[int(np.argmax(d))])
    label = np.full(len(polys), -1)
    label[small] = n - 1
    size = np.zeros(n)
    for c, s in enumerate(seeds):
        label[s] = c
        size[c] = area[s]
    while (label < 0).any():
        grown = False
        for c in np.argsort(size[: n - 1], kind="stable"):
            members = np.flatnonzero(label == c)
            frontier = sorted({q for p in members for q in adj[p] if label[q] < 0})
            if not frontier:
                continue
            seed_xy = cent[seeds[c]]
            pick = min(frontier, key=lambda q: (np.hypot(*(cent[q] - seed_xy)), q))
            label[pick] = c
            size[c] += area[pick]
            grown = True
            break
        if not grown:  # an island of blocks no community reaches: give it to its nearest one
            rest = np.flatnonzero(label < 0)
            label[rest[0]] = label[
                np.flatnonzero(label >= 0)[
                    np.argmin(np.linalg.norm(cent[label >= 0] - cent[rest[0]], axis=1))
                ]
            ]
    return label


def build_layout(rng: np.random.Generator, n_communities: int = 10) -> Layout:
    """Roads, river, blocks and communities of the sample district (local frame)."""
    roads, river = build_roads(rng)
    roads["road_id"] = np.arange(len(roads))
    pieces = node_lines(roads)
    pieces = _drop_some_segments(rng, pieces, river)
    faces = shapely.get_parts(
        shapely.polygonize(
            shapely.get_parts(shapely.unary_union(np.concatenate([pieces.geometry.values, [river]])))
        )
    )
    outline = _street_outline(rng)
    faces = faces[shapely.contains(outline, shapely.point_on_surface(faces))]
    # Stable block order: north to south, then west to east.
    rp = shapely.get_coordinates(shapely.point_on_surface(faces))
    faces = faces[np.lexsort((np.round(rp[:, 0]), -np.round(rp[:, 1], -1)))]
    street = shapely.unary_union(faces)
    if street.geom_type != "Polygon":  # keep the largest connected part only
        parts = shapely.get_parts(street)
        street = parts[np.argmax(shapely.area(parts))]
        faces = faces[shapely.within(shapely.point_on_surface(faces), street)]
    blocks = gpd.GeoDataFrame({"block_id": np.arange(len(faces))}, geometry=faces)
    blocks["touches_river"] = shapely.distance(faces, river) < 1.0
    blocks["on_edge"] = shapely.length(shapely.intersection(shapely.boundary(faces), street.boundary)) > 1.0
    area = blocks.area.to_numpy()
    # The small community: a modest block on the edge of the street, away from the river.
    cand = np.flatnonzero(blocks["on_edge"] & ~blocks["touches_river"] & (area > 25000) & (area < 70000))
    if len(cand) == 0:
        cand = np.flatnonzero(blocks["on_edge"].to_numpy())
    small = int(cand[np.argmin(area[cand])])
    blocks["community"] = _group_communities(rng, blocks, n_communities, small)
    return Layout(
        roads=pieces,
        river=river,
        blocks=blocks,
        street=street,
        n_communities=n_communities,
        small_block=small,
    )
