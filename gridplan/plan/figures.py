"""Grid rows of a plan: polygon and figures of each grid, computed from its units and households.

:func:`grid_rows` is the plan's one computation of grid figures (households, population,
buildings, estates, status, area, compactness, barrier flag); every edit recomputes the grids it
touched with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.grids.api import GRID_COLUMNS
from gridplan.grids.figures import grid_figures
from gridplan.grids.reasons import Reason
from gridplan.plan.units import UnitTables

__all__ = ["GRID_COLUMNS", "edited_reason", "grid_rows"]


def grid_rows(
    grid_ids: Sequence[str],
    unit_grid: np.ndarray,
    locked: frozenset,
    *,
    tables: UnitTables,
    households: pd.DataFrame,
    weights: np.ndarray,
    spots: np.ndarray,
    info: pd.DataFrame,
    reasons: Mapping[str, str],
    band: tuple[int, int],
    crs,
) -> gpd.GeoDataFrame:
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
            geometry=gpd.GeoSeries([], crs=crs),
            crs=crs,
        ).set_index("grid_id", drop=False)
    upos = np.flatnonzero(np.isin(unit_grid, grid_ids))
    ugrid = unit_grid[upos]
    geom = gpd.GeoSeries(
        [shapely.union_all(tables.units.geometry.values[upos][ugrid == g]) for g in grid_ids], crs=crs
    )
    # the one computation of grid figures, shared with the partition and reconcile
    building = (
        households["building_id"].astype(object).to_numpy()
        if "building_id" in households
        else np.full(len(households), None, object)
    )
    fig = grid_figures(
        geom.values,
        grid_ids,
        unit_grid[tables.household_unit],
        weights,
        band=band,
        population=households["population"] if "population" in households else None,
        building=np.where(pd.isna(building), spots, building),
        estate=households["estate_id"].to_numpy(object) if "estate_id" in households else None,
    )
    community = pd.Series([str(tables.community[upos[ugrid == g][0]]) for g in grid_ids], index=grid_ids)
    info = info.reindex(community.to_numpy())
    status = fig["status"].to_numpy(object)
    hh_total = fig["households"].to_numpy()
    out = gpd.GeoDataFrame(
        {
            "grid_id": pd.array(grid_ids, dtype="str"),
            "community_id": pd.array(community.to_numpy(), dtype="str"),
            "community_name": info["community_name"].to_numpy(),
            "street_id": info["street_id"].to_numpy(),
            "street_name": info["street_name"].to_numpy(),
            "households": hh_total,
            "population": fig["population"].array,
            "n_buildings": fig["n_buildings"].to_numpy(),
            "n_estates": fig["n_estates"].to_numpy(),
            "status": pd.array(status, dtype="str"),
            "reason": [
                edited_reason(reasons.get(g), s, int(h), band) for g, s, h in zip(grid_ids, status, hh_total)
            ],
            "area_m2": fig["area_m2"].to_numpy(),
            "compactness": fig["compactness"].to_numpy(),
            "locked": [g in locked for g in grid_ids],
            "barrier_crossing": [len(set(tables.zone[upos[ugrid == g]])) > 1 for g in grid_ids],
        },
        geometry=geom.values,
        crs=crs,
    )
    out.index = pd.Index(grid_ids, name=None)
    return out


def edited_reason(kept: str | None, status: str, households: int, band: tuple[int, int]) -> str | None:
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
        return Reason("edited_below_min", {"households": households, "lo": band[0]}).text()
    return Reason("edited_over_max", {"households": households, "hi": band[1]}).text()
