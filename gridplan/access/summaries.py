"""Per-level tables of a coverage run: households, covered, off the network, population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["household_table", "summary_table"]


def _ids(values) -> np.ndarray:
    """Ids as an object array of ``str``, missing ones (None, NaN, pd.NA) as ``None``.

    Under pandas 3 a column of strings with gaps holds NaN, not None, so a missing id must be
    found with ``pd.isna``; ``str(nan)`` would invent a community called "nan".
    """
    arr = np.asarray(pd.Series(values).to_numpy(dtype=object), dtype=object)
    missing = pd.isna(arr)
    out = np.full(len(arr), None, dtype=object)
    out[~missing] = [str(x) for x in arr[~missing]]
    return out


def household_table(
    households: pd.DataFrame,
    weights: np.ndarray,
    covered: np.ndarray,
    off: np.ndarray,
    communities: gpd.GeoDataFrame | None,
    household_size: float,
) -> pd.DataFrame:
    """One row per household point: the counts every summary adds up, and its ids.

    Parameters
    ----------
    households : DataFrame
        The output rows (optional ``population``, ``community_id``, ``grid_id``).
    weights, covered, off : ndarray
        Households per row, covered and off-network flags.
    communities : GeoDataFrame, optional
        For the street of each community (``street_id``).
    household_size : float
        Persons per household where ``population`` is missing.

    Returns
    -------
    DataFrame
        ``households``, ``hh_covered``, ``hh_off``, ``population`` and, when known,
        ``community_id``, ``street_id``, ``grid_id`` (``str`` or ``None``).
    """
    if "population" in households.columns:
        popv = pd.to_numeric(households["population"], errors="coerce").to_numpy(dtype=float)
        population = np.where(np.isnan(popv), weights * household_size, popv)
    else:
        population = weights * household_size
    table = pd.DataFrame(
        {
            "households": weights,
            "hh_covered": weights * covered,
            "hh_off": weights * off,
            "population": population,
        }
    )
    if "community_id" in households.columns:
        table["community_id"] = _ids(households["community_id"])
        if communities is not None and "street_id" in communities.columns:
            street_of = dict(zip(_ids(communities["community_id"]), _ids(communities["street_id"])))
            table["street_id"] = _ids(table["community_id"].map(street_of))
    if "grid_id" in households.columns:
        table["grid_id"] = _ids(households["grid_id"])
    return table


def summary_table(
    table: pd.DataFrame, communities: gpd.GeoDataFrame | None, grids: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """Rows per ``level`` (all, street, community, grid) of :func:`household_table`'s table.

    Households without an id at a level are summed in a row of their own (id ``None``, name
    "(none)").
    """
    names = {}
    street_names = {}
    if communities is not None and "community_id" in communities.columns:
        ids = _ids(communities["community_id"])
        if "name" in communities.columns:
            names = dict(zip(ids, communities["name"].astype(object)))
        if "street_id" in communities.columns and "street_name" in communities.columns:
            street_names = dict(
                zip(_ids(communities["street_id"]), communities["street_name"].astype(object))
            )
    grid_names = {}
    if grids is not None and "grid_id" in grids.columns:
        name_col = "name" if "name" in grids.columns else None
        if name_col:
            grid_names = dict(zip(_ids(grids["grid_id"]), grids[name_col].astype(object)))
    rows = []

    def agg(level, key, name_map):
        if key is not None and key not in table.columns:
            return
        t = table if key is None else table[table[key].notna()]
        g = t.groupby(key if key else np.zeros(len(t), dtype=int), sort=True)
        s = pd.DataFrame(
            {
                "households": g["households"].sum(),
                "households_covered": g["hh_covered"].sum(),
                "off_network": g["hh_off"].sum(),
                "population": g["population"].sum(),
            }
        )
        s["share_covered"] = np.where(s["households"] > 0, s["households_covered"] / s["households"], np.nan)
        s.insert(0, "id", "all" if key is None else s.index.astype(str))
        s.insert(0, "level", level)
        s.insert(2, "name", [name_map.get(i) for i in s["id"]] if key else None)
        rows.append(s.reset_index(drop=True))
        if key is not None and t is not table and len(t) < len(table):
            rest = table[table[key].isna()]
            rows.append(
                pd.DataFrame(
                    {
                        "level": [level],
                        "id": [None],
                        "name": ["(none)"],
                        "households": [rest["households"].sum()],
                        "households_covered": [rest["hh_covered"].sum()],
                        "off_network": [rest["hh_off"].sum()],
                        "population": [rest["population"].sum()],
                        "share_covered": [rest["hh_covered"].sum() / max(rest["households"].sum(), 1)],
                    }
                )
            )

    agg("all", None, {})
    agg("street", "street_id", street_names)
    agg("community", "community_id", names)
    agg("grid", "grid_id", grid_names)
    out = pd.concat(rows, ignore_index=True)
    cols = [
        "level",
        "id",
        "name",
        "households",
        "households_covered",
        "share_covered",
        "off_network",
        "population",
    ]
    out = out[cols]
    for c in ("households", "households_covered", "off_network"):
        out[c] = out[c].astype(np.int64)
    out["population"] = out["population"].round().astype(np.int64)
    out["share_covered"] = out["share_covered"].astype(float).round(6)
    return out
