"""Exact nearest-edge snapping for millions of points: a uniform grid of segments, compiled.

shapely's ``STRtree.query_nearest`` is exact but costs ~25 µs of CPU per point on a city network
(100,000 households against the 958,951 edges of the 512,671-junction benchmark city: 2.5 s of CPU,
so ~25 s for a million). Here every segment of every edge goes into the cells of a uniform grid
that it crosses, and a compiled (numba) query visits rings of cells around each point, measuring
the exact point-to-segment distance, until the ring is farther than the best segment found: that
is the proof that nothing else is nearer (:mod:`gridplan.network._snapkernel` gives it in full).
Ties go to the lowest edge, then its first stretch, so the answer depends on the input alone, not
on the threads. Points not settled within ``max(stages)`` rings (far from every edge, with no
snapping limit) fall back to shapely's exact ``STRtree.query_nearest``.

The grid's cell is about the mean spacing of the segments (``sqrt(area / segments)``), halved
while the occupied cells hold many segments each (a dense centre in a sparse bounding box). The
points are visited cell by cell, tile by tile (a counting sort), so consecutive queries read the
same memory; their coordinates are gathered and the answers scattered in tight loops apart from
the search. On the benchmark city the index costs ~0.45 s of CPU and a million households ~0.7 s,
spread over the cores (bench/coverage_peers.py).

The kernels are compiled once per install and cached on disk (numba ``cache=True``): in the
package's ``__pycache__``, or numba's user cache folder when that is read-only; ``NUMBA_CACHE_DIR``
overrides both. A process then pays numba's import and first-use set-up and the cache's load
(0.6-1.5 s on the shared two-core test machine, most of it numba's own set-up). Calls are
serialised by a lock: numba's fallback threading layer (workqueue) aborts on concurrent parallel
calls from two threads (a Streamlit session and a Dask thread, say).

:func:`morton_order` and :func:`_samples` serve :mod:`gridplan.network.raster_isochrones`.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import shapely

__all__ = ["SnapIndex", "morton_order"]

#: Default rings of cells searched before the exact STRtree fallback (the largest counts; a
#: tuple for compatibility with the staged KD-tree this replaced).
STAGES = (16,)
#: Points per kernel call (one progress step).
BLOCK = 262_144
#: Points are visited by tiles of TILE x TILE cells (module docstring).
TILE = 8
#: Cell (metres) of the Morton order of :func:`morton_order`.
MORTON_CELL_M = 0.01
#: The cell is halved while the occupied cells hold more segments than this on average.
CELL_LOAD = 3.0
#: Cells at most, per segment (bounds the grid's memory whatever ``sample_m`` asks for).
CELLS_PER_SEGMENT = 16
MIN_CELLS = 1 << 16
#: One compiled parallel call at a time (module docstring).
_KERNEL_LOCK = threading.Lock()


def morton_order(xy: np.ndarray, cell: float = MORTON_CELL_M) -> np.ndarray:
    """Permutation visiting ``xy`` along a Z-order curve of ``cell``-sized cells.

    Bit interleaving by hand: neither NumPy nor SciPy offers a space-filling-curve sort.
    """
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    g = np.floor((xy - np.nanmin(xy, axis=0)) / cell)
    g = np.nan_to_num(g, nan=0.0).clip(0, 2**31 - 1).astype(np.uint64)

    def spread(v):
        for shift, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    key = spread(g[:, 0]) | (spread(g[:, 1]) << np.uint64(1))
    # ties are points of one cell, each snapped on its own: their order changes no result
    return np.argsort(key)


def _samples(lines: np.ndarray, h: float):
    """Samples along every line, no two consecutive ones of a line more than ``h`` apart.

    Each segment is split into ``ceil(length / h)`` equal parts, as ``shapely.segmentize`` does,
    but in NumPy on the lines' coordinates: no densified geometries are built (a third of the
    index's build time on the benchmark city). Returns the samples' coordinates (n, 2), the line
    of each and its distance along that line from the line's start.
    """
    xy, line = shapely.get_coordinates(lines, return_index=True)
    v = len(xy)
    if v == 0:
        return np.empty((0, 2)), np.empty(0, np.int64), np.empty(0)
    inner = np.zeros(v, dtype=bool)  # vertex i starts a segment of its line
    inner[:-1] = line[1:] == line[:-1]
    d = np.zeros((v, 2))
    np.subtract(xy[1:], xy[:-1], out=d[:-1], where=inner[:-1, None])
    seg = np.hypot(d[:, 0], d[:, 1])
    parts = np.where(inner, np.maximum(np.ceil(seg / h), 1.0), 1.0).astype(np.int64)
    # distance of every vertex from its line's start: cumulative length, restarted per line
    cum = np.cumsum(np.r_[0.0, seg[:-1]])
    first = np.r_[True, ~inner[:-1]]
    cum -= cum[first][np.cumsum(first) - 1]
    rep = np.repeat(np.arange(v), parts)
    frac = (np.arange(len(rep)) - np.repeat(np.cumsum(parts) - parts, parts)) / np.take(parts, rep)
    # np.take, not fancy indexing: the row gathers are several times faster
    pts = np.take(xy, rep, axis=0)
    pts += frac[:, None] * np.take(d, rep, axis=0)
    return pts, np.take(line, rep), np.take(cum, rep) + frac * np.take(seg, rep)


def _cell_size(sxy: np.ndarray, lo: np.ndarray, hi: np.ndarray, sample_m: float | None) -> float:
    """The grid's cell (module docstring): ``sample_m`` if given, else from the segments' spacing
    and occupancy; never so small that the grid outgrows ``CELLS_PER_SEGMENT`` cells a segment."""
    from gridplan.network._snapkernel import occupied

    n = len(sxy)
    w, h = max(hi[0] - lo[0], 1.0), max(hi[1] - lo[1], 1.0)
    floor_c = math.sqrt(w * h / max(CELLS_PER_SEGMENT * n, MIN_CELLS))
    if sample_m is not None:
        return max(float(sample_m), floor_c)
    c = max(math.sqrt(w * h / n), floor_c)
    for _ in range(4):  # a dense centre in a large, sparse box: finer cells
        if n / occupied(sxy, lo[0], lo[1], c, int(w / c) + 1, int(h / c) + 1) <= CELL_LOAD or c / 2 < floor_c:
            break
        c /= 2
    return c


class SnapIndex:
    """Nearest-edge index over ``lines`` (metric LineStrings).

    Parameters
    ----------
    lines : ndarray of LineString
        The edges; an answer's edge is a position in this array.
    sample_m : float, optional
        Cell of the grid (metres); default: from the segments' spacing (module docstring).
    stages : tuple of int
        Rings of cells searched before the exact fallback (the largest counts).
    """

    def __init__(self, lines: np.ndarray, sample_m: float | None = None, stages=STAGES) -> None:
        from gridplan.network import _snapkernel

        self.lines = lines
        self.max_rings = max(int(k) for k in stages)
        xy, line = shapely.get_coordinates(lines, return_index=True)
        sxy, edge, cum, length, bounds = _snapkernel.segments(xy, line)
        self.segs = (sxy, edge, cum, length)
        self.n_segments = len(sxy)
        self.grid: tuple | None = None
        if self.n_segments:
            lo, hi = bounds[:2], bounds[2:]
            c = _cell_size(sxy, lo, hi, sample_m)
            # one empty cell of margin all round: no segment's cells are clipped (the proof)
            x0, y0 = lo - c
            nx, ny = (int((hi - lo)[k] // c) + 3 for k in range(2))
            with _KERNEL_LOCK:
                start, seg = _snapkernel.build_grid(sxy, x0, y0, c, nx, ny)
            self.grid = (start, seg, float(x0), float(y0), float(c), nx, ny)
        #: the grid's cell (metres)
        self.h = self.grid[4] if self.grid else math.nan
        self._strtree: shapely.STRtree | None = None
        #: points that needed the exact STRtree fallback so far (for reports and tests)
        self.fallbacks = 0

    def query(self, pts_xy: np.ndarray, max_snap_m: float = math.inf, workers: int = -1, progress=None):
        """Nearest edge of every point.

        Parameters
        ----------
        pts_xy : ndarray, shape (n, 2)
            Metric coordinates.
        max_snap_m : float
            Points farther than this from every edge get edge -1.
        workers : int
            Threads (-1: numba's default, one per core).
        progress : callable, optional
            Called with the number of points done after each block (e.g. ``tqdm.update``).

        Returns
        -------
        edge, offset, distance, snapped_xy : ndarrays
            Edge position (-1 when none within ``max_snap_m``), distance along it from its start,
            distance from the point, and the snapped location.
        """
        import numba

        from gridplan.network import _snapkernel

        pts_xy = np.asarray(pts_xy, dtype=float).reshape(-1, 2)
        n = len(pts_xy)
        if n == 0 or self.grid is None:
            return (
                np.full(n, -1, dtype=np.int64),
                np.full(n, np.nan),
                np.full(n, np.nan),
                np.full((n, 2), np.nan),
            )
        # every row is written by the kernel
        edge, off, dist, snapped = np.empty(n, dtype=np.int64), np.empty(n), np.empty(n), np.empty((n, 2))
        px, py = np.ascontiguousarray(pts_xy[:, 0]), np.ascontiguousarray(pts_xy[:, 1])
        start, seg, x0, y0, c, nx, ny = self.grid
        order = _snapkernel.cell_order(px, py, x0, y0, c, nx, ny, TILE)
        limit = float(max_snap_m)
        for lo in range(0, n, BLOCK):
            hi = min(lo + BLOCK, n)
            with _KERNEL_LOCK:
                before = numba.get_num_threads()
                if workers > 0:
                    numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
                try:
                    _snapkernel.nearest(
                        px,
                        py,
                        order[lo:hi],
                        self.grid,
                        self.segs,
                        limit,
                        self.max_rings,
                        edge,
                        off,
                        dist,
                        snapped,
                    )
                finally:
                    numba.set_num_threads(before)
            if progress is not None:
                progress(hi - lo)
        todo = np.flatnonzero(edge == -2)
        if len(todo):  # not proven within the rings: shapely's exact R-tree query
            self.fallbacks += len(todo)
            e, o, d, q = self._exact(pts_xy[todo], max_snap_m)
            edge[todo], off[todo], dist[todo], snapped[todo] = e, o, d, q
        return edge, off, dist, snapped

    def _exact(self, pts_xy: np.ndarray, max_snap_m: float):
        if self._strtree is None:
            self._strtree = shapely.STRtree(self.lines)
        pts = shapely.points(pts_xy)
        kw = {} if math.isinf(max_snap_m) else {"max_distance": float(max_snap_m)}
        # all equally near edges, the lowest kept: the kernel's tie rule
        (qi, ti), dist = self._strtree.query_nearest(pts, return_distance=True, all_matches=True, **kw)
        by = np.lexsort((ti, qi))
        qi, ti, dist = qi[by], ti[by], dist[by]
        first = np.r_[True, qi[1:] != qi[:-1]] if len(qi) else np.empty(0, dtype=bool)
        qi, ti, dist = qi[first], ti[first], dist[first]
        m = len(pts_xy)
        edge = np.full(m, -1, dtype=np.int64)
        d = np.full(m, np.nan)
        off = np.full(m, np.nan)
        snapped = np.full((m, 2), np.nan)
        edge[qi], d[qi] = ti, dist
        if len(qi):
            off[qi] = shapely.line_locate_point(self.lines[ti], pts[qi])
            snapped[qi] = shapely.get_coordinates(shapely.line_interpolate_point(self.lines[ti], off[qi]))
        return edge, off, d, snapped
