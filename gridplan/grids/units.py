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


def _split_estates(sub: pd.DataFrame, caps: pd.Series, max_households: int) -> tuple[np.ndarray, np.ndarray]:
    """Units of the rows of estates over their cap: buildings grouped into balanced parts of at
    most the cap (buildings over the maximum, or every building when the cap is 1, alone).
    Returns the unit key and kind of every row of ``sub``."""
    bsum = (
        sub.groupby(["e", "b"], sort=True)
        .agg(hh=("hh", "sum"), x=("x", "mean"), y=("y", "mean"))
        .reset_index()
    )
    piece = np.empty(len(bsum), dtype=object)
    e_arr = bsum["e"].to_numpy(object)
    b_arr = bsum["b"].to_numpy(object)
    w_all = bsum["hh"].to_numpy()
    xy_all = bsum[["x", "y"]].to_numpy()
    starts = np.flatnonzero(np.r_[True, e_arr[1:] != e_arr[:-1]])
    ends = np.r_[starts[1:], len(e_arr)]
    for s0, s1 in zip(starts, ends):  # one loop per large estate (few)
        e = e_arr[s0]
        w = w_all[s0:s1]
        cap = int(caps[e])
        lone = (w > max_households) | (cap == 1)
        rest = np.flatnonzero(~lone)
        labels = np.empty(s1 - s0, dtype=object)
        labels[lone] = ["B:" + str(b) for b in b_arr[s0:s1][lone]]
        if len(rest):
            m = max(1, math.ceil(w[rest].sum() / cap))
            xy_r = xy_all[s0:s1][rest]
            while True:
                lab = _split_balanced(xy_r, w[rest], m)
                if np.bincount(lab, weights=w[rest]).max() <= cap or m >= len(rest):
                    break
                m += 1
            labels[rest] = [f"E:{e}#{i + 1}" for i in lab]
        piece[s0:s1] = labels
    bsum["unit"] = piece
    key = pd.MultiIndex.from_frame(bsum[["e", "b"]])
    pos = key.get_indexer(pd.MultiIndex.from_frame(sub[["e", "b"]]))
    units = bsum["unit"].to_numpy()[pos]
    return units, np.where(pd.Series(units).str.startswith("B:"), "building", "estate_part")


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
    loc = np.round(np.asarray(xy, dtype=float)).astype(np.int64)
    addr = pd.Series([f"@{x},{y}" for x, y in loc], dtype=object) if n else pd.Series([], dtype=object)
    bld = pd.Series(building, dtype=object) if building is not None else pd.Series([None] * n, dtype=object)
    bld = bld.where(bld.notna(), None)
    bkey = bld.astype(object).where(bld.notna(), addr)
    bkind = np.where(bld.notna(), "building", "address")
    est = pd.Series(estate, dtype=object) if estate is not None else pd.Series([None] * n, dtype=object)
    est = est.where(est.notna(), None)
    df = pd.DataFrame(
        {
            "b": bkey.astype(str).to_numpy(object),
            "e": est.to_numpy(object),
            "hh": hh,
            "x": xy[:, 0] if n else [],
            "y": xy[:, 1] if n else [],
            "bkind": bkind,
        }
    )
    unit = np.empty(n, dtype=object)
    kind = np.empty(n, dtype=object)
    has_e = df["e"].notna().to_numpy()
    if has_e.any():
        etot = df[has_e].groupby("e", sort=True)["hh"].sum()
        caps = pd.Series(
            {e: min(max_households, (refine or {}).get(e, max_households)) for e in etot.index}, dtype="int64"
        )
        cap_row = df["e"].map(caps).fillna(max_households).to_numpy()
        small = df["e"].map(etot).fillna(0).to_numpy() <= cap_row
        whole = has_e & small
        unit[whole] = "E:" + df.loc[whole, "e"].astype(str).to_numpy(object)
        kind[whole] = "estate"
        big = has_e & ~small
        if big.any():
            unit[big], kind[big] = _split_estates(df[big], caps, max_households)
    loose = ~has_e
    unit[loose] = "B:" + df.loc[loose, "b"].to_numpy(object)
    kind[loose] = bkind[loose]
    uniq, codes = np.unique(unit.astype(str), return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    table = pd.DataFrame(
        {
            "unit_id": [prefix + u for u in uniq],
            "kind": kind[first],
            "estate_id": df["e"].to_numpy(object)[first],
            "households": np.bincount(codes, weights=hh, minlength=len(uniq)).astype(np.int64),
        }
    )
    return UnitKeys(codes.astype(np.int64), table)
