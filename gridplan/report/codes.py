"""Stable hierarchical codes for grids and micro-grids (网格编码).

Grid-management platforms refer to a grid by its code for years, so a code must not change when
the plan is recomputed on the same input, and a grid that a replan leaves as it was must keep its
code.

The scheme
----------
``grid_code = <street_id>-<community_id>-<NN>``

- ``street_id``: the street (街道) the community belongs to (the communities' ``street_id``);
  :data:`UNKNOWN_STREET` (``"000"``) when the street is not known.
- ``community_id``: the community (社区) id, as in the input.
- ``NN``: the grid's number inside its community, two digits or more (``01``, ``02``, ...,
  ``100``). It is the number of the contract's ``grid_id = <community_id>-<NN>``, so that
  ``grid_code`` is ``grid_id`` with the street code in front.

``micro_code = <grid_code>-<MM>`` for micro-grids (微网格), ``MM`` the micro-grid's number inside
its grid (two digits or more).

Codes stay stable because ``grid_id`` is deterministic for a given input and seed, and because
:func:`carry_codes` maps a replanned layer onto the previous one: a grid whose households are the
same as (or, without household assignments, whose polygon covers the same ground as) a previous
grid keeps that grid's code; a grid that mostly continues a previous grid also keeps its code; a
really new grid takes the next number never used in its community.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment

from gridplan.errors import InputError
from gridplan.grids.numbering import split_grid_id
from gridplan.io.projection import local_crs

__all__ = [
    "UNKNOWN_STREET",
    "grid_number",
    "make_grid_code",
    "grid_codes",
    "micro_codes",
    "carry_codes",
]

#: Street part of a grid code when the community's street is not known.
UNKNOWN_STREET = "000"
#: Share of a grid's households (or area) that must continue a previous grid, and of the previous
#: grid's that must go on in it, for the grid to keep the previous grid's code.
KEEP_CODE_SHARE = 0.5


def grid_number(grid_id: str) -> int:
    """The ``NN`` of ``<community_id>-<NN>``.

    Raises
    ------
    InputError
        When ``grid_id`` does not end in ``-<digits>``.
    """
    _, number = split_grid_id(grid_id)
    if number is None:
        raise InputError(
            f"grid_id '{grid_id}' does not end in -<number>",
            column="grid_id",
            fix="grid ids are <community_id>-<NN>, as gridplan partition writes them",
            message_zh=f"网格编号 '{grid_id}' 不是 <社区编号>-<序号> 的形式",
        )
    return number


def make_grid_code(street_id: object, community_id: object, number: int) -> str:
    """``<street_id>-<community_id>-<NN>`` with the street placeholder for a missing street."""
    street = UNKNOWN_STREET if _missing(street_id) else str(street_id)
    return f"{street}-{community_id}-{int(number):02d}"


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value) == ""


def _require(gdf: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(missing)}",
            column=missing[0],
            fix="pass the grids layer written by gridplan partition",
            message_zh=f"{what} 缺少列 {', '.join(missing)}",
        )


def _streets(grids: pd.DataFrame, communities: pd.DataFrame | None) -> pd.Series:
    if communities is not None and "street_id" in communities.columns:
        lookup = communities.drop_duplicates("community_id").set_index("community_id")["street_id"]
        from_communities = grids["community_id"].map(lookup)
        if "street_id" in grids.columns:
            return grids["street_id"].where(grids["street_id"].notna(), from_communities)
        return from_communities
    if "street_id" in grids.columns:
        return grids["street_id"]
    return pd.Series([None] * len(grids), index=grids.index, dtype=object)


def grid_codes(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Add ``grid_code`` (``<street_id>-<community_id>-<NN>``) to a grids layer.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids with ``grid_id`` and ``community_id`` (``street_id`` used when present).
    communities : GeoDataFrame, optional
        Communities with ``community_id`` and ``street_id``, for grids that lack ``street_id``.

    Returns
    -------
    GeoDataFrame
        A copy of ``grids`` with ``grid_code`` (string) after ``grid_id``.
    """
    _require(grids, ("grid_id", "community_id"), "grids")
    out = grids.copy()
    streets = _streets(out, communities)
    numbers = [grid_number(g) for g in out["grid_id"]]
    codes = [make_grid_code(s, c, n) for s, c, n in zip(streets, out["community_id"], numbers)]
    out = out.drop(columns=["grid_code"], errors="ignore")
    out.insert(list(out.columns).index("grid_id") + 1, "grid_code", pd.array(codes, dtype="str"))
    if out["grid_code"].duplicated().any():
        dup = out.loc[out["grid_code"].duplicated(keep=False), "grid_id"].tolist()
        raise InputError(
            "grids share a grid code",
            column="grid_id",
            rows=dup,
            fix="grid ids must be unique; re-run gridplan partition",
            message_zh="网格编码重复",
        )
    return out


