"""Where the grid lines run once the households are divided: along the city's own lines.

The partition decides which households go together; the ground between them without households
(a lane between two rows of buildings, the far side of a courtyard, open land between estates)
can then go to either neighbouring grid without changing a count. This step gives each such
piece to the side that puts the grid line on a street, wall or building outline rather than on
a half-way line nobody sees on the ground (:data:`OFF_FEATURE_WEIGHT`), keeping every grid and
every unit one connected polygon and never carrying a grid across a barrier.

For every pair of neighbouring grids, the empty ground they hold is divided between them by a
minimum cut (SciPy's ``maximum_flow``): the cheapest line between the two grids' households,
where a metre on a street costs one, a metre on a wall or outline off the street
1 + :data:`WALL_WEIGHT`, and a metre elsewhere 1 + :data:`OFF_FEATURE_WEIGHT`. The ground
outside the estates (the streets and the strips between them and the estate walls) may go to
either grid: without this, the grid that first held it wrapped the streets around its
neighbours' estates, leaving them islands inside it (24 of the sample's 77 grids). The cut is kept only if both grids, and every unit, stay one
connected piece and no grid reaches across a barrier; the connectivity check is written here
because a cut alone does not guarantee it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import maximum_flow

from gridplan.grids.cells import Pieces

__all__ = ["OFF_FEATURE_WEIGHT", "WALL_WEIGHT", "place_lines"]

#: One metre of grid line away from every street, wall and outline costs this many metres of
#: grid line along them: a longer line a planner can point to beats a shorter invisible one.
OFF_FEATURE_WEIGHT = 4.0
#: One metre along an estate wall or a building outline but not on a street costs this much more
#: than a metre on the street: between two estates the line runs on the street between them,
#: and each grid reaches the street (planners draw "按照小区界线、路弄范围", the street is the
#: common edge of both).
WALL_WEIGHT = 0.5
_PASSES = 3
_CM = 100.0  # capacities in centimetres: maximum_flow needs integers


def place_lines(
    p: Pieces,
    piece_unit: np.ndarray,
    unit_grid: np.ndarray,
    movable: np.ndarray,
    fixed: np.ndarray,
    group: np.ndarray | None = None,
) -> np.ndarray:
    """Give the empty pieces of ``movable`` to the grid that puts the lines on the city's lines.

    Parameters
    ----------
    p : Pieces
        With ``on_feature`` (else nothing moves).
    piece_unit : ndarray of int
        Unit of every piece.
    unit_grid : ndarray of int
        Grid of every unit.
    movable : ndarray of bool
        Per piece: holds no household, no footprint and no kept grid, and lies beyond the
        setback of every footprint.
    fixed : ndarray of bool
        Per grid: kept grids, which neither give nor take ground.
    group : ndarray of int, optional
        Per piece: the estate it lies in (-1 for none). Ground of an estate goes only to grids
        that hold ground of the same estate; ground outside every estate to any neighbour.

    Returns
    -------
    ndarray of int
        The new unit of every piece (a moved piece joins a unit of its new grid).
    """
    piece_unit = np.asarray(piece_unit, dtype=np.int64).copy()
    if p.on_feature is None or not np.any(movable) or not len(p.i):
        return piece_unit
    n = len(p)
    wall = 0.0 if p.on_street is None else WALL_WEIGHT * np.maximum(p.on_feature - p.on_street, 0.0)
    cost = np.maximum(np.rint(_CM * p.length * (1.0 + OFF_FEATURE_WEIGHT * (1.0 - p.on_feature) + wall)), 1)
    st = _State(
        p,
        piece_unit,
        np.asarray(unit_grid, dtype=np.int64)[piece_unit],
        np.asarray(movable, dtype=bool),
        np.full(n, -1, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64),
        cost.astype(np.int64),
    )
    fixed = np.asarray(fixed, dtype=bool)
    for _ in range(_PASSES):
        changed = False
        for a, b in _pairs(p, st.grid, fixed):
            ga, gb = st.group[st.grid == a], st.group[st.grid == b]
            groups = np.intersect1d(ga, gb)
            if (ga < 0).any() or (gb < 0).any():  # ground outside the estates goes to either
                groups = np.union1d(groups, [-1])
            for g in groups:
                changed |= st.cut(int(a), int(b), int(g))
        changed |= st.single_moves(fixed) > 0
        if not changed:
            break
    return st.unit


def _pairs(p: Pieces, grid: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Neighbouring pairs of free grids with some line between them off the streets (off the
    city's lines when no street is known), in order."""
    a, b = grid[p.i], grid[p.j]
    on = p.on_feature if p.on_street is None else p.on_street
    m = (a != b) & ~fixed[a] & ~fixed[b] & (on < 1.0)
    if not m.any():
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.sort(np.stack([a[m], b[m]], 1), axis=1), axis=0)


