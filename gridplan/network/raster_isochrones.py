"""Isochrone polygons from a raster: every facility's walking times on a grid, contoured.

The exact method (:mod:`gridplan.network.isochrones`) buffers and unions the reached walkway
pieces of each facility in GEOS, about 0.1 CPU-s per facility on a city. Here, per facility:

1. one Dijkstra run, limited to the largest threshold, on the sub-network within that distance
   (groups of neighbouring facilities share one), gives the network distance of every node;
2. every reached walkway is sampled every ``cell_m`` metres (vertices and both ends included,
   plus the facility's snapped point), and each sample gets its exact walking time
   ``min(du + a, dv + len - a, access + |a - offset|)`` (the last term on the facility's own
   edge only); samples beyond the largest threshold are dropped, which keeps the partial-edge
   cut to within a sample;
3. the samples are binned on a grid of ``cell_m`` cells aligned to the CRS origin (the least
   time per cell), and a minimum filter over a disc of radius ``buffer_m + cell_m / 2`` turns it
   into the field ``G(x)`` = the least time of any sample within the buffer of cell ``x``;
4. contourpy outlines, on the piecewise-linear surface of the cell centres (``quad_as_tri``),
   the cells with ``G <= t`` for every threshold ``t`` (through the step field of
   :func:`_contours`). One field for all thresholds makes the polygons nested by construction.

The limit, with ``h = cell_m`` and ``R_t`` the walkway pieces reached within ``t`` (exactly, as
the exact method cuts them): every polygon lies between ``R_t`` buffered by
``buffer_m - tolerance`` and by ``buffer_m + tolerance``, ``tolerance = (0.5 + 1.5 sqrt 2) h``
(:func:`tolerance_m`; 26 m at 10 m cells). Outward: a point inside is within a quad diagonal
(``sqrt 2 h``) of a cell centre with ``G <= t``, which is within ``buffer_m + h / 2`` of a cell
holding a reached sample, whose centre is within ``sqrt 2 h / 2`` of that sample. Inward: the
time along an edge is concave between consecutive samples (the facility's point is a sample), so
a reached point has a reached sample within ``h``, and the same steps run backwards need
``(1.5 sqrt 2 - 0.5) h + h = tolerance``. A household is therefore never counted inside a
polygon when it stands more than ``buffer_m + tolerance`` from every walkway reached in time,
and always counted inside when it stands within ``buffer_m - tolerance`` of one.

Written by hand (binning and the disc filter in NumPy) because no installed library rasterises
network distances; SciPy runs the searches and contourpy draws the outlines.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import contourpy
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from tqdm import tqdm

from gridplan.network.graph import MIN_EDGE_M, WalkNetwork
from gridplan.network.snapping import _samples, morton_order

__all__ = ["RASTER_CELL_M", "raster_polygons", "tolerance_m"]

#: Default raster cell (metres).
RASTER_CELL_M = 10.0
#: Facilities searched together on one sub-network.
GROUP = 16


def tolerance_m(cell_m: float = RASTER_CELL_M) -> float:
    """How far a raster isochrone's outline may stand from the exact buffered reach (metres).

    Parameters
    ----------
    cell_m : float
        Raster cell.

    Returns
    -------
    float
        ``(0.5 + 1.5 sqrt 2) * cell_m`` (module docstring).
    """
    return (0.5 + 1.5 * math.sqrt(2.0)) * float(cell_m)


def _expand(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR ``ptr`` and selected ``rows``: (position in ``rows``, CSR entry) of every entry."""
    count = ptr[rows + 1] - ptr[rows]
    rep = np.repeat(np.arange(len(rows)), count)
    k = np.repeat(ptr[rows] - (np.cumsum(count) - count), count) + np.arange(len(rep))
    return rep, k


def _running_min(z: np.ndarray, axis: int, widths: list[int], pad: int) -> dict[int, np.ndarray]:
    """Centred running minima of ``z`` along ``axis`` for every odd width in ``widths`` (at most
    ``2 pad + 1``), on the cells at least ``pad`` from the ends: ``{width: array}``, each
    ``2 pad`` cells shorter than ``z`` along ``axis``.

    By doubling: the minima over windows of 1, 2, 4, ... cells are built once, and a window of
    ``w`` cells is the minimum of two overlapping power-of-two windows: a few whole-array
    ``np.minimum`` calls per width, five times faster here than
    ``scipy.ndimage.minimum_filter1d``.
    """
    n = z.shape[axis] - 2 * pad

    def cut(arr, start):
        return arr[(slice(None),) * axis + (slice(start, start + n),)]

    ladder = {1: z}
    span = 1
    while 2 * span <= max(widths):
        prev = ladder[span]
        m = prev.shape[axis] - span
        ladder[2 * span] = np.minimum(
            prev[(slice(None),) * axis + (slice(0, m),)], prev[(slice(None),) * axis + (slice(span, None),)]
        )
        span *= 2
    out = {}
    for w in widths:
        span = 1 << (w.bit_length() - 1)
        start = pad - w // 2  # the window of output cell i starts at input cell i + start
        out[w] = np.minimum(cut(ladder[span], start), cut(ladder[span], start + w - span))
    return out


