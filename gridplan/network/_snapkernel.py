"""Compiled kernels of :mod:`gridplan.network.snapping`: a uniform grid of segments and the
exact nearest-segment query on it.

The grid. Every segment of every line is cut into pieces no longer than the cell side ``c``; each
piece registers its segment in every cell that its bounding box, grown by ``EPS`` (1 mm), touches.
A segment therefore appears in every cell that holds one of its points, give or take a millimetre,
whatever the rounding of the cut points (~1e-10 m). A cell's segments are in increasing order.

The query and its proof. A point ``p`` in cell ``(i, j)`` visits rings of cells around it: ring
``R`` holds the cells whose Chebyshev distance to ``(i, j)`` is ``R``. After rings ``0..R`` every
segment with a point in the block ``[i - R, i + R] x [j - R, j + R]`` has been measured exactly
(point-to-segment distance). A segment not yet measured has no point in that block, nor within
``EPS`` of it, so it is farther from ``p`` than ``b_R``, the distance from ``p`` to the block's
boundary (``b_R`` = the least of ``p``'s four distances to the block's sides). Hence once the best
distance found is at most ``b_R``, no other segment is as near: the answer is exact, ties
included, and ties are broken by the lowest segment index (segments are numbered line by line,
vertex by vertex, so: the lowest edge, then its first stretch). A point whose answer is not proven
within ``max_rings`` rings is returned as unresolved (segment -2) for an exact fallback; a point
proven farther than ``limit`` from every segment gets -1.

Each point is searched alone, in the same order of cells and segments whatever the threads, so
the result does not depend on the number of threads. Written by hand with numba: no library
offers exact nearest-segment queries at this speed (shapely's STRtree costs ~25 µs per point on a
city; this ~0.2 µs).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: Growth of each piece's bounding box before it is registered (metres): far above the rounding
#: of the cut points, far below anything a planner measures.
EPS = 1e-3


@njit(cache=True)
def segments(xy, line):
    """Segments of lines given as vertices ``xy`` and their line ``line`` (shapely's
    ``get_coordinates(..., return_index=True)``): rows (ax, ay, dx, dy) of start and direction,
    edge, distance of the start along the edge, length; numbered line by line, vertex by vertex
    (the tie order). Also the vertices' bounds (x0, y0, x1, y1)."""
    v = len(line)
    n = 0
    for k in range(v - 1):
        n += line[k + 1] == line[k]
    sxy = np.empty((n, 4))
    edge = np.empty(n, dtype=np.int64)
    cum = np.empty(n)
    length = np.empty(n)
    s = 0
    run = 0.0
    for k in range(v - 1):
        if line[k + 1] != line[k]:
            run = 0.0
            continue
        dx, dy = xy[k + 1, 0] - xy[k, 0], xy[k + 1, 1] - xy[k, 1]
        sxy[s, 0], sxy[s, 1], sxy[s, 2], sxy[s, 3] = xy[k, 0], xy[k, 1], dx, dy
        edge[s] = line[k]
        cum[s] = run
        length[s] = math.sqrt(dx * dx + dy * dy)
        run += length[s]
        s += 1
    bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])
    for k in range(v):
        bounds[0] = min(bounds[0], xy[k, 0])
        bounds[1] = min(bounds[1], xy[k, 1])
        bounds[2] = max(bounds[2], xy[k, 0])
        bounds[3] = max(bounds[3], xy[k, 1])
    return sxy, edge, cum, length, bounds


@njit(cache=True)
def _piece_cells(sxy, s, k, m, x0, y0, c):
    """Cell range (i0, i1, j0, j1) of piece ``k`` of ``m`` of segment ``s``, grown by ``EPS``."""
    ax, ay, dx, dy = sxy[s, 0], sxy[s, 1], sxy[s, 2], sxy[s, 3]
    t0 = k / m
    t1 = (k + 1) / m
    xa, xb = ax + t0 * dx, ax + t1 * dx
    ya, yb = ay + t0 * dy, ay + t1 * dy
    i0 = int(math.floor((min(xa, xb) - EPS - x0) / c))
    i1 = int(math.floor((max(xa, xb) + EPS - x0) / c))
    j0 = int(math.floor((min(ya, yb) - EPS - y0) / c))
    j1 = int(math.floor((max(ya, yb) + EPS - y0) / c))
    return i0, i1, j0, j1


