"""Atomic units of grid planning: estates (小区) and buildings (楼栋) that a grid never splits.

- An estate with at most ``max_households`` households is one unit.
- A larger estate is split along building lines into balanced pieces (never more than the bound,
  unless a single building is larger).
- A building outside any estate is a unit; household points without a building id are grouped by
  location (points at the same spot, to 1 m, are one address).
- A single building (or address) with more than ``max_households`` households is a unit of its own;
  the partition makes it a grid flagged ``over``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gridplan.norms import GRID_MAX_HOUSEHOLDS

__all__ = ["UnitKeys", "unit_keys"]


class UnitKeys:
    """Result of :func:`unit_keys`: a unit number per household row and a small table per unit.

    Attributes
    ----------
    codes : ndarray of int
        Unit number (0..n_units-1) of every household row.
    table : DataFrame
        Per unit: ``unit_id`` (str), ``kind`` (estate, estate_part, building, address),
        ``estate_id`` (or None), ``households``.
    """

    def __init__(self, codes: np.ndarray, table: pd.DataFrame) -> None:
        self.codes = codes
        self.table = table


def _split_balanced(xy: np.ndarray, w: np.ndarray, parts: int) -> np.ndarray:
    """Recursive coordinate bisection of weighted points into ``parts`` balanced groups.

    Hand-written (a few lines): scikit-learn and METIS balance counts or need a graph, and the
    buildings of one estate have no adjacency yet at this stage.
    """
    out = np.zeros(len(w), dtype=np.int64)
    stack = [(np.arange(len(w)), parts, 0)]
    next_label = 1
    while stack:
        idx, m, label = stack.pop()
        if m <= 1 or len(idx) <= 1:
            out[idx] = label
            continue
        span = xy[idx].max(0) - xy[idx].min(0)
        axis = int(np.argmax(span))
        order = idx[np.lexsort((xy[idx, 1 - axis], xy[idx, axis]))]
        m1 = m // 2
        cum = np.cumsum(w[order])
        cut = int(np.argmin(np.abs(cum - cum[-1] * m1 / m))) + 1
        cut = min(max(cut, 1), len(order) - 1)
        stack.append((order[:cut], m1, label))
        stack.append((order[cut:], m - m1, next_label))
        next_label += 1
    return out


def _split_estates(
    e: np.ndarray, b: np.ndarray, hh: np.ndarray, xy: np.ndarray, caps: dict, max_households: int
) -> tuple[np.ndarray, np.ndarray]:
    """Units of the rows of estates over their cap: buildings grouped into balanced parts of at
    most the cap (buildings over the maximum, or every building when the cap is 1, alone).

    ``e``, ``b``, ``hh``, ``xy``: estate, building key, households and location of every row;
    ``caps``: estate -> cap. Returns the unit key and kind of every row.
    """
    # the buildings of every estate, sorted by estate then building key
    e_u, e_code = np.unique(e, return_inverse=True)
    b_u, b_code = np.unique(b, return_inverse=True)
    pair, row_pair = np.unique(e_code * len(b_u) + b_code, return_inverse=True)
    count = np.bincount(row_pair)
    w_all = np.bincount(row_pair, weights=hh).astype(np.int64)
    xy_all = np.column_stack([np.bincount(row_pair, weights=xy[:, k]) / count for k in (0, 1)])
    e_arr, b_arr = e_u[pair // len(b_u)], b_u[pair % len(b_u)]
    piece = np.empty(len(pair), dtype=object)
    starts = np.flatnonzero(np.r_[True, e_arr[1:] != e_arr[:-1]])
    ends = np.r_[starts[1:], len(e_arr)]
    for s0, s1 in zip(starts, ends):  # one loop per large estate (few)
        est = e_arr[s0]
        w = w_all[s0:s1]
        cap = int(caps[est])
        lone = (w > max_households) | (cap == 1)
        rest = np.flatnonzero(~lone)
        labels = np.empty(s1 - s0, dtype=object)
        labels[lone] = ["B:" + str(v) for v in b_arr[s0:s1][lone]]
        if len(rest):
            m = max(1, math.ceil(w[rest].sum() / cap))
            xy_r = xy_all[s0:s1][rest]
            while True:
                lab = _split_balanced(xy_r, w[rest], m)
                if np.bincount(lab, weights=w[rest]).max() <= cap:
                    break
                if m >= len(rest):
                    # a bisection by weight may still pair a small building with one near the
                    # cap (1 + 250 over a cap of 250): then every building is a part alone
                    lab = np.arange(len(rest))
                    break
                m += 1
            labels[rest] = [f"E:{est}#{i + 1}" for i in lab]
        piece[s0:s1] = labels
    units = piece[row_pair]
    lone_row = np.array([u.startswith("B:") for u in units.tolist()], dtype=bool)
    return units, np.where(lone_row, "building", "estate_part")


def unit_keys(
    xy: np.ndarray,
    households: np.ndarray,
    building: np.ndarray | None,
    estate: np.ndarray | None,
    max_households: int = GRID_MAX_HOUSEHOLDS,
    prefix: str = "",
    refine: dict | None = None,
) -> UnitKeys:
    """Group household rows (of one community) into atomic units.

    Parameters
    ----------
    xy : ndarray (n, 2)
        Metric coordinates of the household points.
    households : ndarray of int
        Households per row.
    building, estate : ndarray of object or None
        Building and estate ids per row (None/NaN where unknown).
    max_households : int
        Largest unit that stays whole (estates above it are split along building lines).
    refine : dict, optional
        ``estate_id -> cap``: split these estates into pieces of at most ``cap`` households (1:
        every building on its own), used when whole estates leave a community without any valid
        plan.
    prefix : str
        Put in front of every ``unit_id`` (the community id), so ids are unique across communities.

    Returns
    -------
    UnitKeys
    """
    n = len(households)
    hh = np.asarray(households, dtype=np.int64)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    # plain arrays, not pandas: a community is planned up to seven times (estate refinement)
    bld = np.asarray(building, dtype=object) if building is not None else np.full(n, None, dtype=object)
    has_b = ~pd.isna(bld)
    bkey = np.empty(n, dtype=object)
    bkey[has_b] = [str(v) for v in bld[has_b].tolist()]
    loc = np.round(xy[~has_b]).astype(np.int64)
    bkey[~has_b] = [f"@{x},{y}" for x, y in loc.tolist()]
    bkind = np.where(has_b, "building", "address").astype(object)
    est = np.asarray(estate, dtype=object) if estate is not None else np.full(n, None, dtype=object)
    has_e = ~pd.isna(est)
    est = np.where(has_e, est, None)
    unit = np.empty(n, dtype=object)
    kind = np.empty(n, dtype=object)
    if has_e.any():
        rows = np.flatnonzero(has_e)
        e_u, inv = np.unique(est[rows], return_inverse=True)
        etot = np.bincount(inv, weights=hh[rows], minlength=len(e_u))
        caps = {e: min(max_households, (refine or {}).get(e, max_households)) for e in e_u.tolist()}
        small = etot <= np.array([caps[e] for e in e_u.tolist()], dtype=np.int64)
        whole, big = rows[small[inv]], rows[~small[inv]]
        unit[whole] = ["E:" + str(e) for e in est[whole].tolist()]
        kind[whole] = "estate"
        if len(big):
            unit[big], kind[big] = _split_estates(est[big], bkey[big], hh[big], xy[big], caps, max_households)
    loose = ~has_e
    unit[loose] = ["B:" + k for k in bkey[loose].tolist()]
    kind[loose] = bkind[loose]
    uniq, codes = np.unique(unit.astype(str), return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    table = pd.DataFrame(
        {
            "unit_id": [prefix + u for u in uniq],
            "kind": kind[first],
            "estate_id": est[first],
            "households": np.bincount(codes, weights=hh, minlength=len(uniq)).astype(np.int64),
        }
    )
    return UnitKeys(codes.astype(np.int64), table)