def micro_codes(
    micro_grids: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, micro_column: str | None = None
) -> gpd.GeoDataFrame:
    """Add ``micro_code`` (``<grid_code>-<MM>``) to a micro-grids layer.

    Parameters
    ----------
    micro_grids : GeoDataFrame
        Micro-grids with ``grid_id`` (their parent grid) and an id column ending in ``-<MM>``
        (``micro_column``; by default ``micro_id`` or ``micro_grid_id``). Without such a column
        micro-grids are numbered in their order inside each grid.
    grids : GeoDataFrame
        The grids layer with ``grid_code`` (see :func:`grid_codes`).

    Returns
    -------
    GeoDataFrame
    """
    _require(micro_grids, ("grid_id",), "micro_grids")
    if "grid_code" not in grids.columns:
        grids = grid_codes(grids)
    lookup = grids.set_index("grid_id")["grid_code"]
    out = micro_grids.copy()
    parent = out["grid_id"].map(lookup)
    if parent.isna().any():
        rows = out.index[parent.isna()].tolist()
        raise InputError(
            "micro-grids refer to grids that are not in the grids layer",
            column="grid_id",
            rows=rows,
            fix="export the micro-grids of the same partition run",
            message_zh="微网格所属的网格不在网格图层中",
        )
    if micro_column is None:
        micro_column = next((c for c in ("micro_id", "micro_grid_id") if c in out.columns), None)
    if micro_column is not None:
        numbers = [grid_number(v) for v in out[micro_column]]
    else:
        numbers = (out.groupby("grid_id", sort=False).cumcount() + 1).tolist()
    codes = [f"{p}-{int(n):02d}" for p, n in zip(parent, numbers)]
    out = out.drop(columns=["micro_code"], errors="ignore")
    out.insert(0, "micro_code", pd.array(codes, dtype="str"))
    return out


