"""A synthetic city of any size, generated deterministically, for the scale benchmarks.

``make_city(households=1_000_000, seed=0)`` returns the same layers as ``gridplan.datasets.sample.
load_sample()`` (street, communities, estates, buildings, households, facilities, network,
barriers), in EPSG:4326, with the data contract's columns. The city is a square around Wuhan
(114.30 E, 30.58 N) whose side grows with the square root of the household count, so density
stays that of a dense Chinese urban district (10,000 households per km^2) and every quantity
(communities, estates, buildings, network nodes, centres) grows linearly with households:

- streets (街道) of about 3 x 3 km, communities (社区) of about 0.4 km^2 (Voronoi cells of a
  jittered lattice, like Yichang's median 0.52 km^2), each holding about 4,000 households;
- estates (小区): Voronoi cells of a 220 m jittered lattice clipped to the community and shrunk
  to leave streets, 80 % of cells walled estates, the rest loose buildings;
- buildings: 18 x 11 m footprints on a jittered 60 x 40 m lattice, levels 6-33, households in
  proportion to levels x stairwells, scaled so the city holds exactly the requested total;
- households: one point per stairwell entrance (单元门), 2-4 per building, with `households`,
  `population`, `building_id`, `estate_id`;
- walking network: a jittered 50 m lattice (streets plus estate paths) with 10 % of links
  missing, each link cut into 8 straight segments as unsimplified OSM ways are (about 0.55
  network nodes per household), minus the links that cross the river except at bridges;
- barriers: arterial roads every 600 m and one river;
- facilities: about 2 per 1,000 households: one street centre per street, one community centre
  per community, service stations for the rest (2,000 at one million households).

Generated once per (households, seed) and cached as GeoParquet under ``bench/_cache/``.
Everything is vectorised (shapely 2 arrays); one million households take about 5-10 s.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

__all__ = ["LAYERS", "make_city", "load_city", "city_dir", "CACHE"]

CACHE = Path(__file__).resolve().parents[2] / "bench" / "_cache"
LAYERS = ("street", "communities", "estates", "buildings", "households", "facilities", "network", "barriers")

METRIC_EPSG = 32650  # UTM 50N: Wuhan
CENTRE_LONLAT = (114.30, 30.58)
HOUSEHOLDS_PER_KM2 = 10_000.0
COMMUNITY_SPACING_M = 630.0  # about 0.4 km^2 per community
STREET_SPACING_M = 3_000.0
ESTATE_SPACING_M = 220.0
LOOSE_SHARE = 0.2  # share of estate cells that are loose buildings, not an estate
BUILDING_DX, BUILDING_DY = 60.0, 40.0
BUILDING_W, BUILDING_H = 18.0, 11.0
LATTICE_M = 50.0
SEGMENTS_PER_LINK = 8
MISSING_LINKS = 0.10
ARTERIAL_EVERY = 12  # lattice lines: an arterial every 600 m
BRIDGE_EVERY = 16  # lattice columns: a bridge every 800 m
CENTRES_PER_HOUSEHOLD = 2_000 / 1_000_000


def city_dir(households: int, seed: int = 0) -> Path:
    return CACHE / f"city_{int(households)}_s{int(seed)}"


def load_city(households: int, seed: int = 0, *, layers=LAYERS) -> dict[str, gpd.GeoDataFrame]:
    """The city's layers, generated on first use and read from the cache afterwards."""
    folder = city_dir(households, seed)
    if not (folder / "done").exists():
        city = make_city(households, seed)
        folder.mkdir(parents=True, exist_ok=True)
        for name, gdf in city.items():
            tmp = folder / f".{name}.parquet"
            gdf.to_parquet(tmp, index=False)
            tmp.replace(folder / f"{name}.parquet")
        (folder / "done").write_text("ok\n")
        return {k: city[k] for k in layers}
    return {k: gpd.read_parquet(folder / f"{k}.parquet") for k in layers}


def _jittered_lattice(x0, y0, side, spacing, jitter, rng):
    n = max(1, int(round(side / spacing)))
    step = side / n
    gx, gy = np.meshgrid((np.arange(n) + 0.5) * step, (np.arange(n) + 0.5) * step)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts += rng.uniform(-jitter, jitter, pts.shape) * step
    return pts + [x0, y0]


def _voronoi(points, box):
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box)
    cells = np.asarray(shapely.get_parts(cells))
    # voronoi_polygons returns cells in no guaranteed order: put each back on its seed
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(shapely.points(points), predicate="intersects")
    order = np.full(len(points), -1)
    order[seed_idx] = cell_idx
    return shapely.intersection(cells[order], box)


