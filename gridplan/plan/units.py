"""The unit tables of a plan: partition units, which household is in which unit, adjacency.

Units are the atoms grids are made of (estates, buildings). Their tables change only when a
community is re-balanced (new units); every other edit only reassigns units to grids.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from gridplan.geometry import adjacency as shared_adjacency
from gridplan.plan.barriers import unit_zones

__all__ = [
    "UnitTables",
    "community_info",
    "household_spots",
    "household_units",
    "unit_adjacency",
]


@dataclass(frozen=True)
class UnitTables:
    """Units and their relations; replaced as a whole (never changed) by a re-balance.

    Attributes
    ----------
    units : GeoDataFrame
        ``unit_id``, ``community_id`` and the cell polygon, in the plan's metric CRS.
    position : dict
        ``unit_id -> row`` in ``units``.
    household_unit : ndarray of int
        Per household row, the row of its unit (-1: in no unit).
    households : ndarray of int
        Households per unit.
    community : ndarray of str
        Community of every unit.
    adjacency : csr_matrix
        Units sharing a boundary of at least ``UNIT_ADJACENCY_MIN_EDGE_M`` metres.
    zone : ndarray of int
        Barrier-free zone of every unit (:func:`gridplan.plan.barriers.unit_zones`).
    """

    units: gpd.GeoDataFrame
    position: dict
    household_unit: np.ndarray
    households: np.ndarray
    community: np.ndarray
    adjacency: sparse.csr_matrix
    zone: np.ndarray

    @classmethod
    def build(
        cls, units: gpd.GeoDataFrame, household_unit: np.ndarray, weights: np.ndarray, barriers
    ) -> UnitTables:
        """The tables of ``units`` in the plan's CRS.

        Parameters
        ----------
        units : GeoDataFrame
            ``unit_id``, ``community_id``, geometry; already in the plan's metric CRS.
        household_unit : array of int
            Per household row, the row of its unit (-1: in no unit).
        weights : array of int
            Households per household row.
        barriers : array of LineString, optional
            Barrier lines in the plan's CRS.

        Returns
        -------
        UnitTables
        """
        hh_unit = np.asarray(household_unit, dtype=np.int64)
        inside = hh_unit >= 0
        per_unit = np.bincount(hh_unit[inside], weights=weights[inside], minlength=len(units)).astype(
            np.int64
        )
        community = units["community_id"].astype(str).to_numpy(dtype=object)
        cells = units.geometry.values
        adjacency = unit_adjacency(cells)
        return cls(
            units=units,
            position={u: i for i, u in enumerate(units["unit_id"].tolist())},
            household_unit=hh_unit,
            households=per_unit,
            community=community,
            adjacency=adjacency,
            zone=unit_zones(cells, adjacency, community, barriers),
        )


def unit_adjacency(cells) -> sparse.csr_matrix:
    """Units sharing at least ``UNIT_ADJACENCY_MIN_EDGE_M`` metres of boundary: the one
    adjacency builder (:func:`gridplan.geometry.adjacency.unit_adjacency`), whose snapping
    tolerance joins unit edges that drifted by millimetres on the WGS-84 round trip.

    Returns
    -------
    csr_matrix
        Symmetric, int8.
    """
    adj = shared_adjacency.unit_adjacency(np.asarray(cells, dtype=object))
    adj.data = np.ones_like(adj.data, dtype=np.int8)
    return adj.astype(np.int8)


def household_units(households: gpd.GeoDataFrame, assignment, units: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``units`` of every household row (-1 when it is in no unit).

    Parameters
    ----------
    households : GeoDataFrame
        Household points.
    assignment : DataFrame, optional
        The partition's assignment; its ``unit_id`` (or else its ``grid_id``) decides.
    units : GeoDataFrame
        Unit cells.

    Returns
    -------
    ndarray of int64
    """
    n = len(households)
    if assignment is not None and "unit_id" in assignment and len(assignment) == n:
        pos = pd.Index(units["unit_id"]).get_indexer(assignment["unit_id"])
        return pos.astype(np.int64)
    pts = households.geometry.to_crs(units.crs).values
    cells = units.geometry.values
    tree = shapely.STRtree(cells)
    hi, ui = tree.query(pts, predicate="intersects")
    out = np.full(n, -1, dtype=np.int64)
    if len(hi) == 0:
        return out
    # A point on a shared cell edge matches two units; prefer the one whose grid the partition
    # gave the household, then the lowest position, so that the choice is deterministic.
    if assignment is not None and "grid_id" in assignment and len(assignment) == n:
        want = assignment["grid_id"].astype(object).to_numpy()[hi]
        have = units["grid_id"].astype(object).to_numpy()[ui]
        mismatch = (want != have).astype(np.int64)
    else:
        mismatch = np.zeros(len(hi), dtype=np.int64)
    order = np.lexsort((ui, mismatch, hi))
    hi, ui = hi[order], ui[order]
    first = np.r_[True, hi[1:] != hi[:-1]]
    out[hi[first]] = ui[first]
    return out


def household_spots(households: gpd.GeoDataFrame, crs) -> np.ndarray:
    """Per household, its location rounded to the metre as text (``@x,y``).

    A household without a building id counts as a building of its own spot, as the partition
    counts it, so that both give the same ``n_buildings``.

    Parameters
    ----------
    households : GeoDataFrame
    crs
        The plan's metric CRS.

    Returns
    -------
    ndarray of str (object)
    """
    xy = np.round(shapely.get_coordinates(households.geometry.to_crs(crs).values)).astype(np.int64)
    return np.char.add(np.char.add("@", xy[:, 0].astype(str)), np.char.add(",", xy[:, 1].astype(str))).astype(
        object
    )


def community_info(communities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Name, street id and street name per community id (first row of a repeated id).

    Parameters
    ----------
    communities : GeoDataFrame
        ``community_id`` and optional ``name``, ``street_id``, ``street_name``.

    Returns
    -------
    DataFrame
        ``community_name``, ``street_id``, ``street_name``, indexed by community id (str).
    """
    c = communities
    info = pd.DataFrame(
        {
            "community_name": c["name"].to_numpy(dtype=object) if "name" in c else None,
            "street_id": c["street_id"].to_numpy(dtype=object) if "street_id" in c else None,
            "street_name": c["street_name"].to_numpy(dtype=object) if "street_name" in c else None,
        },
        index=c["community_id"].astype(str).to_numpy(),
    )
    return info[~info.index.duplicated()]
