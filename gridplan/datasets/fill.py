"""Sample district, step 2: what fills the blocks (estates, gates, buildings, internal paths).

Local metric frame as in :mod:`gridplan.datasets.layout`. Hand-written generation code (no library
lays out synthetic residential compounds); footprints are built as numpy corner arrays and turned
into polygons in one shapely call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from gridplan.datasets.layout import RIVER_WIDTH, SETBACK, SIDEWALK_OFFSET, Layout

#: Walls keep buildings this far inside (metres).
WALL_TO_BUILDING = 8.0
#: The ring path inside the wall.
RING_INSET = 5.0

ESTATE_PREFIX = [
    "锦绣",
    "幸福",
    "阳光",
    "紫荆",
    "翠湖",
    "金色",
    "丽水",
    "书香",
    "和平",
    "东方",
    "滨江",
    "云景",
    "怡和",
    "盛世",
    "嘉禾",
    "福星",
    "长青",
    "春晖",
    "德馨",
    "玉兰",
    "桂苑",
    "清华",
    "荷塘",
    "银杏",
    "凤凰",
    "明珠",
    "湖光",
    "新华",
    "建设",
    "育才",
    "文华",
    "康乐",
]
ESTATE_SUFFIX = [
    "华庭",
    "里小区",
    "花园",
    "苑",
    "家园",
    "小区",
    "名邸",
    "新村",
    "公寓",
    "雅居",
    "城",
    "佳园",
    "雅苑",
    "山庄",
]
GATE_NAMES = {0: "东门", 1: "北门", 2: "西门", 3: "南门"}


@dataclass
class Fill:
    """Everything inside the blocks; lists of dict rows, turned into frames by the caller."""

    estates: list = field(default_factory=list)  # estate polygons + attributes
    gates: list = field(default_factory=list)
    buildings: list = field(default_factory=list)
    paths: list = field(default_factory=list)  # walkable lines: geometry, highway, name
    roles: dict = field(default_factory=dict)  # block_id -> role (for the README and tests)


def block_frame(poly: shapely.Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along (u) and across (v) the block's long side."""
    ring = shapely.get_coordinates(shapely.oriented_envelope(poly))[:4]
    e = np.diff(np.vstack([ring, ring[:1]]), axis=0)[:2]
    u = e[np.argmax(np.hypot(*e.T))]
    u = u / np.hypot(*u)
    if abs(u[0]) < abs(u[1]):  # keep u roughly east-west for stable naming
        u = np.array([u[1], -u[0]]) if u[1] > 0 else np.array([-u[1], u[0]])
    if u[0] < 0:
        u = -u
    return u, np.array([-u[1], u[0]])


def rectangles(cx, cy, w, d, u, v) -> np.ndarray:
    """Rectangles centred at (cx, cy), ``w`` along u and ``d`` along v (vectorised)."""
    cx, cy, w, d = (np.asarray(a, float) for a in (cx, cy, w, d))
    su = np.array([[-1, 1, 1, -1, -1]]) * (w[:, None] / 2)
    sv = np.array([[-1, -1, 1, 1, -1]]) * (d[:, None] / 2)
    x = cx[:, None] + su * u[0] + sv * v[0]
    y = cy[:, None] + su * u[1] + sv * v[1]
    return shapely.polygons(np.stack([x, y], axis=-1))


def _chords(area: shapely.Geometry, c: np.ndarray, u, v, offsets, along_u: bool = True):
    """Straight lines through ``area`` at ``offsets`` from ``c`` (across v if along_u), clipped."""
    lines = []
    for o in offsets:
        if along_u:
            p0, p1 = c + o * v - 2000 * u, c + o * v + 2000 * u
        else:
            p0, p1 = c + o * u - 2000 * v, c + o * u + 2000 * v
        g = shapely.intersection(shapely.LineString([p0, p1]), area)
        lines.extend(p for p in shapely.get_parts(g) if p.geom_type == "LineString" and p.length > 5)
    return lines


def _project(poly, c, u, v):
    xy = shapely.get_coordinates(poly) - c
    pu, pv = xy @ u, xy @ v
    return pu.min(), pu.max(), pv.min(), pv.max()