def carry_codes(
    grids: gpd.GeoDataFrame,
    previous: gpd.GeoDataFrame,
    *,
    assignment: pd.DataFrame | None = None,
    previous_assignment: pd.DataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    keep_share: float = KEEP_CODE_SHARE,
) -> gpd.GeoDataFrame:
    """Give a replanned grids layer the codes of the grids it continues.

    New grids are matched one-to-one with previous grids of the same community (an assignment
    problem maximising the shared households, solved with
    :func:`scipy.optimize.linear_sum_assignment`). A matched pair where the shared households are
    at least ``keep_share`` of both grids keeps the previous ``grid_code``; every other grid takes
    the next number never used by the previous layer in its community.

    Parameters
    ----------
    grids : GeoDataFrame
        The new grids (``grid_id``, ``community_id``).
    previous : GeoDataFrame
        The previous grids with ``grid_code`` (as exported earlier) or ``grid_id``.
    assignment, previous_assignment : DataFrame, optional
        Household rows with ``grid_id`` for the new and previous plans; rows are matched by
        position (row order is the identity of a household, and a replan appends new households
        after the old ones). Households are weighted by ``households`` when present. Without
        them, grids are matched by shared area instead.
    communities : GeoDataFrame, optional
        For street ids, as in :func:`grid_codes`.
    keep_share : float
        See above.

    Returns
    -------
    GeoDataFrame
        ``grids`` with ``grid_code``, ``previous_code`` (the code it continues, or null) and
        ``code_status``: ``kept`` (same households or ground), ``continued`` (changed but keeps its
        code) or ``new``.
    """
    out = grid_codes(grids, communities)
    prev = previous if "grid_code" in previous.columns else grid_codes(previous, communities)
    _require(prev, ("grid_id", "community_id"), "previous grids")
    overlap, same = _overlaps(out, prev, assignment, previous_assignment)
    new_codes = out["grid_code"].astype(object).to_numpy().copy()
    prev_code = np.full(len(out), None, dtype=object)
    status = np.full(len(out), "new", dtype=object)
    new_pos = {g: i for i, g in enumerate(out["grid_id"])}
    prev_pos = {g: i for i, g in enumerate(prev["grid_id"])}
    used_numbers: dict[object, int] = {}
    for cid, p in prev.groupby("community_id", sort=True):
        used_numbers[cid] = max(grid_number(c) for c in p["grid_code"])
    for cid, part in out.groupby("community_id", sort=True):
        rows = [new_pos[g] for g in part["grid_id"]]
        cols = [prev_pos[g] for g in prev.loc[prev["community_id"] == cid, "grid_id"]]
        matched: set[int] = set()
        if cols:
            sub = overlap[np.ix_(rows, cols)]
            r, c = linear_sum_assignment(sub, maximize=True)
            size_new = overlap[rows, :].sum(axis=1)
            size_prev = overlap[:, cols].sum(axis=0)
            for ri, ci in zip(r, c):
                shared = sub[ri, ci]
                if shared <= 0:
                    continue
                if shared >= keep_share * size_new[ri] and shared >= keep_share * size_prev[ci]:
                    i, j = rows[ri], cols[ci]
                    new_codes[i] = prev["grid_code"].iloc[j]
                    prev_code[i] = prev["grid_code"].iloc[j]
                    status[i] = "kept" if same[i, j] else "continued"
                    matched.add(i)
        # New grids: numbers after every number the previous layer used, in grid_id order, so
        # that a retired code is never handed to a different grid.
        next_number = used_numbers.get(cid, 0)
        for i in sorted(set(rows) - matched, key=lambda k: grid_number(out["grid_id"].iloc[k])):
            next_number += 1
            street = out["grid_code"].iloc[i].rsplit("-", 1)[0]
            new_codes[i] = f"{street}-{next_number:02d}"
    out["grid_code"] = pd.array(new_codes.tolist(), dtype="str")
    out["previous_code"] = pd.array(prev_code.tolist(), dtype="str")
    out["code_status"] = pd.array(status.tolist(), dtype="str")
    return out


def _overlaps(
    new: gpd.GeoDataFrame, prev: gpd.GeoDataFrame, assignment, previous_assignment
) -> tuple[np.ndarray, np.ndarray]:
    """(shared households or area, same-membership flags), new grids x previous grids."""
    n, m = len(new), len(prev)
    if assignment is not None and previous_assignment is not None:
        k = min(len(assignment), len(previous_assignment))
        w_new = _weights(assignment)
        a = pd.Index(new["grid_id"]).get_indexer(assignment["grid_id"])
        b = pd.Index(prev["grid_id"]).get_indexer(previous_assignment["grid_id"])
        both = (a[:k] >= 0) & (b[:k] >= 0)
        overlap = np.zeros((n, m))
        np.add.at(overlap, (a[:k][both], b[:k][both]), w_new[:k][both])
        # Same membership: every household row of the new grid was in the previous grid and
        # vice versa (rows appended by the replan belong to no previous grid).
        size_new = np.bincount(a[a >= 0], weights=w_new[a >= 0], minlength=n)
        w_prev = _weights(previous_assignment)
        size_prev = np.bincount(b[b >= 0], weights=w_prev[b >= 0], minlength=m)
        same = np.isclose(overlap, size_new[:, None]) & np.isclose(overlap, size_prev[None, :])
        return overlap, same & (overlap > 0)
    crs = local_crs(new)
    g_new = new.geometry.to_crs(crs).to_numpy()
    g_prev = prev.geometry.to_crs(crs).to_numpy()
    tree = shapely.STRtree(g_prev)
    i, j = tree.query(g_new, predicate="intersects")
    area = shapely.area(shapely.intersection(g_new[i], g_prev[j]))
    overlap = np.zeros((n, m))
    overlap[i, j] = area
    a_new = shapely.area(g_new)
    a_prev = shapely.area(g_prev)
    same = (overlap >= 0.99 * a_new[:, None]) & (overlap >= 0.99 * a_prev[None, :])
    return overlap, same


def _weights(table: pd.DataFrame) -> np.ndarray:
    if "households" in table.columns:
        return table["households"].fillna(1).to_numpy(dtype=float)
    return np.ones(len(table))
