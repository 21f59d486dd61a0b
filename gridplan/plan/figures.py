"""Grid rows of a plan: polygon and figures of each grid, computed from its units and households.

:func:`grid_rows` is the plan's one computation of grid figures (households, population,
buildings, estates, status, area, compactness, barrier flag); every edit recomputes the grids it
touched with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.plan.units import UnitTables

__all__ = ["GRID_COLUMNS", "edited_reason", "grid_rows"]

#: Grid attributes of the data contract, in output order.
GRID_COLUMNS = [
    "grid_id",
    "community_id",
    "community_name",
    "street_id",
    "street_name",
    "households",
    "population",
    "n_buildings",
    "n_estates",
    "status",
    "reason",
    "area_m2",
    "compactness",
]


def grid_rows(grid_ids: Sequence[str], unit_grid: np.ndarray, locked: frozenset, *,
              tables: UnitTables, households: pd.DataFrame, weights: np.ndarray,
              spots: np.ndarray, info: pd.DataFrame, reasons: Mapping[str, str],
              band: tuple[int, int], crs) -> gpd.GeoDataFrame:
    """Contract rows of ``grid_ids`` computed from scratch from their units and households.

    Parameters
    ----------
    grid_ids : sequence of str
        The grids to compute, in output order.
    unit_grid : array of str
        Grid of every unit.
    locked : frozenset
        Locked grid ids.
    tables : UnitTables
    households : DataFrame
        Household rows (``population``, ``building_id``, ``estate_id`` when present).
    weights, spots : ndarray
        Households per row and the location key of each row
        (:func:`gridplan.plan.units.household_spots`).
    info : DataFrame
        :func:`gridplan.plan.units.community_info`.
    reasons : mapping
        Reasons kept from the partition for grids no edit has touched.
    band : (int, int)
        Fewest and most households per grid.
    crs
        The plan's metric CRS.

    Returns
    -------
    GeoDataFrame
        :data:`GRID_COLUMNS` plus ``locked`` and ``barrier_crossing``, indexed by grid id.
    """
    grid_ids = list(grid_ids)
    if not grid_ids:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in GRID_COLUMNS + ["locked", "barrier_crossing"]},
            geometry=gpd.GeoSeries([], crs=crs), crs=crs,
        ).set_index("grid_id", drop=False)
    upos = np.flatnonzero(np.isin(unit_grid, grid_ids))
    ugrid = unit_grid[upos]
    geom, area, compact = _shape_figures(tables.units.geometry.values[upos], ugrid, grid_ids, crs)
    counts = _household_figures(grid_ids, unit_grid, upos, tables.household_unit, households,
                                weights, spots)
    hh_total = counts["households"]
    community = pd.Series([str(tables.community[upos[ugrid == g][0]]) for g in grid_ids],
                          index=grid_ids)
    info = info.reindex(community.to_numpy())
    lo, hi = band
    status = np.where(hh_total < lo, "under", np.where(hh_total > hi, "over", "ok"))
    out = gpd.GeoDataFrame(
        {
            "grid_id": pd.array(grid_ids, dtype="str"),
            "community_id": pd.array(community.to_numpy(), dtype="str"),
            "community_name": info["community_name"].to_numpy(),
            "street_id": info["street_id"].to_numpy(),
            "street_name": info["street_name"].to_numpy(),
            "households": hh_total.to_numpy(),
            "population": counts["population"].to_numpy(),
            "n_buildings": counts["n_buildings"].to_numpy().astype(np.int64),
            "n_estates": counts["n_estates"].to_numpy().astype(np.int64),
            "status": pd.array(status, dtype="str"),
            "reason": [edited_reason(reasons.get(g), s, int(h), band)
                       for g, s, h in zip(grid_ids, status, hh_total)],
            "area_m2": np.round(area, 1),
            "compactness": np.round(compact, 4),
            "locked": [g in locked for g in grid_ids],
            "barrier_crossing": [len(set(tables.zone[upos[ugrid == g]])) > 1 for g in grid_ids],
        },
        geometry=geom.values,
        crs=crs,
    )
    out.index = pd.Index(grid_ids, name=None)
    return out


def _shape_figures(cells: np.ndarray, ugrid: np.ndarray, grid_ids: list, crs):
    """Polygon (union of the unit cells), area and Polsby-Popper compactness of each grid."""
    polys = [shapely.union_all(cells[ugrid == g]) for g in grid_ids]
    geom = gpd.GeoSeries(polys, crs=crs)
    area = shapely.area(geom.values)
    perim = shapely.length(geom.values)
    compact = np.where(perim > 0, 4 * math.pi * area / np.maximum(perim, 1e-9) ** 2, 0.0)
    return geom, area, compact


def _household_figures(grid_ids: list, unit_grid: np.ndarray, upos: np.ndarray,
                       hh_unit: np.ndarray, households: pd.DataFrame, weights: np.ndarray,
                       spots: np.ndarray) -> dict[str, pd.Series]:
    """Households, population, buildings and estates of each grid, indexed by ``grid_ids``."""
    hsel = np.isin(hh_unit, upos)
    hh = households.loc[hsel]
    frame = pd.DataFrame({"grid_id": unit_grid[hh_unit[hsel]], "w": weights[hsel]})
    has_pop = "population" in hh
    if has_pop:
        frame["population"] = pd.to_numeric(hh["population"], errors="coerce").to_numpy()
    # A household without a building id counts as a building of its own location (rounded
    # to the metre), as the partition counts it, so that both give the same n_buildings.
    spot = spots[hsel]
    if "building_id" in hh:
        b = hh["building_id"].astype(object).to_numpy()
        frame["building_id"] = np.where(pd.isna(b), spot, b)
    else:
        frame["building_id"] = spot
    if "estate_id" in hh:
        frame["estate_id"] = hh["estate_id"].to_numpy(dtype=object)
    grp = frame.groupby("grid_id", sort=False)
    if has_pop:
        population = grp["population"].sum(min_count=1).reindex(grid_ids)
        population = population.round().astype("Int64")
    else:
        population = pd.Series(pd.NA, index=grid_ids, dtype="Int64")
    return {
        "households": grp["w"].sum().reindex(grid_ids, fill_value=0).astype(np.int64),
        "population": population,
        "n_buildings": grp["building_id"].nunique().reindex(grid_ids, fill_value=0),
        "n_estates": (grp["estate_id"].nunique().reindex(grid_ids, fill_value=0)
                      if "estate_id" in frame else pd.Series(0, index=grid_ids)),
    }


def edited_reason(kept: str | None, status: str, households: int,
                  band: tuple[int, int]) -> str | None:
    """Why a grid is out of the band: the partition's reason while no edit touched it, else an
    ``edited_below_min`` / ``edited_over_max`` reason with the figures.

    Parameters
    ----------
    kept : str, optional
        The partition's reason kept for this grid.
    status : str
        ``ok``, ``under`` or ``over``.
    households : int
    band : (int, int)

    Returns
    -------
    str or None
        None for a grid in the band.
    """
    if status == "ok":
        return None
    if kept:
        return kept
    # the same "<code>: <detail>" form as the partition's reasons (gridplan.i18n reads both)
    if status == "under":
        return f"edited_below_min: {households} households, fewer than {band[0]}"
    return f"edited_over_max: {households} households, more than {band[1]}"
