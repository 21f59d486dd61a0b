"""Synthetic walking networks, households and centres for benchmarks and tests.

A jittered street lattice in a UTM zone (Nanjing's, EPSG:32650 by default):

- east-west streets are long ways running through many junctions (so the loader must node them at
  shared interior vertices), broken where a block edge is removed;
- north-south links are separate short ways with a bent middle vertex (offsets along polylines);
- a share of links get a parallel, longer footway between the same junctions (parallel edges
  must be reduced to the shortest before the CSR is built);
- ``drop`` removes block edges at random, leaving dead ends and a few detached pieces.

Everything is vectorised so that a 500,000-node city builds in seconds. Deterministic per seed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["lattice_network", "random_points", "random_facilities"]


def lattice_network(
    nx: int,
    ny: int,
    *,
    spacing: float = 80.0,
    jitter: float = 12.0,
    drop: float = 0.08,
    parallel: float = 0.03,
    seed: int = 0,
    crs: str = "EPSG:32650",
    origin=(660_000.0, 3_540_000.0),
) -> gpd.GeoDataFrame:
    """A street lattice of ``nx * ny`` junctions as a GeoDataFrame of lines (``highway``, ``name``).

    Parameters
    ----------
    nx, ny : int
        Junctions per row and per column.
    spacing, jitter : float
        Block size and random displacement of junctions (metres).
    drop : float
        Share of block edges removed.
    parallel : float
        Share of north-south links given a parallel detour footway.
    seed : int
        Random seed.
    """
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))  # row-major: node id = y * nx + x
    x = origin[0] + gx.ravel() * spacing + rng.uniform(-jitter, jitter, nx * ny)
    y = origin[1] + gy.ravel() * spacing + rng.uniform(-jitter, jitter, nx * ny)
    node = np.arange(nx * ny).reshape(ny, nx)

    # east-west ways: maximal runs of kept edges along each row
    keep_h = rng.random((ny, nx - 1)) >= drop
    start = keep_h & ~np.c_[np.zeros((ny, 1), bool), keep_h[:, :-1]]
    run = np.cumsum(start.ravel()).reshape(ny, nx - 1) - 1
    # node j of a row belongs to the run of edge j, else of edge j-1
    lab_right = np.c_[np.where(keep_h, run, -1), np.full((ny, 1), -1)]
    lab_left = np.c_[np.full((ny, 1), -1), np.where(keep_h, run, -1)]
    both = (lab_right >= 0) & (lab_left >= 0) & (lab_right != lab_left)
    # a node between two runs cannot happen (runs are maximal), so each node has one label at most
    assert not both.any()
    lab = np.where(lab_right >= 0, lab_right, lab_left).ravel()
    ok = lab >= 0
    ids = node.ravel()[ok]
    h_lines = shapely.linestrings(np.c_[x[ids], y[ids]], indices=lab[ok])
    h_kind = np.where(rng.random(len(h_lines)) < 0.3, "secondary", "residential")

    # north-south links: separate 3-vertex ways with a bent middle
    keep_v = rng.random((ny - 1, nx)) >= drop
    a = node[:-1, :][keep_v]
    b = node[1:, :][keep_v]
    mx = (x[a] + x[b]) / 2 + rng.uniform(-jitter, jitter, len(a))
    my = (y[a] + y[b]) / 2
    coords = np.stack([np.c_[x[a], y[a]], np.c_[mx, my], np.c_[x[b], y[b]]], axis=1).reshape(-1, 2)
    v_lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(a)), 3))
    v_kind = np.where(rng.random(len(a)) < 0.5, "footway", "living_street")

    # parallel detours between the same junctions
    par = rng.random(len(a)) < parallel
    pa, pb = a[par], b[par]
    px = (x[pa] + x[pb]) / 2 + spacing * 0.3
    pcoords = np.stack(
        [np.c_[x[pa], y[pa]], np.c_[px, (y[pa] + y[pb]) / 2], np.c_[x[pb], y[pb]]], axis=1
    ).reshape(-1, 2)
    p_lines = (
        shapely.linestrings(pcoords, indices=np.repeat(np.arange(len(pa)), 3))
        if len(pa)
        else np.empty(0, dtype=object)
    )

    geometry = np.concatenate([h_lines, v_lines, p_lines])
    highway = np.concatenate([h_kind, v_kind, np.full(len(p_lines), "footway")])
    names = np.concatenate(
        [
            np.char.add("路", np.arange(len(h_lines)).astype(str)),
            np.full(len(v_lines) + len(p_lines), None, dtype=object),
        ]
    ).astype(object)
    return gpd.GeoDataFrame({"highway": highway, "name": names}, geometry=geometry, crs=crs)


def random_points(
    lines: gpd.GeoDataFrame, n: int, *, seed: int = 1, max_households: int = 40, margin: float = 0.0
) -> gpd.GeoDataFrame:
    """``n`` household points uniform in the network's bounding box, ``households`` 1..max."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = lines.total_bounds
    pts = shapely.points(rng.uniform(x0 - margin, x1 + margin, n), rng.uniform(y0 - margin, y1 + margin, n))
    return gpd.GeoDataFrame(
        {"households": rng.integers(1, max_households + 1, n)}, geometry=pts, crs=lines.crs
    )


def random_facilities(
    lines: gpd.GeoDataFrame, n: int, *, seed: int = 2, kinds=("community_centre", "street_centre")
) -> gpd.GeoDataFrame:
    """``n`` centres uniform in the network's bounding box, ids ``F00000``..."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = lines.total_bounds
    pts = shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"F{i:05d}" for i in range(n)],
            "name": [f"中心{i}" for i in range(n)],
            "kind": rng.choice(np.asarray(kinds), n),
            "area_m2": rng.uniform(100, 1500, n).round(0),
        },
        geometry=pts,
        crs=lines.crs,
    )
