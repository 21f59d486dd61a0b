"""Deterministic synthetic inputs shared by the benchmarks (and usable from tests).

- :func:`random_region`: n random points carrying 10-120 households each in a square, with their
  Voronoi cells clipped to the square (one region, the peers benchmark).
- :func:`city`: a city of communities, estates, buildings and household points (the scale benchmark).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["random_region", "city", "UTM50N"]

#: A metric CRS near Yichang/Wuhan (UTM 49N); the generators build there and return EPSG:4326.
UTM50N = "EPSG:32649"
_ORIGIN = (300_000.0, 3_390_000.0)


def random_region(n: int, *, side: float = 2000.0, seed: int = 0):
    """``n`` points with 10-120 households in a ``side`` m square, and their clipped Voronoi cells.

    Returns
    -------
    points : GeoDataFrame (metric CRS) with ``households``
    cells : GeoDataFrame (metric CRS), one Voronoi cell per point, same order
    square : shapely Polygon
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, side, size=(n, 2)) + np.array(_ORIGIN)
    hh = rng.integers(10, 121, size=n)
    square = shapely.box(_ORIGIN[0], _ORIGIN[1], _ORIGIN[0] + side, _ORIGIN[1] + side)
    pts = shapely.points(xy)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=square))
    tree = shapely.STRtree(vor)
    pi, vi = tree.query(pts, predicate="within")
    cells = np.empty(n, dtype=object)
    cells[pi] = shapely.intersection(vor[vi], square)
    points = gpd.GeoDataFrame({"households": hh}, geometry=pts, crs=UTM50N)
    return points, gpd.GeoDataFrame({"households": hh}, geometry=cells, crs=UTM50N), square


