"""Exact nearest-edge snapping for millions of points: a KD-tree of edge samples with a proof.

shapely's ``STRtree.query_nearest`` is exact but costs ~35 µs per point on a city network (half a
minute for a million households). Here the edges are densified so that no segment is longer than
``h`` and every segment end becomes a sample in a ``scipy.spatial.cKDTree``. For a point, the
segments next to its ``k`` nearest samples are the candidates; the exact point-to-segment
distance is computed for them in NumPy.

Why this is exact: the nearest segment S* (distance d*) has an end within sqrt(d*^2 + h^2/4) of
the point. A segment none of whose ends is among the ``k`` nearest samples has both ends at least
d_k (the k-th sample distance) away, so it is at least sqrt(d_k^2 - h^2/4) away. When the best
candidate is no farther than that bound, no other segment can be nearer. Points that fail the
test (rare: they sit among many close samples of far edges) are asked again with more
neighbours, and the few still unproven fall back to shapely's exact
``STRtree.query_nearest``. Written by hand because no library offers nearest-line queries at
this speed.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy.spatial import cKDTree

__all__ = ["SnapIndex"]

#: Longest segment between samples (metres) and neighbours asked of the KD-tree.
SAMPLE_M = 40.0
#: Neighbours asked of the KD-tree, in stages: most points are settled by the first, cheap stage;
#: the few left (among close samples of far edges) get more neighbours, then shapely's STRtree.
STAGES = (3, 12)
#: Points per vectorised block (bounds the (block, 2k, 2) temporaries to ~100 MB).
BLOCK = 200_000


class SnapIndex:
    """Nearest-edge index over ``lines`` (metric LineStrings)."""

    def __init__(self, lines: np.ndarray, sample_m: float = SAMPLE_M, stages=STAGES) -> None:
        self.lines = lines
        self.h = float(sample_m)
        self.stages = tuple(int(k) for k in stages)
        dens = shapely.segmentize(lines, self.h)
        xy, edge = shapely.get_coordinates(dens, return_index=True)
        first = np.r_[True, edge[1:] != edge[:-1]]
        last = np.r_[edge[1:] != edge[:-1], True]
        seg = np.r_[0.0, np.hypot(*np.diff(xy, axis=0).T)]
        seg[first] = 0.0
        cum = np.cumsum(seg)
        cum -= cum[first][np.cumsum(first) - 1]
        self.xy, self.edge, self.cum, self.first, self.last = xy, edge, cum, first, last
        self.tree = cKDTree(xy)
        self._strtree: shapely.STRtree | None = None
        #: points that needed the exact STRtree fallback so far (for reports and tests)
        self.fallbacks = 0

    def query(self, pts_xy: np.ndarray, max_snap_m: float = math.inf, workers: int = -1):
        """Nearest edge of every point, in blocks; see :meth:`_query`."""
        if len(pts_xy) <= BLOCK:
            return self._query(pts_xy, max_snap_m, workers)
        parts = [self._query(pts_xy[i:i + BLOCK], max_snap_m, workers)
                 for i in range(0, len(pts_xy), BLOCK)]
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(4))

    def _query(self, pts_xy: np.ndarray, max_snap_m: float = math.inf, workers: int = -1):
        n = len(pts_xy)
        edge = np.full(n, -1, dtype=np.int64)
        offset = np.full(n, np.nan)
        bd = np.full(n, np.inf)
        snapped = np.full((n, 2), np.nan)
        todo = np.arange(n)
        for k in self.stages:
            if len(todo) == 0:
                break
            e, o, d, q, sure = self._candidates(pts_xy[todo], k, max_snap_m, workers)
            done = todo[sure]
            edge[done], offset[done], bd[done], snapped[done] = e[sure], o[sure], d[sure], q[sure]
            todo = todo[~sure]
        if len(todo):
            self.fallbacks += len(todo)
            e, o, d, q = self._exact(pts_xy[todo], max_snap_m)
            edge[todo], offset[todo], bd[todo], snapped[todo] = e, o, d, q
        off = ~(bd <= max_snap_m) | (edge < 0)
        edge[off] = -1
        bd = np.where(off, np.nan, bd)
        offset = np.where(off, np.nan, offset)
        snapped[off] = np.nan
        return edge, offset, bd, snapped

    def _candidates(self, pts_xy: np.ndarray, k: int, max_snap_m: float, workers: int):
        """Best segment among those touching the ``k`` nearest samples, and whether it is proven
        nearest (module docstring)."""
        n = len(pts_xy)
        S = len(self.xy)
        k = min(k, S)
        ub = math.inf if math.isinf(max_snap_m) else max_snap_m + self.h
        d, j = self.tree.query(pts_xy, k=k, distance_upper_bound=ub, workers=workers)
        d = d.reshape(n, k)
        j = j.reshape(n, k)
        valid = j < S
        jj = np.where(valid, j, 0)
        # candidate segments: the one starting at each neighbour sample and the one ending there
        fwd = valid & ~self.last[jj]
        bwd = valid & ~self.first[jj]
        start = np.concatenate([jj, jj - 1], axis=1)
        cand = np.concatenate([fwd, bwd], axis=1)
        start = np.where(cand, start, 0)
        a = self.xy[start]
        ab = self.xy[np.minimum(start + 1, S - 1)] - a
        p = pts_xy[:, None, :]
        ll = (ab ** 2).sum(axis=2)
        t = np.clip(((p - a) * ab).sum(axis=2) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
        q = a + t[..., None] * ab
        dist = np.hypot(*(p - q).transpose(2, 0, 1))
        dist[~cand] = np.inf
        best = np.argmin(dist, axis=1)
        rows = np.arange(n)
        bd = dist[rows, best]
        bs = start[rows, best]
        edge = np.where(np.isfinite(bd), self.edge[bs], -1)
        offset = self.cum[bs] + t[rows, best] * np.sqrt(ll[rows, best])
        # the proof; an infinite d_k means "no other sample within ub", which settles it too
        dk = d[:, -1]
        bound = np.where(np.isfinite(dk), np.sqrt(np.maximum(dk ** 2 - self.h ** 2 / 4, 0.0)), np.inf)
        sure = (bd <= bound) | ~np.isfinite(dk)
        return edge, offset, bd, q[rows, best], sure

    def _exact(self, pts_xy: np.ndarray, max_snap_m: float):
        if self._strtree is None:
            self._strtree = shapely.STRtree(self.lines)
        pts = shapely.points(pts_xy)
        kw = {} if math.isinf(max_snap_m) else {"max_distance": float(max_snap_m)}
        (qi, ti), dist = self._strtree.query_nearest(pts, return_distance=True, all_matches=False, **kw)
        m = len(pts_xy)
        edge = np.full(m, -1, dtype=np.int64)
        d = np.full(m, np.inf)
        off = np.full(m, np.nan)
        snapped = np.full((m, 2), np.nan)
        edge[qi], d[qi] = ti, dist
        if len(qi):
            off[qi] = shapely.line_locate_point(self.lines[ti], pts[qi])
            snapped[qi] = shapely.get_coordinates(shapely.line_interpolate_point(self.lines[ti], off[qi]))
        return edge, off, d, snapped