class _State:
    """Pieces with their grid and unit, and the min-cut step between two grids."""

    def __init__(self, p, unit, grid, movable, group, cost) -> None:
        self.p, self.unit, self.grid, self.movable, self.group, self.cost = (
            p,
            unit,
            grid,
            movable,
            group,
            cost,
        )
        n = len(p)
        self.adj = sparse.csr_matrix(
            (np.ones(2 * len(p.i)), (np.r_[p.i, p.j], np.r_[p.j, p.i])), shape=(n, n)
        )
        ip, ix = self.adj.indptr, self.adj.indices.tolist()
        self.nbl = [ix[ip[q] : ip[q + 1]] for q in range(n)]
        # every piece's neighbours with the cost of the shared boundary and whether a piece may
        # change grid through it (same estate, not across a barrier)
        x, y = np.r_[p.i, p.j], np.r_[p.j, p.i]
        order = np.lexsort((y, x))
        self.enb, self.ecost = y[order], np.r_[cost, cost][order]
        self.edoor = (np.r_[~p.cross, ~p.cross] & (group[x] == group[y]))[order]
        self.eptr = np.searchsorted(x[order], np.arange(n + 1))
        # the (grid, zone) pairs present, by one integer key each (np.unique over rows is slow)
        zone = np.asarray(p.zone, dtype=np.int64)
        z0 = int(zone.min()) if len(zone) else 0
        span = int(zone.max()) - z0 + 1 if len(zone) else 1
        key = np.unique(grid * span + (zone - z0))
        self.zones = {(int(g), int(z) + z0) for g, z in zip(key // span, key % span)}
        #: per (grid a, grid b, group): the network last found at its minimum cut already
        self.settled: dict[tuple[int, int, int], bytes] = {}

    def cut(self, a: int, b: int, g: int) -> bool:
        """Divide the empty ground of group ``g`` held by grids a and b by a minimum cut."""
        p, grid = self.p, self.grid
        free = np.flatnonzero(self.movable & ((grid == a) | (grid == b)) & (self.group == g))
        if not len(free):
            return False
        r = len(free)
        loc = np.full(len(p), -1, dtype=np.int64)
        loc[free] = np.arange(r)
        # the boundaries of the free pieces, from the neighbour lists sorted once
        lo, cnt = self.eptr[free], self.eptr[free + 1] - self.eptr[free]
        e = np.repeat(lo - np.r_[0, np.cumsum(cnt)[:-1]], cnt) + np.arange(cnt.sum())
        x, y, c = np.repeat(np.arange(r), cnt), self.enb[e], self.ecost[e]
        inner = loc[y] >= 0
        gy = grid[y]
        # the network is a function of these: one found at its minimum cut stays there
        key = (a, b, g)
        sig = b"".join([np.int64(r).tobytes(), free.tobytes(), grid[free].tobytes(), gy.tobytes()])
        if self.settled.get(key) == sig:
            return False
        src, snk = r, r + 1
        to_a, to_b = ~inner & (gy == a), ~inner & (gy == b)
        rows = np.concatenate([x[inner], np.full(to_a.sum(), src), x[to_b]])
        cols = np.concatenate([loc[y[inner]], x[to_a], np.full(to_b.sum(), snk)])
        caps = np.concatenate([c[inner], c[to_a], c[to_b]])
        gx = grid[free][x]
        before = int(c[inner & (gx != gy)].sum() // 2 + c[to_a & (gx == b)].sum())
        before += int(c[to_b & (gx == a)].sum())
        if before <= 0:  # no flow is below a cut of nothing: skip building the network
            return False
        net = _network(rows, cols, caps, r + 2)
        flow = maximum_flow(net, src, snk)
        if flow.flow_value >= before:
            self.settled[key] = sig
            return False
        er, ec = _residual_edges(net, flow.flow)
        # the pieces on neither side (no path left to either grid's households) go together to
        # one side or the other at the same cost: both minimum cuts are tried, smaller move first
        side_a = _reachable(er, ec, src, r + 2)[:r]
        side_b = _reachable(ec, er, snk, r + 2)[:r]
        tries = [np.where(side_b, b, a), np.where(side_a, a, b)]
        tries.sort(key=lambda new: int((new != grid[free]).sum()))
        for new in tries:
            moved = new != grid[free]
            if moved.any() and self._commit(free[moved], new[moved], a, b):
                return True
        return False

    def single_moves(self, fixed: np.ndarray) -> int:
        """Move pieces one at a time where the cut as a whole would disconnect a grid."""
        p, grid, cost = self.p, self.grid, self.cost
        x, y, c = np.r_[p.i, p.j], np.r_[p.j, p.i], np.r_[cost, cost]
        door = np.r_[~p.cross, ~p.cross] & (self.group[x] == self.group[y])
        m = self.movable[x] & ~fixed[grid[x]] & ~fixed[grid[y]]
        x, y, c, door = x[m], y[m], c[m], door[m]
        own = np.bincount(x, weights=c * (grid[y] == grid[x]), minlength=len(p))
        other = (grid[y] != grid[x]) & door
        if not other.any():
            return 0
        key, inv = np.unique(np.stack([x[other], grid[y[other]]], 1), axis=0, return_inverse=True)
        gain = np.bincount(inv.ravel(), weights=c[other], minlength=len(key)) - own[key[:, 0]]
        key, gain = key[gain > 0], gain[gain > 0]
        moved = 0
        for q, b in key[np.lexsort((key[:, 1], key[:, 0], -gain))]:
            if self._gain(int(q), int(b)) > 0:
                moved += self._commit(np.array([q]), np.array([b]), int(grid[q]), int(b))
        return moved

    def _gain(self, q: int, b: int) -> float:
        """What moving piece ``q`` to grid ``b`` saves now (earlier moves change it)."""
        lo, hi = self.eptr[q], self.eptr[q + 1]
        nb, c, door = self.enb[lo:hi], self.ecost[lo:hi], self.edoor[lo:hi]
        to_b = self.grid[nb] == b
        if self.grid[q] == b or not (to_b & door).any():
            return 0.0
        return float(c[to_b].sum() - c[self.grid[nb] == self.grid[q]].sum())

    def _commit(self, moved: np.ndarray, to: np.ndarray, a: int, b: int) -> bool:
        """Apply the move if every grid, unit and barrier rule still holds; else undo it."""
        old_grid, old_unit = self.grid[moved].copy(), self.unit[moved].copy()
        self.grid[moved] = to
        self.unit[moved] = -1
        ok = self._attach(moved)
        zones = {(int(gg), int(z)) for gg, z in zip(to, self.p.zone[moved])}
        ok = ok and zones <= self.zones
        ok = ok and all(self._connected(np.flatnonzero(self.grid == gg)) for gg in (a, b))
        ok = ok and all(self._connected(np.flatnonzero(self.unit == u)) for u in np.unique(old_unit))
        if not ok:
            self.grid[moved], self.unit[moved] = old_grid, old_unit
        return ok

    def _attach(self, moved: np.ndarray) -> bool:
        """Moved pieces join the unit of a neighbour in their new grid, wave by wave."""
        todo = set(moved.tolist())
        ip, ix = self.adj.indptr, self.adj.indices
        while todo:
            done = []
            for q in sorted(todo):
                nb = ix[ip[q] : ip[q + 1]]
                ok = nb[(self.grid[nb] == self.grid[q]) & (self.unit[nb] >= 0)]
                if len(ok):
                    done.append((q, int(self.unit[ok.min()])))
            if not done:
                return False
            for q, u in done:
                self.unit[q] = u
                todo.discard(q)
        return True

    def _connected(self, idx: np.ndarray) -> bool:
        if len(idx) <= 1:
            return True
        # a plain walk over neighbour lists: scipy's connected_components on a sliced sparse
        # matrix spends ~2x longer building the slice than a grid's few hundred pieces take
        left = set(idx.tolist())
        stack = [left.pop()]
        while stack and left:
            for y in self.nbl[stack.pop()]:
                if y in left:
                    left.discard(y)
                    stack.append(y)
        return not left


def _network(rows: np.ndarray, cols: np.ndarray, caps: np.ndarray, n: int) -> sparse.csr_matrix:
    """``csr_matrix((caps, (rows, cols)), shape=(n, n))`` with duplicates summed, built from
    sorted keys: SciPy's COO route costs more than the maximum flow of a few dozen pieces."""
    key = rows * n + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]][: len(key)])
    data = np.add.reduceat(caps[order], start) if len(key) else caps[:0]
    key = key[start]
    indptr = np.searchsorted(key // n, np.arange(n + 1)).astype(np.int32)
    # maximum_flow works in int32 and converts any other input (a copy per call)
    small = not len(data) or int(data.max()) <= np.iinfo(np.int32).max
    data = data.astype(np.int32 if small else np.int64)
    return sparse.csr_matrix((data, (key % n).astype(np.int32), indptr), shape=(n, n))


def _residual_edges(net: sparse.csr_matrix, flow: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The edges ``(u, v)`` of ``net - flow`` with capacity left."""
    n = net.shape[0]
    k_net = np.repeat(np.arange(n), np.diff(net.indptr)) * n + net.indices
    k_flow = np.repeat(np.arange(n), np.diff(flow.indptr)) * n + flow.indices
    key, inv = np.unique(np.concatenate([k_net, k_flow]), return_inverse=True)
    left = np.zeros(len(key), dtype=np.int64)
    np.add.at(left, inv.ravel(), np.concatenate([net.data.astype(np.int64), -flow.data.astype(np.int64)]))
    key = key[left > 0]
    return key // n, key % n


def _reachable(src: np.ndarray, dst: np.ndarray, start: int, n: int) -> np.ndarray:
    """Vertices reachable from ``start`` along the edges ``src -> dst``: the networks of one
    cut are a few dozen pieces, where a frontier sweep over the edge arrays costs less than
    building the sparse graph SciPy's traversals take."""
    out = np.zeros(n, dtype=bool)
    out[start] = True
    while True:
        new = out[src] & ~out[dst]
        if not new.any():
            return out
        out[dst[new]] = True
