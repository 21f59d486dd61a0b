"""A Plan: the grids of a district as a planner edits them.

A :class:`Plan` holds the partition units (estates, buildings: the atoms a grid is made of), which
grid each unit belongs to, the grid polygons and figures, locks, and an undo/redo history. Every
edit (move a unit or a building, split, merge, lock, re-balance) changes the unit-to-grid map and recomputes only
the grids it touched: polygon = union of their units' cells, households, population, status,
area, compactness. An edit that would break a grid into pieces is refused with a
:class:`~gridplan.errors.InputError` that says why, in English and Chinese.

The app and notebooks hold no planning logic of their own: they call these methods.

The rest of the plan lives beside this module: :mod:`~gridplan.plan.history` (undo/redo states),
:mod:`~gridplan.plan.edits` (the rules of move, split and merge, and their previews),
:mod:`~gridplan.plan.units` (unit tables, adjacency), :mod:`~gridplan.plan.figures` (grid rows),
:mod:`~gridplan.plan.barriers`, :mod:`~gridplan.plan.queries` (read-only questions of the app),
:mod:`~gridplan.plan.rebalance` (re-partitioning, micro-grids, bisection) and
:mod:`~gridplan.plan.storage` (the GeoPackage a plan is saved as).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.errors import InputError
from gridplan.io.checks import household_counts
from gridplan.io.projection import local_crs, to_wgs84
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.plan.barriers import barrier_lines, crossing_warnings
from gridplan.plan.buildings import PlanBuildings
from gridplan.plan.common import (
    grid_sort_key,
    jsonable,
    require_columns,
    sort_grids,
)
from gridplan.plan.edits import Change, PlanEdits
from gridplan.plan.figures import GRID_COLUMNS, grid_rows
from gridplan.plan.history import Edit, History, State
from gridplan.plan.quality import PlanQuality
from gridplan.plan.queries import PlanQueries
from gridplan.plan.rebalance import PlanRepartition
from gridplan.plan.storage import PLAN_FORMAT_VERSION, PlanStorage
from gridplan.plan.units import (
    UnitTables,
    community_info,
    household_spots,
    household_units,
)
from gridplan.plan.views import PlanViews

__all__ = ["GRID_COLUMNS", "PLAN_FORMAT_VERSION", "Plan"]


class Plan(PlanViews, PlanQueries, PlanQuality, PlanBuildings, PlanEdits, PlanRepartition, PlanStorage):
    """Grids of one or more communities, editable, with undo/redo and save/load.

    Build one with :meth:`from_partition`; the constructor is for :meth:`load`.

    Parameters
    ----------
    households : GeoDataFrame
        Household points (any CRS), contract columns; row order is kept.
    communities : GeoDataFrame
        Community polygons with ``community_id`` and ``name``.
    units : GeoDataFrame
        Partition units: ``unit_id``, ``community_id``, ``grid_id``, ``households`` and the unit
        cell polygon.
    household_unit : array of int
        For every household row, the position of its unit in ``units`` (-1: in no unit, e.g.
        outside every community; such rows get no grid and are counted in :attr:`report`).
    min_households, max_households : int
        The grid size band.
    reasons : mapping, optional
        ``grid_id -> reason`` from the partition, kept for grids no edit has touched.
    micro_grids : GeoDataFrame, optional
        Micro-grids from the partition. An edit regenerates those of the grids it touches when
        ``micro_max`` is given, and otherwise drops them and lists the grids in
        :attr:`micro_stale`.
    micro_max : int, optional
        Most households per micro-grid (the partition's ``micro_max``).
    locked : iterable of str, optional
        Grids locked against edits and re-balancing.
    context : dict of GeoDataFrame, optional
        ``buildings``, ``estates``, ``barriers``, ``facilities`` for re-balancing and display.
    seed : int
        Seed for re-balancing and splitting.
    """

    def __init__(
        self,
        households: gpd.GeoDataFrame,
        communities: gpd.GeoDataFrame,
        units: gpd.GeoDataFrame,
        household_unit: np.ndarray,
        *,
        min_households: int = GRID_MIN_HOUSEHOLDS,
        max_households: int = GRID_MAX_HOUSEHOLDS,
        reasons: dict | None = None,
        micro_grids: gpd.GeoDataFrame | None = None,
        locked: Iterable[str] = (),
        context: dict | None = None,
        seed: int = 0,
        report: dict | None = None,
        micro_max: int | None = None,
    ) -> None:
        require_columns(units, ["unit_id", "community_id", "grid_id"], "units")
        require_columns(communities, ["community_id"], "communities")
        self.min_households = int(min_households)
        self.max_households = int(max_households)
        self.seed = int(seed)
        self.micro_max = int(micro_max) if micro_max else None
        self.crs = local_crs(communities)
        self.context = {k: v for k, v in (context or {}).items() if v is not None}
        self.partition_report = dict(report or {})

        hh = households.drop(columns=["grid_id"], errors="ignore").reset_index(drop=True)
        self._households = hh
        self._communities = communities.reset_index(drop=True)
        units = units.reset_index(drop=True)
        hh_unit = np.asarray(household_unit, dtype=np.int64)
        if len(hh_unit) != len(hh):
            raise InputError(
                f"household_unit has {len(hh_unit)} entries for {len(hh)} households",
                fix="pass one unit position per household row",
            )
        self._hh_weight = household_counts(hh, "households")
        self._hh_spot = household_spots(hh, self.crs)
        self._barrier_lines = barrier_lines(self.context.get("barriers"), self.crs)
        self._tables = UnitTables.build(
            units[["unit_id", "community_id", "geometry"]].to_crs(self.crs),
            hh_unit,
            self._hh_weight,
            self._barrier_lines[0],
        )
        self._community_info = community_info(self._communities)
        self._reasons = dict(reasons or {})
        self.coverage = None

        unit_grid = units["grid_id"].astype(str).to_numpy(dtype=object)
        grids = self._grid_rows(sorted(set(unit_grid)), unit_grid, frozenset(locked))
        self._state = State(unit_grid, grids, frozenset(locked), micro_grids, "start")
        self._history = History()
        self._wgs_cache: dict[str, gpd.GeoDataFrame] = {}
        self._last_warnings: list[dict] = []
        # made on first use by the building moves (gridplan.plan.buildings): the household points
        # in the metric CRS, the footprints, and the last building cut (a panel asks for the
        # same building's targets and preview on every rerun)
        self._hh_xy: np.ndarray | None = None
        self._fp_memo: tuple | None = None
        self._building_memo: tuple | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_partition(
        cls,
        result,
        households: gpd.GeoDataFrame,
        communities: gpd.GeoDataFrame,
        *,
        buildings: gpd.GeoDataFrame | None = None,
        estates: gpd.GeoDataFrame | None = None,
        barriers: gpd.GeoDataFrame | None = None,
        facilities: gpd.GeoDataFrame | None = None,
        min_households: int = GRID_MIN_HOUSEHOLDS,
        max_households: int = GRID_MAX_HOUSEHOLDS,
        seed: int = 0,
        micro_max: int | None = None,
    ) -> Plan:
        """A plan from a :func:`gridplan.grids.api.partition` result.

        Parameters
        ----------
        result : PartitionResult
            With ``.units``, ``.assignment``, ``.grids`` and optionally ``.micro_grids``, ``.report``.
        households, communities : GeoDataFrame
            The inputs the partition was run on (the plan holds ``result.parts`` instead of the
            households when the partition split a building given as one row).
        buildings, estates, barriers, facilities : GeoDataFrame, optional
            Context kept for re-balancing and for the map.
        min_households, max_households : int
            The band the partition used.
        seed : int
            The partition seed.
        micro_max : int, optional
            The partition's ``micro_max``: edits then regenerate the micro-grids they touch.

        Returns
        -------
        Plan
        """
        units = result.units.reset_index(drop=True)
        # a building given as one row and split by entrance is planned as one row per part
        parts = getattr(result, "parts", None)
        households = households if parts is None else parts
        hh_unit = household_units(households, result.assignment if parts is None else parts, units)
        reasons = {}
        if result.grids is not None and "reason" in result.grids:
            g = result.grids
            reasons = {str(k): v for k, v in zip(g["grid_id"], g["reason"]) if isinstance(v, str) and v}
        return cls(
            households,
            communities,
            units,
            hh_unit,
            min_households=min_households,
            max_households=max_households,
            reasons=reasons,
            micro_grids=getattr(result, "micro_grids", None),
            context={
                "buildings": buildings,
                "estates": estates,
                "barriers": barriers,
                "facilities": facilities,
            },
            seed=seed,
            report=jsonable(getattr(result, "report", None) or {}),
            micro_max=micro_max,
        )

    # ------------------------------------------------------------------ edits
    def move_unit(self, unit_id, to_grid: str) -> list[str]:
        """Move one partition unit (an estate or a building) to a neighbouring grid.

        Parameters
        ----------
        unit_id
            A value of ``units.unit_id``.
        to_grid : str
            The grid to move it to; it must touch the unit and lie in the same community.

        Returns
        -------
        list of str
            The grid ids that changed.

        Raises
        ------
        InputError
            Unknown unit or grid, a locked grid, a grid of another community, a target that does
            not touch the unit, or a move that would leave the source grid empty or in pieces.
        """
        return self._make(self._move_change(unit_id, to_grid))

    def move_building(self, building_id, to_grid: str) -> list[str]:
        """Move one building (楼栋) to a neighbouring grid.

        The building's households leave their unit and form a unit of their own, whose cell is
        the building's part of the old unit's cell (:mod:`gridplan.plan.buildings`); that unit
        then moves by the rule of :meth:`move_unit`. A building that is its unit's only one
        moves with its unit. Undo gives the old unit back.

        Parameters
        ----------
        building_id
            A value of the households' ``building_id`` (or of the ``buildings`` context's, when
            the households have none).
        to_grid : str
            The grid to move it to; it must touch the building's ground.

        Returns
        -------
        list of str
            The grid ids that changed.

        Raises
        ------
        InputError
            Unknown building, a building in two units or whose ground cannot be cut out of its
            unit in one piece, and every refusal of :meth:`move_unit`.
        """
        return self._make(self._building_change(building_id, to_grid))

    def split_grid(self, grid_id: str) -> list[str]:
        """Split a grid into two contiguous grids of about equal households.

        The grid's unit graph is bisected with METIS (pymetis, households as vertex weights,
        contiguous parts); the larger part keeps ``grid_id`` and the other gets the next free code
        of the community, so that no other grid is renumbered.

        Returns
        -------
        list of str
            ``[grid_id, new_grid_id]``.
        """
        return self._make(self._split_change(grid_id))

    def merge_grids(self, a: str, b: str) -> list[str]:
        """Merge two adjacent grids of one community; the smaller code survives.

        Returns
        -------
        list of str
            ``[kept_grid_id, removed_grid_id]``.
        """
        return self._make(self._merge_change(a, b))

    def lock(self, grid_id: str) -> None:
        """Lock a grid: edits and re-balancing leave it as it is."""
        self._check_grid(grid_id)
        if grid_id in self._state.locked:
            return
        self._commit_locks(f"lock {grid_id}", self._state.locked | {grid_id}, {"op": "lock", "grid": grid_id})

    def unlock(self, grid_id: str) -> None:
        """Unlock a grid."""
        self._check_grid(grid_id)
        if grid_id not in self._state.locked:
            return
        self._commit_locks(
            f"unlock {grid_id}", self._state.locked - {grid_id}, {"op": "unlock", "grid": grid_id}
        )

    def undo(self) -> bool:
        """Take back the last edit; False when there is none."""
        edit = self._history.take_back(self._state)
        if edit is None:
            return False
        if edit.tables_before is not None:
            self._tables = edit.tables_before
        self._set_state(edit.before)
        self._last_warnings = []
        return True

    def redo(self) -> bool:
        """Do again the last edit taken back; False when there is none."""
        back = self._history.bring_back()
        if back is None:
            return False
        edit, after = back
        if edit.tables_after is not None:
            self._tables = edit.tables_after
        self._set_state(after)
        self._last_warnings = list(after.warnings)
        return True

    # ------------------------------------------------------------------ internals
    def _make(self, change: Change) -> list[str]:
        """Make an edit worked out by :class:`~gridplan.plan.edits.PlanEdits`."""
        return self._commit(change.label, change.unit_grid, change.changed, change.action, change.tables)

    def _commit(
        self,
        label: str,
        unit_grid: np.ndarray,
        changed: Sequence[str],
        action: dict | None = None,
        tables: UnitTables | None = None,
    ) -> list[str]:
        """Recompute the grids ``changed`` and push the new state; ``tables`` replace the unit
        tables (kept with the edit, so that undo and redo swap them too)."""
        changed = sorted(set(changed), key=grid_sort_key)
        present = [g for g in changed if (unit_grid == g).any()]
        old = self._state.grids
        for g in changed:
            self._reasons.pop(g, None)
        before = self._tables
        if tables is not None:
            self._tables = tables
        try:
            rows = self._grid_rows(present, unit_grid, self._state.locked)
            micro, stale = self._micro_after(changed, rows, unit_grid)
        except BaseException:
            self._tables = before
            raise
        keep = old[~old.index.isin(changed)]
        grids = sort_grids(pd.concat([keep, rows]))
        warnings = crossing_warnings(old, rows, self._barrier_lines)
        state = State(unit_grid, grids, self._state.locked, micro, label, action, tuple(warnings), stale)
        self._push(label, state, before if tables is not None else None, tables)
        return changed

    def _commit_locks(self, label: str, locked: frozenset, action: dict | None = None) -> None:
        grids = self._state.grids.copy()
        grids["locked"] = grids.index.isin(locked)
        self._push(
            label,
            State(
                self._state.unit_grid,
                grids,
                locked,
                self._state.micro_grids,
                label,
                action,
                (),
                self._state.micro_stale,
            ),
        )

    def _push(
        self,
        label: str,
        state: State,
        tables_before: UnitTables | None = None,
        tables_after: UnitTables | None = None,
    ) -> None:
        self._history.record(Edit(label, self._state, state, tables_before, tables_after))
        self._set_state(state)
        self._last_warnings = list(state.warnings)

    def _set_state(self, state: State) -> None:
        self._state = state
        self._wgs_cache.clear()

    def _wgs(self, key: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if key not in self._wgs_cache:
            out = to_wgs84(gdf)
            if key == "grids":
                out = out.reset_index(drop=True)
            self._wgs_cache[key] = out
        return self._wgs_cache[key].copy()

    def _grid_rows(
        self, grid_ids: Sequence[str], unit_grid: np.ndarray, locked: frozenset
    ) -> gpd.GeoDataFrame:
        """Contract rows of ``grid_ids`` from scratch (:func:`gridplan.plan.figures.grid_rows`)."""
        return grid_rows(
            grid_ids,
            unit_grid,
            locked,
            tables=self._tables,
            households=self._households,
            weights=self._hh_weight,
            spots=self._hh_spot,
            info=self._community_info,
            reasons=self._reasons,
            band=(self.min_households, self.max_households),
            crs=self.crs,
        )