def city(
    n_households: int = 1_000_000,
    n_buildings: int = 25_000,
    n_estates: int = 2_500,
    n_communities: int = 400,
    *,
    seed: int = 0,
):
    """A deterministic synthetic city.

    Communities are the cells of a jittered square lattice; estates are small rectangles inside
    communities holding most buildings; the remaining buildings are loose. Each building has one
    to three entrance points that share its households.

    Returns
    -------
    dict with ``communities``, ``estates``, ``buildings``, ``households`` GeoDataFrames in EPSG:4326.
    """
    rng = np.random.default_rng(seed)
    side = int(math.ceil(math.sqrt(n_communities)))
    size = 900.0
    # communities: Voronoi of jittered lattice points clipped to the city rectangle
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    centres = np.c_[gx.ravel(), gy.ravel()][:n_communities] * size + size / 2
    centres = centres + rng.uniform(-0.2, 0.2, centres.shape) * size
    extent = shapely.box(0, 0, side * size, math.ceil(n_communities / side) * size)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=extent))
    pts = shapely.points(centres)
    pi, vi = shapely.STRtree(vor).query(pts, predicate="within")
    comm = np.empty(n_communities, dtype=object)
    comm[pi] = shapely.intersection(vor[vi], extent)
    cid = np.array([f"C{i:04d}" for i in range(n_communities)])

    # buildings: random points inside communities (rejection sampling over each community bbox)
    per_comm = rng.multinomial(n_buildings, np.full(n_communities, 1.0 / n_communities))
    bx, by, bc = [], [], []
    for c in range(n_communities):  # bench data generation, not a hot path of gridplan
        need = per_comm[c]
        x0, y0, x1, y1 = shapely.bounds(comm[c])
        got = np.empty((0, 2))
        while len(got) < need:
            cand = rng.uniform((x0, y0), (x1, y1), size=(need * 2, 2))
            inside = shapely.contains_xy(comm[c], cand[:, 0], cand[:, 1])
            got = np.vstack([got, cand[inside]])
        got = got[:need]
        bx.append(got[:, 0]), by.append(got[:, 1]), bc.append(np.full(need, c))
    bxy = np.c_[np.concatenate(bx), np.concatenate(by)]
    bcomm = np.concatenate(bc)
    # estates: cluster buildings of a community with k-means-like nearest seed assignment
    est_of = np.full(len(bxy), -1)
    e = 0
    order = np.argsort(bcomm, kind="stable")
    starts = np.searchsorted(bcomm[order], np.arange(n_communities))
    ends = np.searchsorted(bcomm[order], np.arange(n_communities), side="right")
    n_est_comm = rng.multinomial(n_estates, np.full(n_communities, 1.0 / n_communities))
    for c in range(n_communities):
        idx = order[starts[c] : ends[c]]
        ne = min(n_est_comm[c], len(idx) // 2)
        if ne == 0:
            continue
        seeds = bxy[idx[rng.choice(len(idx), ne, replace=False)]]
        d = np.linalg.norm(bxy[idx][:, None, :] - seeds[None], axis=2)
        near = d.argmin(1)
        # about 80% of buildings belong to an estate; the rest stay loose
        member = (d.min(1) < 250) & (rng.random(len(idx)) < 0.8)
        est_of[idx[member]] = e + near[member]
        e += ne
    # households per building so that the total is n_households exactly
    raw = rng.gamma(2.0, 1.0, len(bxy))
    exact = raw / raw.sum() * (n_households - len(raw)) + 1
    hh_b = np.floor(exact).astype(np.int64)
    short = n_households - hh_b.sum()  # largest remainders get the households lost to flooring
    hh_b[np.argsort(-(exact - hh_b), kind="stable")[:short]] += 1
    bids = np.array([f"B{i:06d}" for i in range(len(bxy))])
    blds = shapely.buffer(shapely.points(bxy), 12.0, quad_segs=1, cap_style="square")
    eids = np.where(est_of >= 0, np.char.add("E", np.char.zfill(est_of.astype(str), 5)), None)
    # entrance points: 1-3 per building, households split between them
    n_ent = rng.integers(1, 4, len(bxy))
    rep = np.repeat(np.arange(len(bxy)), n_ent)
    share = rng.random(len(rep)) + 0.5
    tot = np.bincount(rep, weights=share)
    hh_e = np.floor(share / tot[rep] * hh_b[rep]).astype(np.int64)
    fix = hh_b - np.bincount(rep, weights=hh_e).astype(np.int64)
    firsts = np.r_[0, np.cumsum(n_ent)[:-1]]
    hh_e[firsts] += fix
    keep = hh_e > 0
    exy = bxy[rep] + rng.uniform(-10, 10, (len(rep), 2))
    households = gpd.GeoDataFrame(
        {
            "households": hh_e[keep],
            "building_id": bids[rep][keep],
            "estate_id": pd.array(eids[rep][keep], dtype="string"),
        },
        geometry=shapely.points(exy[keep]),
        crs=UTM50N,
    )
    used = np.unique(est_of[est_of >= 0])
    est_geom = [shapely.envelope(shapely.multipoints(bxy[est_of == x])).buffer(15) for x in used]
    estates = gpd.GeoDataFrame(
        {"estate_id": [f"E{x:05d}" for x in used], "name": [f"小区{x}" for x in used]},
        geometry=est_geom,
        crs=UTM50N,
    )
    buildings = gpd.GeoDataFrame(
        {"building_id": bids, "estate_id": pd.array(eids, dtype="string"), "households": hh_b},
        geometry=blds,
        crs=UTM50N,
    )
    communities = gpd.GeoDataFrame(
        {"community_id": cid, "name": [f"社区{i}" for i in range(n_communities)]},
        geometry=list(comm),
        crs=UTM50N,
    )
    # shift to a real place so that UTM estimation works
    out = {}
    for key, gdf in (
        ("communities", communities),
        ("estates", estates),
        ("buildings", buildings),
        ("households", households),
    ):
        gdf = gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda c: c + np.array(_ORIGIN)))
        out[key] = gdf.set_crs(UTM50N, allow_override=True).to_crs(4326)
    return out