def _largest_remainder(weights, total):
    """Integers >= 1 proportional to ``weights`` that sum exactly to ``total``."""
    weights = np.asarray(weights, dtype=float)
    base = np.ones(len(weights), dtype=np.int64)
    rest = total - base.sum()
    share = weights / weights.sum() * rest
    fl = np.floor(share).astype(np.int64)
    left = rest - fl.sum()
    frac = share - fl
    # stable sort: ties go to the lower index, so the result is deterministic
    top = np.argsort(-frac, kind="stable")[:left]
    fl[top] += 1
    return base + fl


def make_city(households: int = 100_000, seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    """Generate the city (see the module docstring); all layers in EPSG:4326."""
    rng = np.random.default_rng(seed)
    households = int(households)
    side = math.sqrt(households / HOUSEHOLDS_PER_KM2) * 1000.0
    to_m = Transformer.from_crs(4326, METRIC_EPSG, always_xy=True)
    cx, cy = to_m.transform(*CENTRE_LONLAT)
    x0, y0 = cx - side / 2, cy - side / 2
    box = shapely.box(x0, y0, x0 + side, y0 + side)

    # --- streets and communities --------------------------------------------------------
    n_st = max(1, int(round(side / STREET_SPACING_M)))
    st_step = side / n_st
    streets = [
        shapely.box(x0 + i * st_step, y0 + j * st_step, x0 + (i + 1) * st_step, y0 + (j + 1) * st_step)
        for j in range(n_st)
        for i in range(n_st)
    ]
    street = gpd.GeoDataFrame(
        {
            "street_id": [f"S{k + 1:02d}" for k in range(len(streets))],
            "street_name": [f"第{k + 1}街道" for k in range(len(streets))],
        },
        geometry=streets,
        crs=METRIC_EPSG,
    )

    seeds = _jittered_lattice(x0, y0, side, COMMUNITY_SPACING_M, 0.3, rng)
    # each community belongs to the street holding its seed and is a Voronoi cell of the seeds
    # of that street only, so communities tile their street (the hierarchy nests exactly)
    st_of = (
        np.minimum((seeds[:, 0] - x0) // st_step, n_st - 1)
        + n_st * np.minimum((seeds[:, 1] - y0) // st_step, n_st - 1)
    ).astype(int)
    comm_geoms = np.empty(len(seeds), dtype=object)
    for s in range(len(streets)):
        idx = np.flatnonzero(st_of == s)
        sub = _voronoi(seeds[idx], streets[s]) if len(idx) > 1 else np.array([streets[s]])
        comm_geoms[idx] = sub
    comm_geoms = shapely.make_valid(comm_geoms)
    comm_geoms = np.array([_largest_polygon(g) for g in comm_geoms], dtype=object)
    order = np.lexsort((seeds[:, 0], seeds[:, 1], st_of))
    comm_geoms, st_of = comm_geoms[order], st_of[order]
    n_comm = len(comm_geoms)
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{k + 1:04d}" for k in range(n_comm)],
            "name": [f"第{k + 1}社区" for k in range(n_comm)],
            "street_id": street["street_id"].to_numpy()[st_of],
            "street_name": street["street_name"].to_numpy()[st_of],
        },
        geometry=comm_geoms,
        crs=METRIC_EPSG,
    )

    # --- barriers -----------------------------------------------------------------------
    nl = int(side // LATTICE_M)
    step = side / nl
    art = [k for k in range(ARTERIAL_EVERY, nl, ARTERIAL_EVERY)]
    river_x = np.linspace(x0, x0 + side, 200)
    river_y = y0 + side * 0.55 + side * 0.06 * np.sin((river_x - x0) / side * 2 * np.pi * 1.5)
    river = shapely.linestrings(river_x, river_y)
    barrier_geoms = (
        [shapely.linestrings([x0 + k * step] * 2, [y0, y0 + side]) for k in art]
        + [shapely.linestrings([x0, x0 + side], [y0 + k * step] * 2) for k in art]
        + [river]
    )
    barriers = gpd.GeoDataFrame(
        {
            "kind": ["arterial"] * (2 * len(art)) + ["river"],
            "name": [f"{k + 1}路" for k in range(2 * len(art))] + ["江"],
        },
        geometry=barrier_geoms,
        crs=METRIC_EPSG,
    )

    # --- estates ------------------------------------------------------------------------
    e_seeds = _jittered_lattice(x0, y0, side, ESTATE_SPACING_M, 0.3, rng)
    e_cells = gpd.GeoDataFrame(
        {"cell": np.arange(len(e_seeds))}, geometry=_voronoi(e_seeds, box), crs=METRIC_EPSG
    )
    pieces = gpd.overlay(
        e_cells, communities[["community_id", "geometry"]], how="intersection", keep_geom_type=True
    )
    # estates stop at arterials and the river (a walled 小区 does not straddle them)
    cut = shapely.union_all(shapely.buffer(barrier_geoms, 10.0))
    pieces["geometry"] = shapely.buffer(
        shapely.difference(pieces.geometry.values, cut), -8.0, join_style="mitre"
    )
    pieces = pieces[~pieces.geometry.is_empty & (pieces.geometry.area > 2_000.0)]
    pieces = pieces.explode(index_parts=False)
    pieces = pieces[pieces.geometry.area > 2_000.0]
    pieces = pieces.sort_values(["community_id", "cell"], kind="stable").reset_index(drop=True)
    is_estate = rng.random(len(pieces)) >= LOOSE_SHARE
    pieces["estate_id"] = pd.array([None] * len(pieces), dtype="string")
    est_ids = [f"E{k + 1:05d}" for k in range(int(is_estate.sum()))]
    pieces.loc[is_estate, "estate_id"] = est_ids
    estates = gpd.GeoDataFrame(
        {
            "estate_id": est_ids,
            "name": [f"{k + 1}号小区" for k in range(len(est_ids))],
            "community_id": pieces.loc[is_estate, "community_id"].to_numpy(),
        },
        geometry=pieces.geometry.values[is_estate],
        crs=METRIC_EPSG,
    )

    # --- buildings ----------------------------------------------------------------------
    nx, ny = int(side // BUILDING_DX), int(side // BUILDING_DY)
    bx, by = np.meshgrid(x0 + (np.arange(nx) + 0.5) * side / nx, y0 + (np.arange(ny) + 0.5) * side / ny)
    bc = np.column_stack([bx.ravel(), by.ravel()])
    bc += rng.uniform(-6, 6, bc.shape)
    rects = shapely.box(
        bc[:, 0] - BUILDING_W / 2,
        bc[:, 1] - BUILDING_H / 2,
        bc[:, 0] + BUILDING_W / 2,
        bc[:, 1] + BUILDING_H / 2,
    )
    tree = shapely.STRtree(pieces.geometry.values)
    b_idx, p_idx = tree.query(rects, predicate="within")
    keep = np.full(len(rects), -1)
    keep[b_idx] = p_idx
    inside = keep >= 0
    rects, bc, piece_of = rects[inside], bc[inside], keep[inside]
    # a rectangle whose footprint is not wholly inside one piece is a street lot: dropped
    nb = len(rects)
    levels = rng.choice(np.array([6, 7, 11, 18, 26, 33]), size=nb, p=[0.3, 0.15, 0.2, 0.15, 0.1, 0.1])
    stairs = rng.integers(2, 5, size=nb)
    hh_b = _largest_remainder(levels * stairs * rng.uniform(0.8, 1.2, nb), households)
    # households must be at least one per stairwell so every entrance point holds >= 1
    if (hh_b < stairs).any():
        stairs = np.minimum(stairs, hh_b)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{k + 1:06d}" for k in range(nb)],
            "estate_id": pieces["estate_id"].to_numpy()[piece_of],
            "levels": levels.astype(np.int64),
            "households": hh_b.astype(np.int64),
            "name": [f"{k + 1}栋" for k in range(nb)],
            "kind": "residential",
        },
        geometry=rects,
        crs=METRIC_EPSG,
    )

    # --- households: one point per stairwell entrance, on the south side of the building ---
    b_of = np.repeat(np.arange(nb), stairs)
    k_in = np.arange(len(b_of)) - np.repeat(np.cumsum(stairs) - stairs, stairs)
    frac = (k_in + 0.5) / stairs[b_of]
    px = bc[b_of, 0] - BUILDING_W / 2 + frac * BUILDING_W
    py = bc[b_of, 1] - BUILDING_H / 2 - 1.0
    # split each building's households over its entrances (largest share to the first ones)
    base = hh_b[b_of] // stairs[b_of]
    extra = (k_in < (hh_b[b_of] % stairs[b_of])).astype(np.int64)
    hh_p = (base + extra).astype(np.int64)
    pop = np.maximum(hh_p, np.round(hh_p * rng.normal(2.62, 0.25, len(hh_p)))).astype(np.int64)
    households_gdf = gpd.GeoDataFrame(
        {
            "households": hh_p,
            "population": pop,
            "building_id": buildings["building_id"].to_numpy()[b_of],
            "estate_id": buildings["estate_id"].to_numpy()[b_of],
        },
        geometry=shapely.points(px, py),
        crs=METRIC_EPSG,
    )

    # --- walking network ----------------------------------------------------------------
    gx, gy = np.meshgrid(x0 + np.arange(nl + 1) * step, y0 + np.arange(nl + 1) * step)
    node = np.column_stack([gx.ravel(), gy.ravel()])
    node += rng.uniform(-0.2, 0.2, node.shape) * step
    ids = np.arange((nl + 1) ** 2).reshape(nl + 1, nl + 1)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    horizontal = np.r_[np.ones(nl * (nl + 1), bool), np.zeros(nl * (nl + 1), bool)]
    line_no = np.where(horizontal, a // (nl + 1), a % (nl + 1))  # row of a horizontal link etc.
    is_art = np.isin(line_no, art)
    keep = (rng.random(len(a)) >= MISSING_LINKS) | is_art
    links = shapely.linestrings(np.stack([node[a], node[b]], axis=1))
    crosses = shapely.intersects(links, river)
    col = np.where(horizontal, a % (nl + 1), a % (nl + 1))
    bridge = (~horizontal) & (col % BRIDGE_EVERY == 0)
    keep &= ~crosses | bridge
    a, b, is_art, horizontal = a[keep], b[keep], is_art[keep], horizontal[keep]
    t = np.linspace(0.0, 1.0, SEGMENTS_PER_LINK + 1)
    pa, pb = node[a], node[b]
    pts = pa[:, None, :] + (pb - pa)[:, None, :] * t[None, :, None]
    seg = np.stack([pts[:, :-1, :], pts[:, 1:, :]], axis=2).reshape(-1, 2, 2)
    highway = np.where(is_art, "secondary", np.where(rng.random(len(a)) < 0.5, "residential", "footway"))
    network = gpd.GeoDataFrame(
        {
            "highway": np.repeat(highway, SEGMENTS_PER_LINK),
        },
        geometry=shapely.linestrings(seg),
        crs=METRIC_EPSG,
    )
    network["highway"] = network["highway"].astype("string")

    # --- facilities ---------------------------------------------------------------------
    n_fac = max(n_comm + len(streets), int(round(households * CENTRES_PER_HOUSEHOLD)))
    comm_of_b = _community_of(buildings, communities)
    pick_rng = np.random.default_rng(seed + 1)
    # one community centre per community at one of its buildings, stations at random buildings
    first = (
        pd.Series(np.arange(nb))
        .groupby(comm_of_b)
        .apply(lambda s: s.iloc[pick_rng.integers(len(s))])
        .to_numpy()
    )
    n_st_fac = n_fac - n_comm - len(streets)
    stations = np.sort(pick_rng.choice(nb, size=n_st_fac, replace=False))
    st_pts = shapely.centroid(communities.dissolve("street_id").geometry.values)
    fac_pts = np.concatenate(
        [
            st_pts,
            shapely.points(bc[first] + [0, -BUILDING_H / 2 - 4]),
            shapely.points(bc[stations] + [0, -BUILDING_H / 2 - 4]),
        ]
    )
    kinds = ["street_centre"] * len(streets) + ["community_centre"] * len(first) + ["station"] * n_st_fac
    area = np.concatenate(
        [
            np.full(len(streets), 1200.0),
            np.round(rng.uniform(300, 1500, len(first))),
            np.round(rng.uniform(60, 200, n_st_fac)),
        ]
    )
    fac_comm = np.concatenate(
        [
            _community_of(gpd.GeoDataFrame(geometry=st_pts, crs=METRIC_EPSG), communities),
            comm_of_b[first],
            comm_of_b[stations],
        ]
    )
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"F{k + 1:05d}" for k in range(n_fac)],
            "name": [
                f"{k + 1}号党群服务{'中心' if k < len(streets) + len(first) else '站'}" for k in range(n_fac)
            ],
            "kind": kinds,
            "area_m2": area,
            "community_id": fac_comm,
        },
        geometry=fac_pts,
        crs=METRIC_EPSG,
    )

    out = dict(
        street=street,
        communities=communities,
        estates=estates,
        buildings=buildings,
        households=households_gdf,
        facilities=facilities,
        network=network,
        barriers=barriers,
    )
    for k, gdf in out.items():
        for c in gdf.columns:
            if c != "geometry" and gdf[c].dtype == object:
                gdf[c] = gdf[c].astype("string")
        out[k] = gdf.to_crs(4326)
    return out


def _largest_polygon(g):
    if g.geom_type == "Polygon":
        return g
    parts = shapely.get_parts(g)
    parts = parts[shapely.get_type_id(parts) == 3]
    return parts[np.argmax(shapely.area(parts))]


def _community_of(points_or_polys, communities) -> np.ndarray:
    """community_id of each feature's representative point (nearest community if outside)."""
    pts = shapely.point_on_surface(points_or_polys.geometry.values)
    tree = shapely.STRtree(communities.geometry.values)
    i, j = tree.query_nearest(pts, all_matches=False)
    out = np.empty(len(pts), dtype=object)
    out[i] = communities["community_id"].to_numpy()[j]
    return out


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t0 = time.perf_counter()
    city = load_city(n)
    print(f"{n} households: generated/loaded in {time.perf_counter() - t0:.1f} s")
    for k, v in city.items():
        extra = f" households={int(v['households'].sum())}" if k == "households" else ""
        print(f"  {k:12s} {len(v):>9,d} rows{extra}")
