"""What a plan shows: its grids, units, assignment and edit state, read-only.

A mixin of :class:`gridplan.plan.model.Plan`, which holds the state these properties read.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.plan.common import grid_sort_key
from gridplan.plan.history import Edit

__all__ = ["PlanViews"]


class PlanViews:
    """The read-only properties of a :class:`~gridplan.plan.model.Plan`."""

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """Grid polygons and figures (contract fields plus ``locked``), EPSG:4326, by grid_id."""
        return self._wgs("grids", self._state.grids)

    @property
    def grids_metric(self) -> gpd.GeoDataFrame:
        """:attr:`grids` in the plan's metric CRS (for measuring and fast map building)."""
        return self._state.grids

    @property
    def assignment(self) -> gpd.GeoDataFrame:
        """The households input with ``grid_id`` (and ``unit_id``) added; same rows, same order."""
        out = self._households.copy()
        unit_ids = self._tables.units["unit_id"].to_numpy(dtype=object)
        hh_unit = self._tables.household_unit
        inside = hh_unit >= 0
        grid = np.full(len(out), None, dtype=object)
        grid[inside] = self._state.unit_grid[hh_unit[inside]]
        uid = np.full(len(out), None, dtype=object)
        uid[inside] = unit_ids[hh_unit[inside]]
        out["unit_id"] = uid
        out["grid_id"] = pd.array(grid, dtype="str") if inside.all() else grid
        return out

    @property
    def units(self) -> gpd.GeoDataFrame:
        """Partition units with their current ``grid_id`` and ``households``, EPSG:4326."""
        return self._wgs("units", self.units_metric)

    @property
    def units_metric(self) -> gpd.GeoDataFrame:
        """:attr:`units` in the plan's metric CRS."""
        u = self._tables.units.copy()
        u["grid_id"] = self._state.unit_grid
        u["households"] = self._tables.households
        return u[["unit_id", "community_id", "grid_id", "households", "geometry"]]

    @property
    def communities(self) -> gpd.GeoDataFrame:
        """The community polygons the plan covers."""
        return self._communities

    @property
    def households(self) -> gpd.GeoDataFrame:
        """The household input as given."""
        return self._households

    @property
    def micro_grids(self) -> gpd.GeoDataFrame | None:
        """Micro-grids of grids not edited since the partition (None when there are none)."""
        return self._state.micro_grids

    @property
    def micro_stale(self) -> list[str]:
        """Grids edited since their micro-grids were drawn whose micro-grids are missing
        (only when the plan has no ``micro_max`` to regenerate them with)."""
        return sorted(self._state.micro_stale, key=grid_sort_key)

    @property
    def version(self) -> int:
        """A number that changes with every edit and comes back with undo (a cache key)."""
        return self._state.serial

    @property
    def edits(self) -> list[dict]:
        """The edits that :meth:`undo` can take back, oldest first, as dicts (``op`` and its
        arguments) for :func:`gridplan.i18n.edit_text`."""
        return self._history.actions

    @property
    def last_warnings(self) -> list[dict]:
        """Warnings of the last edit (or redo): a grid that now straddles a barrier.

        Each is a dict with ``code`` (``barrier_crossing``), ``grid_id``, ``barriers`` (names),
        ``kinds``, ``message`` and ``message_zh``. Such edits are allowed; the planner decides.
        """
        return [dict(w) for w in self._last_warnings]

    @property
    def locked(self) -> frozenset:
        """Grid ids locked against edits and re-balancing."""
        return self._state.locked

    @property
    def can_undo(self) -> bool:
        return bool(self._history.undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._history.redo)

    @property
    def history(self) -> list[str]:
        """Labels of the edits that :meth:`undo` can take back, oldest first."""
        return self._history.labels

    @property
    def _undo(self) -> list[Edit]:
        return self._history.undo

    @property
    def _redo(self) -> list[Edit]:
        return self._history.redo
