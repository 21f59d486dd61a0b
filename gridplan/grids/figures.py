"""The figures of grids, from their polygons and the households assigned to them.

One function, :func:`grid_figures`, so that every table of grids (the partition's, an edited
plan's, a reconciled layer's) counts and rounds the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

__all__ = ["FIGURE_COLUMNS", "band_status", "grid_figures"]

#: The columns :func:`grid_figures` returns, in this order.
FIGURE_COLUMNS = [
    "grid_id",
    "households",
    "population",
    "n_buildings",
    "n_estates",
    "area_m2",
    "compactness",
    "status",
]


def _address_keys(xy: np.ndarray | None, n: int) -> np.ndarray:
    """A building key for rows without a building id: the location to the metre (one per row
    without coordinates)."""
    if xy is None:
        return np.array([f"#{r}" for r in range(n)], dtype=object)
    loc = np.round(np.asarray(xy, dtype=float).reshape(-1, 2)).astype(np.int64)
    return np.array([f"@{x},{y}" for x, y in loc], dtype=object)


def _distinct_per_grid(pos: np.ndarray, key: np.ndarray, ngrids: int) -> np.ndarray:
    """Distinct non-missing ``key`` values per grid position."""
    d = pd.DataFrame({"g": pos, "k": key}).dropna().drop_duplicates()
    return d.groupby("g").size().reindex(range(ngrids), fill_value=0).to_numpy().astype(np.int64)


def grid_figures(
    geometry,
    grid_ids,
    household_grid,
    households,
    *,
    band: tuple[int, int],
    population=None,
    building=None,
    estate=None,
    xy=None,
) -> pd.DataFrame:
    """Households, population, buildings, estates, area, compactness and status per grid.

    Parameters
    ----------
    geometry : array-like of (Multi)Polygon or GeoSeries
        One polygon per grid, in a metric CRS (areas in m²).
    grid_ids : array-like of str
        The grid ids, aligned with ``geometry``.
    household_grid : array-like
        grid_id of every household row; rows of other grids (or None) are not counted.
    households : array-like of int
        Households per row.
    band : (int, int)
        Fewest and most households per grid, for ``status``.
    population : array-like of float, optional
        Population per row (missing or non-numeric values count as unknown).
    building : array-like, optional
        building_id per row (None/NaN where unknown).
    estate : array-like, optional
        estate_id per row (None/NaN where unknown).
    xy : ndarray (n, 2), optional
        Metric coordinates of the rows: a row without a building id counts as the building at
        its location (to the metre), as the partition's units do; without ``xy``, as a
        building of its own.

    Returns
    -------
    DataFrame
        :data:`FIGURE_COLUMNS`, one row per grid in the order of ``grid_ids``:

        - ``households`` (int64): sum over the grid's rows;
        - ``population`` (Int64): sum of the known values rounded to a whole number, ``<NA>``
          when no row of the grid has one;
        - ``n_buildings``, ``n_estates`` (int64): distinct ids (0 without estates);
        - ``area_m2``: rounded to 2 decimals (cm² are noise of the projection);
        - ``compactness``: Polsby-Popper 4πA/P², rounded to 6 decimals, 0 for an empty grid;
        - ``status``: ``under`` below ``band[0]``, ``over`` above ``band[1]``, else ``ok``.
    """
    ids = np.asarray(grid_ids, dtype=object)
    geom = np.asarray(geometry, dtype=object)
    ngrids = len(ids)
    pos = pd.Index(ids).get_indexer(np.asarray(household_grid, dtype=object))
    rows = np.flatnonzero(pos >= 0)
    pos = pos[rows]
    hh = np.bincount(pos, weights=np.asarray(households, dtype=float)[rows], minlength=ngrids)
    hh = np.round(hh).astype(np.int64)
    area = shapely.area(geom)
    perim = shapely.length(geom)
    with np.errstate(divide="ignore", invalid="ignore"):
        compact = np.where(perim > 0, 4 * math.pi * area / perim**2, 0.0)
    out = pd.DataFrame({"grid_id": ids, "households": hh})
    if population is not None:
        col = population if isinstance(population, pd.Series) else pd.Series(population)
        pop = pd.to_numeric(col.reset_index(drop=True), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )[rows]
        s = np.bincount(pos, weights=np.nan_to_num(pop), minlength=ngrids)
        has = np.bincount(pos, weights=np.isfinite(pop), minlength=ngrids) > 0
        out["population"] = pd.array(np.where(has, np.round(s), np.nan), dtype="Int64")
    else:
        out["population"] = pd.array([pd.NA] * ngrids, dtype="Int64")
    addr = _address_keys(None if xy is None else np.asarray(xy, dtype=float).reshape(-1, 2)[rows], len(rows))
    bkey = (
        addr
        if building is None
        else np.where(
            pd.isna(np.asarray(building, dtype=object)[rows]), addr, np.asarray(building, dtype=object)[rows]
        )
    )
    out["n_buildings"] = _distinct_per_grid(pos, bkey, ngrids)
    out["n_estates"] = (
        np.zeros(ngrids, dtype=np.int64)
        if estate is None
        else _distinct_per_grid(pos, np.asarray(estate, dtype=object)[rows], ngrids)
    )
    out["area_m2"] = np.round(area, 2)
    out["compactness"] = np.round(compact, 6)
    out["status"] = pd.array(band_status(hh, *band), dtype=object)
    return out


def band_status(households, min_households: int, max_households: int) -> np.ndarray:
    """Each grid's place in the household band: ``under``, ``ok`` or ``over`` (the bounds are
    in the band). The one statement of the rule: the figures, the maps, the edit previews and
    the proposal comparison all ask here.

    Parameters
    ----------
    households : array-like of int
    min_households, max_households : int

    Returns
    -------
    ndarray of str
    """
    hh = np.asarray(households)
    return np.where(hh < min_households, "under", np.where(hh > max_households, "over", "ok")).astype(object)