def _disc_min(z: np.ndarray, radius: float) -> tuple[np.ndarray, int]:
    """Minimum of ``z`` (batch, rows, cols) over the cells whose centres lie within ``radius``
    cells of each cell's centre, for the cells at least ``floor(radius)`` from the window's
    sides: the result and that margin (the result is ``2 margin`` smaller along both axes).

    The disc is the union of the rectangles at the corners of its staircase, and the minimum over
    a rectangle is a running minimum along each axis (:func:`_running_min`).
    """
    top = int(math.floor(radius + 1e-9))
    half = [int(math.floor(math.sqrt(max(radius * radius - a * a, 0.0)) + 1e-9)) for a in range(top + 1)]
    corners = [(a, b) for a, b in enumerate(half) if a == top or half[a + 1] < b]
    along_x = _running_min(z, 2, sorted({2 * a + 1 for a, _ in corners}), top)
    out = None
    for a, b in corners:
        m = _running_min(along_x[2 * a + 1], 1, [2 * b + 1], top)[2 * b + 1]
        out = m if out is None else np.minimum(out, m, out=out)
    return out, top


class _Edges:
    """The edge table as arrays, and node -> incident edges (CSR layout)."""

    def __init__(self, network: WalkNetwork) -> None:
        self.lines = network.edges.geometry.values.to_numpy()
        self.u = network.edges["u"].to_numpy()
        self.v = network.edges["v"].to_numpy()
        self.length = network.edges["length"].to_numpy()
        node = np.r_[self.u, self.v]
        self.inc = np.r_[np.arange(len(self.u)), np.arange(len(self.u))][np.argsort(node, kind="stable")]
        self.ptr = np.r_[0, np.cumsum(np.bincount(node, minlength=network.n_nodes))]


def _local_dijkstra(network: WalkNetwork, fac: dict, cmax: float):
    """Node distances from each facility of a group, up to ``cmax``, on the nodes near them.

    A walk of at most ``cmax`` never leaves the disc of that radius around its start, so the
    sub-network of the nodes in the group's bounding box grown by ``cmax`` holds every such walk
    and gives the same distances as the whole network; each search then costs what it reaches,
    not the city's size (dense rows over half a million nodes cost more than the search).
    Returns the sorted node ids and the (group, nodes) distances (``inf`` beyond ``cmax``).
    """
    xy = network.node_xy
    x0, x1 = fac["x"].min() - cmax, fac["x"].max() + cmax
    y0, y1 = fac["y"].min() - cmax, fac["y"].max() + cmax
    nodes = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    k, s = len(nodes), len(fac["edge"])
    sub = network.csr[nodes][:, nodes].tocoo()
    # one virtual node per facility, with arcs to the ends of its edge (as WalkNetwork does)
    rows, cols, w = [], [], []
    for end, leg in ((fac["u"], fac["offset_m"]), (fac["v"], fac["length_m"] - fac["offset_m"])):
        at = np.minimum(np.searchsorted(nodes, end), max(k - 1, 0))
        ok = (nodes[at] == end) if k else np.zeros(s, dtype=bool)
        rows.append(k + np.flatnonzero(ok))
        cols.append(at[ok])
        w.append(np.maximum(fac["snap_m"][ok] + leg[ok], MIN_EDGE_M))
    rows, cols, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
    # a loop edge gives two arcs to one node: keep the shorter (sparse constructors sum them)
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if len(rows) else np.zeros(0, bool)
    mat = sparse.csr_array(
        (np.r_[sub.data, w[first]], (np.r_[sub.row, rows[first]], np.r_[sub.col, cols[first]])),
        shape=(k + s, k + s),
    )
    dist = csgraph.dijkstra(mat, directed=True, indices=k + np.arange(s), limit=cmax)
    return nodes, np.atleast_2d(dist)[:, :k]