@njit(cache=True)
def _segment_cells(sxy, s, x0, y0, c, nx, out, at):
    """Write the cells of segment ``s`` at ``out[at:]`` (``out`` empty: only count them); returns
    their number. Consecutive pieces of a segment share cells; since a segment is monotone in x
    and in y, a cell of piece k also in piece k - 2 is in piece k - 1, so skipping the cells of the
    previous piece lists each cell once."""
    length = math.sqrt(sxy[s, 2] * sxy[s, 2] + sxy[s, 3] * sxy[s, 3])
    m = max(1, int(math.ceil(length / c)))
    pi0, pi1, pj0, pj1 = 1, 0, 1, 0  # empty previous range
    n = 0
    for k in range(m):
        i0, i1, j0, j1 = _piece_cells(sxy, s, k, m, x0, y0, c)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                if pi0 <= i <= pi1 and pj0 <= j <= pj1:
                    continue
                if len(out):
                    out[at + n] = j * nx + i
                n += 1
        pi0, pi1, pj0, pj1 = i0, i1, j0, j1
    return n


@njit(parallel=True, cache=True)
def build_grid(sxy, x0, y0, c, nx, ny):
    """CSR of the segments of every cell: cell ``j * nx + i`` holds
    ``seg[start[cell]:start[cell + 1]]``, in increasing order. The grid must hold every segment
    with a margin of more than ``EPS`` (no clipping)."""
    n = len(sxy)
    none = np.empty(0, dtype=np.int64)
    count = np.empty(n + 1, dtype=np.int64)
    count[0] = 0
    for s in prange(n):
        count[s + 1] = _segment_cells(sxy, s, x0, y0, c, nx, none, 0)
    at = np.cumsum(count)
    cells = np.empty(at[-1], dtype=np.int64)
    for s in prange(n):
        _segment_cells(sxy, s, x0, y0, c, nx, cells, at[s])
    # counting sort of the (cell, segment) pairs by cell, stable: segments in increasing order
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    for q in range(len(cells)):
        start[cells[q] + 1] += 1
    for cell in range(nx * ny):
        start[cell + 1] += start[cell]
    seg = np.empty(len(cells), dtype=np.int64)
    nxt = start[:-1].copy()
    for s in range(n):
        for q in range(at[s], at[s + 1]):
            seg[nxt[cells[q]]] = s
            nxt[cells[q]] += 1
    return start, seg


@njit(cache=True)
def occupied(sxy, x0, y0, c, nx, ny):
    """Cells holding the midpoint of some segment (a measure of how clustered the segments are)."""
    seen = np.zeros(nx * ny, dtype=np.bool_)
    n = 0
    for s in range(len(sxy)):
        i = min(max(int((sxy[s, 0] + sxy[s, 2] / 2 - x0) / c), 0), nx - 1)
        j = min(max(int((sxy[s, 1] + sxy[s, 3] / 2 - y0) / c), 0), ny - 1)
        if not seen[j * nx + i]:
            seen[j * nx + i] = True
            n += 1
    return n


@njit(cache=True)
def cell_order(px, py, x0, y0, c, nx, ny, tile):
    """Points sorted by tiles of ``tile`` x ``tile`` cells, row by row: consecutive queries then
    read the same few cells, which stay in cache (within a tile the input order is kept: sorting
    by cell there gains nothing measurable, and a count per tile, not per cell, stays in cache).
    A counting sort, stable, so the order is a function of the input alone."""
    n = len(px)
    tx = (nx + tile - 1) // tile
    ty = (ny + tile - 1) // tile
    key = np.empty(n, dtype=np.int64)
    count = np.zeros(tx * ty + 1, dtype=np.int64)
    w = c * tile
    for p in range(n):
        fx = (px[p] - x0) / w
        fy = (py[p] - y0) / w
        i = int(min(max(fx, 0.0), tx - 1.0)) if fx == fx else 0
        j = int(min(max(fy, 0.0), ty - 1.0)) if fy == fy else 0
        key[p] = j * tx + i
        count[key[p] + 1] += 1
    for k in range(tx * ty):
        count[k + 1] += count[k]
    order = np.empty(n, dtype=np.int64)
    for p in range(n):
        order[count[key[p]]] = p
        count[key[p]] += 1
    return order