def _rows(rng, allowed, c, u, v, kind: str, span_v):
    """Rows of buildings across the block; returns footprints, attributes and row-path offsets.

    ``kind`` is walkup, tower or mixed (towers in the northern rows, walk-ups below).
    """
    umin, umax, vmin, vmax = span_v
    cur = vmin + rng.uniform(2, 10)
    polys, attrs, path_offsets = [], [], []
    row = 0
    while cur < vmax:
        is_tower = kind == "tower" or (kind == "mixed" and cur > (vmin + vmax) / 2)
        if is_tower:
            per_floor = int(rng.choice([4, 4, 6]))
            w, d = (24.0, 24.0) if per_floor == 4 else (34.0, 22.0)
            gap_u, gap_v = 34.0, 38.0
            floors = int(rng.integers(18, 34))
        else:
            units = int(rng.choice([2, 3, 3]))
            w, d = 20.0 * units, 12.0
            gap_u, gap_v = 10.0, 20.0
            floors = int(rng.choice([6, 6, 6, 7, 5]))
            per_floor = 2 * units
        vc = cur + d / 2
        n = int((umax - umin) // (w + gap_u)) + 1
        start = umin + rng.uniform(0, w + gap_u)
        us = start + np.arange(-1, n + 1) * (w + gap_u)
        cx = c[0] + us * u[0] + vc * v[0]
        cy = c[1] + us * u[1] + vc * v[1]
        rects = rectangles(cx, cy, np.full(len(us), w), np.full(len(us), d), u, v)
        ok = shapely.within(rects, allowed)
        for r in rects[ok]:
            polys.append(r)
            attrs.append(
                {
                    "kind": "tower" if is_tower else "walkup",
                    "levels": floors,
                    "households": floors * per_floor,
                    "row": row,
                }
            )
        cur = vc + d / 2 + gap_v
        path_offsets.append(cur - gap_v / 2)
        row += 1
    return polys, attrs, path_offsets[:-1]


def fill_blocks(rng: np.random.Generator, layout: Layout, street_lines: np.ndarray) -> Fill:
    """Estates with walls, gates and paths, and buildings, for every block of the layout.

    Estates keep a setback from each road by its class (``SETBACK``); ``street_lines`` are the
    walkable street-side lines (not arterial carriageways) a gate may connect to.
    """
    fill = Fill()
    blocks = layout.blocks
    river_zone = layout.river.buffer(SETBACK["river"])
    # Lanes run from road to road, but stop at an arterial's sidewalk and at the riverside walk
    # (half a metre beyond, so that noding joins them): they must not reach the carriageway.
    primary = layout.roads.geometry.values[layout.roads["highway"].to_numpy() == "primary"]
    lane_stop = shapely.union(
        shapely.unary_union(shapely.buffer(primary, SIDEWALK_OFFSET - 0.6)),
        layout.river.buffer(RIVER_WIDTH / 2 + 4.4),
    )
    roads = layout.roads
    # Setback zone around each road by class, merged once.
    road_zone = shapely.unary_union(
        shapely.buffer(roads.geometry.values, roads["highway"].map(SETBACK).to_numpy())
    )
    area = blocks.area.to_numpy()
    ids = blocks["block_id"].to_numpy()
    roles = {}
    small = layout.small_block
    roles[small] = "small_oldtown"
    others = [b for b in ids if b != small]
    river_blocks = [b for b in others if blocks.loc[b, "touches_river"]]
    green = [b for b in others if area[b] < 22000]
    for b in green:
        roles[b] = "green"
    pool = [b for b in others if b not in roles]
    old = [b for b in rng.permutation([b for b in river_blocks if b in pool])[:3]]
    for b in old:
        roles[int(b)] = "oldtown"
    pool = [b for b in pool if b not in roles]
    for b, r in zip(rng.permutation(pool)[:3], ["school", "park", "hospital"]):
        roles[int(b)] = r
    pool = [b for b in pool if b not in roles]
    for b in rng.permutation(pool)[:2]:
        roles[int(b)] = "loose"
    for b in ids:
        roles.setdefault(int(b), "estates")
    fill.roles = roles

    names = [p + s for p in ESTATE_PREFIX for s in ESTATE_SUFFIX]
    names = [names[i] for i in rng.permutation(len(names))]
    name_iter = iter(names)
    for b in ids:
        role = roles[int(b)]
        poly = blocks.geometry.values[b]
        u, v = block_frame(poly)
        c = np.array(shapely.get_coordinates(shapely.centroid(poly))[0])
        usable = shapely.difference(poly, shapely.union(road_zone, river_zone))
        reach = shapely.difference(poly.buffer(0.6), lane_stop)
        if role == "estates":
            _estates_in_block(rng, fill, int(b), reach, usable, u, v, c, name_iter, street_lines)
        elif role == "loose":
            _loose_block(rng, fill, int(b), reach, usable, u, v, c)
        elif role in ("oldtown", "small_oldtown"):
            _old_town(
                rng, fill, int(b), poly, reach, usable, u, v, c, cap=260 if role == "small_oldtown" else None
            )
    return fill


def _estates_in_block(rng, fill, b, reach, usable, u, v, c, name_iter, street_lines):
    umin, umax, vmin, vmax = _project(usable, c, u, v)
    k = int(np.clip(round((umax - umin) * (vmax - vmin) / 50000), 1, 3))
    # Lanes split the block across its long side into k estates.
    cuts = [umin + (umax - umin) * i / k + rng.uniform(-15, 15) for i in range(1, k)]
    lanes = _chords(reach, c, u, v, cuts, along_u=False)
    for ln in lanes:
        fill.paths.append({"geometry": ln, "highway": "service", "name": None})
    parts = shapely.get_parts(
        shapely.difference(
            usable, shapely.unary_union([ln.buffer(6) for ln in lanes]) if lanes else shapely.Polygon()
        )
    )
    parts = [shapely.simplify(p, 1.0) for p in parts if p.area > 6000]
    parts.sort(key=lambda p: round(p.centroid.coords[0][0] * u[0] + p.centroid.coords[0][1] * u[1]))
    targets = np.concatenate([street_lines, np.array(lanes, dtype=object)]) if lanes else street_lines
    for i, part in enumerate(parts):
        kind = str(rng.choice(["walkup", "walkup", "tower", "mixed"]))
        allowed = part.buffer(-WALL_TO_BUILDING)
        pc = np.array(part.centroid.coords[0])
        polys, attrs, offs = _rows(rng, allowed, pc, u, v, kind, _project(part, pc, u, v))
        if not polys:
            continue
        est = {"geometry": part, "name": next(name_iter), "block": b, "kind": kind}
        fill.estates.append(est)
        idx = len(fill.estates) - 1
        for p, a in zip(polys, attrs):
            fill.buildings.append({"geometry": p, "estate": idx, **a})
        # One ring path along the wall (of the main body, if the wall pinches the estate in two).
        inner = max(shapely.get_parts(part.buffer(-RING_INSET)), key=lambda g: g.area)
        fill.paths.append({"geometry": inner.exterior, "highway": "footway", "name": None})
        # Row paths overshoot the ring by half a metre so noding joins them; stubs are trimmed.
        for ln in _chords(inner.buffer(0.5), pc, u, v, offs, along_u=True):
            fill.paths.append({"geometry": ln, "highway": "footway", "name": None})
        neighbours = shapely.unary_union([q for j, q in enumerate(parts) if j != i])
        _gates(rng, fill, idx, part, inner.exterior, u, v, targets, neighbours)


def _gates(rng, fill, idx, part, ring, u, v, street_lines, neighbours):
    """1-3 gates where the wall comes closest to a street; connectors inside and out.

    A connector never crosses a neighbouring estate (walls are only passed through gates).
    """
    tree = shapely.STRtree(street_lines)
    cands = []
    start = np.array(part.point_on_surface().coords[0])
    diag = [(u + v) / np.sqrt(2), (v - u) / np.sqrt(2), -(u + v) / np.sqrt(2), (u - v) / np.sqrt(2)]
    for k, d in enumerate([u, v, -u, -v] + diag):
        ray = shapely.LineString([start, start + 3000 * d])
        hit = shapely.intersection(ray, part.exterior)
        pts = shapely.get_coordinates(hit)
        if len(pts) == 0:
            continue
        g = pts[np.argmin(np.hypot(*(pts - start).T))]
        gp = shapely.Point(g)
        near = street_lines[tree.nearest(gp)]
        q = np.array(shapely.get_coordinates(shapely.shortest_line(gp, near))[1])
        dist = float(np.hypot(*(q - g)))
        if shapely.intersects(shapely.LineString([g, q]), neighbours):
            continue
        cands.append((dist, k, g, q, d))
    # Gates on the four sides first; corners only when no side reaches a street directly.
    sides = sorted((t for t in cands if t[1] < 4), key=lambda t: (t[0], t[1]))
    cands = [t for t in sides if t[0] < 60] or sorted(cands, key=lambda t: (t[0], t[1]))[:1]
    n = int(rng.choice([1, 2, 2, 3]))
    chosen = cands[:n]
    # World direction of each gate for its name (东/北/西/南门).
    for j, (dist, _k, g, q, _d) in enumerate(chosen):
        ang = np.degrees(np.arctan2(*(g - np.array(part.centroid.coords[0]))[::-1])) % 360
        name = GATE_NAMES[int(((ang + 45) % 360) // 90)]
        fill.gates.append({"geometry": shapely.Point(g), "estate": idx, "name": name, "seq": j})
        out = q + (q - g) / max(dist, 1e-9) * 0.6
        # Inside, straight to the nearest point of the ring path (and half a metre beyond).
        r = np.array(shapely.get_coordinates(shapely.shortest_line(shapely.Point(g), ring))[1])
        inner = r + (r - g) / max(float(np.hypot(*(r - g))), 1e-9) * 0.6
        fill.paths.append(
            {"geometry": shapely.LineString([inner, g, out]), "highway": "service", "name": None}
        )
    fill.estates[idx]["n_gates"] = len(chosen)


def _loose_block(rng, fill, b, reach, usable, u, v, c):
    """Old work-unit walk-ups (单位宿舍) with no wall: loose buildings reached by lanes."""
    part = max(shapely.get_parts(usable), key=lambda p: p.area)
    pc = np.array(part.centroid.coords[0])
    polys, attrs, offs = _rows(rng, part.buffer(-3), pc, u, v, "walkup", _project(part, pc, u, v))
    for p, a in zip(polys, attrs):
        a["levels"] = int(rng.choice([5, 6, 7]))
        a["households"] = a["levels"] * (2 if p.length < 110 else 3) * 2
        fill.buildings.append({"geometry": p, "estate": None, **a})
    for ln in _chords(reach, pc, u, v, offs, along_u=True):
        fill.paths.append({"geometry": ln, "highway": "service", "name": None})


def _old_town(rng, fill, b, poly, reach, usable, u, v, c, cap=None):
    """Dense low-rise old town (老城区): small houses on a fine lane grid; no walls."""
    umin, umax, vmin, vmax = _project(poly, c, u, v)
    lane_u = np.arange(vmin + rng.uniform(30, 50), vmax - 20, 52.0)
    lane_v = np.arange(umin + rng.uniform(40, 70), umax - 30, 85.0)
    lanes = _chords(reach, c, u, v, lane_u, True) + _chords(reach, c, u, v, lane_v, False)
    for i, ln in enumerate(lanes):
        fill.paths.append(
            {"geometry": ln, "highway": "living_street" if i % 2 == 0 else "path", "name": None}
        )
    allowed = shapely.difference(usable.buffer(2), shapely.unary_union([ln.buffer(4) for ln in lanes]))
    gu = np.arange(umin, umax, 15.0)
    gv = np.arange(vmin, vmax, 14.0)
    U, V = (a.ravel() for a in np.meshgrid(gu, gv))
    U = U + rng.uniform(-1, 1, U.size)
    V = V + rng.uniform(-1, 1, V.size)
    w = rng.uniform(8, 12.5, U.size)
    d = rng.uniform(7, 11, U.size)
    rects = rectangles(c[0] + U * u[0] + V * v[0], c[1] + U * u[1] + V * v[1], w, d, u, v)
    ok = shapely.within(rects, allowed) & (rng.random(U.size) > 0.15)
    idx = np.flatnonzero(ok)
    if cap is not None:  # keep the houses nearest the middle until the cap
        dist = np.hypot(U[idx], V[idx])
        idx = idx[np.argsort(dist, kind="stable")]
    total = 0
    for i in idx:
        levels = int(rng.choice([1, 2, 2, 3]))
        hh = levels * (2 if w[i] * d[i] > 100 else 1)
        if cap is not None and total + hh > cap:
            break
        total += hh
        fill.buildings.append(
            {
                "geometry": rects[i],
                "estate": None,
                "kind": "lowrise",
                "levels": levels,
                "households": hh,
                "row": -1,
            }
        )