def _reached_samples(E: _Edges, nodes: np.ndarray, dist: np.ndarray, fac: dict, cmax: float, spacing: float):
    """(row, x, y, time) of every sample reached within ``cmax`` by the facilities of one group.

    ``dist`` is (group, len(nodes)) on the sorted node ids ``nodes``; ``fac`` holds the group's
    snapped ``edge``, ``offset_m``, ``snap_m`` and snapped ``x``, ``y``. Only the edges the
    group reaches are sampled, every ``spacing`` metres.
    """
    n_e = len(E.length)
    r, local = np.nonzero(np.isfinite(dist))
    rep, k = _expand(E.ptr, nodes[local])
    # (row, edge) pairs touching a reached node, and every facility's own edge
    rows = np.arange(len(fac["edge"]))
    key = np.unique(np.r_[r[rep].astype(np.int64) * n_e + E.inc[k], rows * n_e + fac["edge"]])
    pr, pe = key // n_e, key % n_e
    edges, inv = np.unique(pe, return_inverse=True)
    pts, line, along = _samples(E.lines[edges], spacing)
    sptr = np.r_[0, np.cumsum(np.bincount(line, minlength=len(edges)))]
    srep, sk = _expand(sptr, inv)
    row, e, a = pr[srep], pe[srep], along[sk]

    def at(end):  # distance of an edge end, inf when it is outside the sub-network
        if len(nodes) == 0:
            return np.full(len(end), np.inf)
        i = np.minimum(np.searchsorted(nodes, end), len(nodes) - 1)
        return np.where(nodes[i] == end, dist[row, i], np.inf)

    t = np.minimum(at(E.u[e]) + a, at(E.v[e]) + (E.length[e] - a))
    own = e == fac["edge"][row]
    t[own] = np.minimum(t[own], fac["snap_m"][row[own]] + np.abs(a[own] - fac["offset_m"][row[own]]))
    keep = t <= cmax
    # the facility's own snapped point: the time's minimum on its edge, so always a sample
    return (
        np.r_[row[keep], rows],
        np.r_[pts[sk[keep], 0], fac["x"]],
        np.r_[pts[sk[keep], 1], fac["y"]],
        np.r_[t[keep], fac["snap_m"]],
    )


def _polygon(gen: contourpy.ContourGenerator, level: float):
    """The filled contour ``{G <= level}`` as one Polygon or MultiPolygon (None when empty)."""
    points, offsets, outer = (c[0] for c in gen.filled(-1.0, level))
    if points is None or len(points) == 0:
        return None
    # Drop the vertices exactly in line with their neighbours (runs along a grid row or column:
    # about 40 % of them): the same polygons, lighter files. Rings come closed; the closing
    # vertex is left out and put back by shapely.
    ring = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    last = np.zeros(len(points), dtype=bool)
    last[offsets[1:] - 1] = True
    start = offsets[:-1][ring]
    end = offsets[1:][ring] - 1  # the closing vertex repeats the start
    i = np.arange(len(points))
    prev = np.where(i == start, end - 1, i - 1)
    nxt = np.where((i + 1 == end) | last, start, i + 1)
    a, b = points[i] - points[prev], points[nxt] - points[i]
    keep = ~last & (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0] != 0.0)
    rings = shapely.linearrings(points[keep], indices=ring[keep])
    polys = shapely.polygons(rings, indices=np.repeat(np.arange(len(outer) - 1), np.diff(outer)))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(list(polys))


def _contours(f: np.ndarray, cx0: int, cy0: int, h: float, cutoffs: np.ndarray):
    """``(threshold index, polygon)`` of the field ``f`` of one facility (window origin cell
    ``cx0``, ``cy0``) at every cutoff, cropped to the cells within the largest.

    What is contoured is the step ``H`` = the first threshold a cell's time is within (the
    number of thresholds when none), at ``t + 0.45``: cell centres fall on the same sides as
    with ``G`` itself, but outlines cross grid edges between 15 % and 85 % of the way, never
    next to a centre. Contouring ``G`` made slivers a centimetre wide where ``G`` sat just
    under a threshold next to an unreached cell, and those collapse to lines when GeoJSON
    rounds coordinates. One field for all thresholds keeps the polygons nested.
    """
    inside = f <= cutoffs[-1]
    rows_in = np.flatnonzero(inside.any(axis=1))
    cols_in = np.flatnonzero(inside.any(axis=0))
    if len(rows_in) == 0:
        return []
    # one cell of margin, outside every polygon, closes the outlines
    r0, r1 = rows_in[0] - 1, rows_in[-1] + 2
    c0, c1 = cols_in[0] - 1, cols_in[-1] + 2
    step = np.searchsorted(cutoffs, f[r0:r1, c0:c1], side="left").astype(np.float64)
    gen = contourpy.contour_generator(
        (cx0 + np.arange(c0, c1) + 0.5) * h,
        (cy0 + np.arange(r0, r1) + 0.5) * h,
        step,
        name="serial",
        fill_type="ChunkCombinedOffsetOffset",
        quad_as_tri=True,
    )
    out = []
    for ti in range(len(cutoffs)):
        g = _polygon(gen, ti + 0.45)
        if g is not None:
            out.append((ti, g))
    return out