@njit(cache=True, error_model="numpy", inline="always")  # (~15 % less CPU than a call a point)
def _nearest_one(px, py, start, seg, sxy, x0, y0, c, nx, ny, max_rings, limit):
    """Rings of cells around one point until the proof of the module docstring holds: returns the
    squared distance, the segment (-1: none within ``limit``; -2: not proven) and the position
    along it (0..1). A cell wholly farther than the best so far is skipped: its segments reach at
    most ``EPS`` outside it, so none of them could win or tie."""
    bd2, bs, bt = np.inf, -1, 0.0
    # distance to the grid: beyond the limit, no segment can be near enough
    ox = max(x0 - px, px - (x0 + nx * c), 0.0)
    oy = max(y0 - py, py - (y0 + ny * c), 0.0)
    if not (ox * ox + oy * oy <= limit * limit):  # (also catches NaN coordinates)
        return bd2, -1, bt
    # the cell of p, clamped to +-2 grid widths (a farther point has its answer outside the rings)
    i = int(math.floor(min(max((px - x0) / c, -2.0 * nx - 2.0), 3.0 * nx + 2.0)))
    j = int(math.floor(min(max((py - y0) / c, -2.0 * ny - 2.0), 3.0 * ny + 2.0)))
    for r in range(max_rings + 1):
        for jj in range(max(j - r, 0), min(j + r, ny - 1) + 1):
            gy = max(y0 + jj * c - py, py - (y0 + (jj + 1) * c), 0.0)
            # the ring's top and bottom rows whole, its other rows at both ends
            step = 1 if (jj == j - r or jj == j + r) else 2 * r
            for ii in range(i - r, i + r + 1, step):
                if ii < 0 or ii >= nx:
                    continue
                gx = max(x0 + ii * c - px, px - (x0 + (ii + 1) * c), 0.0)
                g = math.sqrt(gx * gx + gy * gy) - EPS
                if g > 0.0 and g * g > bd2:
                    continue
                cell = jj * nx + ii
                for q in range(start[cell], start[cell + 1]):
                    s = seg[q]
                    dx, dy = sxy[s, 2], sxy[s, 3]
                    wx, wy = px - sxy[s, 0], py - sxy[s, 1]
                    ll = dx * dx + dy * dy
                    t = 0.0
                    if ll > 0.0:
                        t = min(max((wx * dx + wy * dy) / ll, 0.0), 1.0)
                    ex, ey = wx - t * dx, wy - t * dy
                    d2 = ex * ex + ey * ey
                    if d2 < bd2 or (d2 == bd2 and s < bs):
                        bd2, bs, bt = d2, s, t
        bound = min(
            px - (x0 + (i - r) * c),
            x0 + (i + r + 1) * c - px,
            py - (y0 + (j - r) * c),
            y0 + (j + r + 1) * c - py,
        )
        if (bound >= 0.0 and bd2 <= bound * bound) or bound > limit:
            return bd2, (bs if bd2 <= limit * limit else -1), bt
    return bd2, -2, bt


@njit(parallel=True, cache=True, error_model="numpy")
def nearest(px, py, order, grid, segs, limit, max_rings, out_edge, out_off, out_d, out_xy):
    """Nearest edge of points ``order`` (see :func:`_nearest_one`), written at their positions:
    edge (-1: none within ``limit``, -2: not proven), offset along it, distance, snapped point.

    ``grid`` = (start, seg, x0, y0, c, nx, ny) from :func:`build_grid`; ``segs`` = (sxy, edge, cum,
    length) per segment: start and direction (ax, ay, dx, dy), edge, distance of the start along
    its edge, length. The points are read and the answers written in ``order`` first, then moved
    in tight loops: scattered reads and writes amid the search cost more than the search.
    """
    start, seg, x0, y0, c, nx, ny = grid
    sxy, edge, cum, length = segs
    n = len(order)
    xy = np.empty((n, 2))
    for k in prange(n):
        xy[k, 0] = px[order[k]]
        xy[k, 1] = py[order[k]]
    res_s = np.empty(n, dtype=np.int64)
    res = np.empty((n, 4))  # offset, distance, snapped x, y
    chunk = 1024
    for b in prange((n + chunk - 1) // chunk):
        for k in range(b * chunk, min(n, (b + 1) * chunk)):
            d2, s, t = _nearest_one(xy[k, 0], xy[k, 1], start, seg, sxy, x0, y0, c, nx, ny, max_rings, limit)
            if s < 0:
                res_s[k] = s
                res[k, :] = np.nan
            else:
                res_s[k] = edge[s]
                res[k, 0] = cum[s] + t * length[s]
                res[k, 1] = math.sqrt(d2)
                res[k, 2] = sxy[s, 0] + t * sxy[s, 2]
                res[k, 3] = sxy[s, 1] + t * sxy[s, 3]
    for k in prange(n):
        p = order[k]
        out_edge[p] = res_s[k]
        out_off[p] = res[k, 0]
        out_d[p] = res[k, 1]
        out_xy[p, 0] = res[k, 2]
        out_xy[p, 1] = res[k, 3]