def raster_polygons(
    network: WalkNetwork,
    fac_snap: pd.DataFrame,
    cutoffs: np.ndarray,
    *,
    buffer_m: float,
    cell_m: float = RASTER_CELL_M,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Isochrone polygons of every facility and cutoff by the raster method (module docstring).

    Parameters
    ----------
    network : WalkNetwork
    fac_snap : DataFrame
        ``network.snap(facilities)`` (with ``x``, ``y`` columns or snapped point geometries).
    cutoffs : ndarray
        Walking distances (metres), ascending.
    buffer_m : float
        Buffer around reached walkways.
    cell_m : float
        Raster cell (metres).
    progress : bool
        Show a tqdm progress bar over the facilities.

    Returns
    -------
    facility, threshold, geometry : ndarrays
        Position in ``fac_snap``, index into ``cutoffs`` and the polygon, for every non-empty
        polygon, sorted by facility then threshold.
    """
    h = float(cell_m)
    cmax = float(np.max(cutoffs))
    hit = np.flatnonzero(fac_snap["edge"].to_numpy() >= 0)
    out_f, out_t, out_g = [], [], []
    if len(hit) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, dtype=object)
    snapped = _snapped_xy(network, fac_snap.iloc[hit])
    fac_all = {c: fac_snap[c].to_numpy()[hit] for c in ("edge", "u", "v", "offset_m", "length_m", "snap_m")}
    fac_all["x"], fac_all["y"] = snapped[:, 0], snapped[:, 1]
    E = _Edges(network)
    radius = buffer_m / h + 0.5
    # reach (cmax) plus the filter's margin and disc on each side, plus cells that stay empty
    half = int(math.ceil(cmax / h + 2 * radius)) + 3
    w = 2 * half + 1
    bar = tqdm(total=len(hit), desc="isochrones", unit="facility", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    # groups of neighbouring facilities (Z-order) share one small sub-network
    order = morton_order(snapped, cmax)
    for lo in range(0, len(order), GROUP):
        pos = order[lo : lo + GROUP]
        fac = {k: v[pos] for k, v in fac_all.items()}
        nodes, dist = _local_dijkstra(network, fac, cmax)
        row, x, y, t = _reached_samples(E, nodes, dist, fac, cmax, h)
        # window of every facility: w x w cells centred on the cell of its snapped point
        cx0 = np.floor(fac["x"] / h).astype(np.int64) - half
        cy0 = np.floor(fac["y"] / h).astype(np.int64) - half
        ix = np.floor(x / h).astype(np.int64) - cx0[row]
        iy = np.floor(y / h).astype(np.int64) - cy0[row]
        z = np.full(len(pos) * w * w, np.inf)
        np.minimum.at(z, (row * w + iy) * w + ix, t)
        z = z.reshape(len(pos), w, w)

        def one(b, z=z, cx0=cx0, cy0=cy0):
            # one facility at a time: its field stays in the CPU cache through the filter
            f, m = _disc_min(z[b : b + 1], radius)
            return _contours(f[0], cx0[b] + m, cy0[b] + m, h, cutoffs)

        # threads: NumPy, contourpy and GEOS release the GIL for most of the work
        for b, polys in enumerate(pool.map(one, range(len(pos)))):
            for ti, g in polys:
                out_f.append(hit[pos[b]])
                out_t.append(ti)
                out_g.append(g)
        bar.update(len(pos))
    pool.shutdown()
    bar.close()
    geoms = np.empty(len(out_g), dtype=object)
    geoms[:] = out_g
    fac_pos, t_pos = np.asarray(out_f, dtype=np.int64), np.asarray(out_t, dtype=np.int64)
    order = np.lexsort((t_pos, fac_pos))
    return fac_pos[order], t_pos[order], geoms[order]


def _snapped_xy(network: WalkNetwork, snap: pd.DataFrame) -> np.ndarray:
    """Snapped locations of a snap frame: its ``x``, ``y`` columns, else its point geometries,
    else interpolated on the edges."""
    if {"x", "y"} <= set(snap.columns):
        return np.c_[snap["x"].to_numpy(float), snap["y"].to_numpy(float)]
    if "geometry" in snap.columns:
        return shapely.get_coordinates(np.asarray(snap["geometry"].values))
    lines = network.edges.geometry.values.to_numpy()[snap["edge"].to_numpy()]
    return shapely.get_coordinates(shapely.line_interpolate_point(lines, snap["offset_m"].to_numpy()))
