"""A Plan: the grids of a district as a planner edits them.

A :class:`Plan` holds the partition units (estates, buildings: the atoms a grid is made of), which
grid each unit belongs to, the grid polygons and figures, locks, and an undo/redo history. Every
edit (move a unit, split, merge, lock, re-balance) changes the unit-to-grid map and recomputes only
the grids it touched: polygon = union of their units' cells, households, population, status,
area, compactness. An edit that would break a grid into pieces is refused with a
:class:`~gridplan.errors.InputError` that says why, in English and Chinese.

The app and notebooks hold no planning logic of their own: they call these methods.

A plan is saved as one GeoPackage (layers for households, communities, units, grids, optional
context layers, and a ``plan_meta`` table of JSON), never as a pickle, so that a planner can open it
again tomorrow and GIS software can read it too.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.errors import InputError
from gridplan.i18n import warning_text
from gridplan.io.projection import local_crs, to_wgs84
from gridplan.norms import (
    GRID_MAX_HOUSEHOLDS,
    GRID_MIN_HOUSEHOLDS,
    PLAN_BARRIER_SNAP_M,
    PLAN_UNDO_DEPTH,
    UNIT_ADJACENCY_MIN_EDGE_M,
)

__all__ = ["Plan", "GRID_COLUMNS", "PLAN_FORMAT_VERSION"]

#: Version of the plan file layout written by :meth:`Plan.save`.
PLAN_FORMAT_VERSION = 1

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

_CONTEXT_LAYERS = ("buildings", "estates", "barriers", "facilities")

#: Serial numbers of plan states: a state's number identifies its content (undo brings an old
#: state back with its old number), so the app can cache exports by it.
_SERIAL = itertools.count(1)


@dataclass
class _State:
    """Everything an edit changes; undo swaps whole states (they share unchanged arrays)."""

    unit_grid: np.ndarray
    grids: gpd.GeoDataFrame
    locked: frozenset
    micro_grids: gpd.GeoDataFrame | None
    label: str = ""
    #: The edit that made this state, e.g. ``{"op": "move", "unit": ..., "from": ..., "to": ...}``.
    action: dict | None = None
    #: Warnings of that edit (dicts with ``code``, ``grid_id``, ``message``, ``message_zh``).
    warnings: tuple = ()
    #: Grids whose micro-grids were dropped by an edit and not regenerated (no ``micro_max``).
    micro_stale: frozenset = frozenset()
    serial: int = field(default_factory=lambda: next(_SERIAL))


@dataclass
class _Edit:
    label: str
    before: _State
    after: _State | None = None
    #: Unit tables before/after, only for edits that replace units (re-balancing).
    tables_before: tuple | None = None
    tables_after: tuple | None = None


class Plan:
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
        _require(units, ["unit_id", "community_id", "grid_id"], "units")
        _require(communities, ["community_id"], "communities")
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
        self._units = units[["unit_id", "community_id", "geometry"]].to_crs(self.crs)
        self._unit_pos = {uid: i for i, uid in enumerate(self._units["unit_id"].tolist())}
        self._hh_unit = np.asarray(household_unit, dtype=np.int64)
        if len(self._hh_unit) != len(hh):
            raise InputError(
                f"household_unit has {len(self._hh_unit)} entries for {len(hh)} households",
                fix="pass one unit position per household row",
            )
        self._hh_weight = _household_weights(hh)
        xy = np.round(shapely.get_coordinates(hh.geometry.to_crs(self.crs).values)).astype(np.int64)
        self._hh_spot = np.char.add(np.char.add("@", xy[:, 0].astype(str)),
                                    np.char.add(",", xy[:, 1].astype(str))).astype(object)
        inside = self._hh_unit >= 0
        self._unit_households = np.bincount(
            self._hh_unit[inside], weights=self._hh_weight[inside], minlength=len(units)
        ).astype(np.int64)
        self._unit_community = self._units["community_id"].astype(str).to_numpy(dtype=object)
        self._adjacency = _unit_adjacency(self._units.geometry.values)
        self._barrier_lines = _barrier_lines(self.context.get("barriers"), self.crs)
        self._unit_zone = _unit_zones(self._units.geometry.values, self._adjacency,
                                      self._unit_community, self._barrier_lines[0])
        self._community_info = _community_info(self._communities)
        self._reasons = dict(reasons or {})
        self.coverage = None

        unit_grid = units["grid_id"].astype(str).to_numpy(dtype=object)
        grids = self._grid_rows(sorted(set(unit_grid)), unit_grid, frozenset(locked))
        self._state = _State(unit_grid, grids, frozenset(locked), micro_grids, "start")
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._wgs_cache: dict[str, gpd.GeoDataFrame] = {}
        self._last_warnings: list[dict] = []

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
    ) -> "Plan":
        """A plan from a :func:`gridplan.grids.api.partition` result.

        Parameters
        ----------
        result : PartitionResult
            With ``.units``, ``.assignment``, ``.grids`` and optionally ``.micro_grids``, ``.report``.
        households, communities : GeoDataFrame
            The inputs the partition was run on.
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
        assignment = result.assignment
        hh_unit = _household_units(households, assignment, units)
        reasons = {}
        if result.grids is not None and "reason" in result.grids:
            g = result.grids
            reasons = {
                str(k): v for k, v in zip(g["grid_id"], g["reason"]) if isinstance(v, str) and v
            }
        return cls(
            households,
            communities,
            units,
            hh_unit,
            min_households=min_households,
            max_households=max_households,
            reasons=reasons,
            micro_grids=getattr(result, "micro_grids", None),
            context={"buildings": buildings, "estates": estates, "barriers": barriers,
                     "facilities": facilities},
            seed=seed,
            report=_jsonable(getattr(result, "report", None) or {}),
            micro_max=micro_max,
        )

    # ------------------------------------------------------------------ views
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
        unit_ids = self._units["unit_id"].to_numpy(dtype=object)
        inside = self._hh_unit >= 0
        grid = np.full(len(out), None, dtype=object)
        grid[inside] = self._state.unit_grid[self._hh_unit[inside]]
        uid = np.full(len(out), None, dtype=object)
        uid[inside] = unit_ids[self._hh_unit[inside]]
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
        u = self._units.copy()
        u["grid_id"] = self._state.unit_grid
        u["households"] = self._unit_households
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
        return sorted(self._state.micro_stale, key=_grid_sort_key)

    @property
    def version(self) -> int:
        """A number that changes with every edit and comes back with undo (a cache key)."""
        return self._state.serial

    @property
    def edits(self) -> list[dict]:
        """The edits that :meth:`undo` can take back, oldest first, as dicts (``op`` and its
        arguments) for :func:`gridplan.i18n.edit_text`."""
        return [dict(e.after.action) if e.after is not None and e.after.action else
                {"op": "edit", "label": e.label} for e in self._undo]

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
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def history(self) -> list[str]:
        """Labels of the edits that :meth:`undo` can take back, oldest first."""
        return [e.label for e in self._undo]

    @property
    def report(self) -> dict:
        """Figures of the whole plan (JSON-serialisable)."""
        g = self._state.grids
        outside = int(self._hh_weight[self._hh_unit < 0].sum())
        return {
            "households": int(self._hh_weight.sum()),
            "households_in_grids": int(g["households"].sum()),
            "households_outside": outside,
            "grids": int(len(g)),
            "grids_ok": int((g["status"] == "ok").sum()),
            "grids_under": int((g["status"] == "under").sum()),
            "grids_over": int((g["status"] == "over").sum()),
            "locked": sorted(self._state.locked),
            "min_households": self.min_households,
            "max_households": self.max_households,
            "edits": self.history,
        }

    def grid_detail(self, grid_id: str) -> dict:
        """Figures and members of one grid, for the app's side panel.

        Returns
        -------
        dict
            ``grid`` (the grid row as a dict without geometry), ``units`` (DataFrame of its units),
            ``estates`` and ``buildings`` (sorted id lists) and ``neighbours`` (adjacent grid ids).
        """
        self._check_grid(grid_id)
        row = self._state.grids.loc[grid_id]
        upos = np.flatnonzero(self._state.unit_grid == grid_id)
        units = self.units_metric.iloc[upos].drop(columns="geometry")
        hmask = np.isin(self._hh_unit, upos)
        hh = self._households.loc[hmask]
        return {
            "grid": {k: _plain(v) for k, v in row.drop(labels="geometry").items()},
            "units": pd.DataFrame(units).reset_index(drop=True),
            "estates": _sorted_ids(hh, "estate_id"),
            "buildings": _sorted_ids(hh, "building_id"),
            "neighbours": self.neighbours(grid_id),
        }

    def neighbours(self, grid_id: str) -> list[str]:
        """Grid ids adjacent to ``grid_id`` (sharing an edge), sorted."""
        self._check_grid(grid_id)
        ug = self._state.unit_grid
        upos = np.flatnonzero(ug == grid_id)
        nb = self._adjacency[upos].indices
        # grids of the next community touch too, but a grid never crosses a community boundary
        nb = nb[self._unit_community[nb] == self._unit_community[upos[0]]]
        return sorted(set(ug[nb]) - {grid_id}, key=_grid_sort_key)

    def unit_neighbour_grids(self, unit_id) -> list[str]:
        """Grids (other than its own) that the unit ``unit_id`` touches: where it can move to."""
        pos = self._unit(unit_id)
        ug = self._state.unit_grid
        nb = self._adjacency[pos].indices
        nb = nb[self._unit_community[nb] == self._unit_community[pos]]
        return sorted(set(ug[nb]) - {ug[pos]}, key=_grid_sort_key)

    def unit_at(self, lon: float, lat: float):
        """The ``unit_id`` whose cell contains the WGS-84 point (None when none does)."""
        pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(self.crs).iloc[0]
        hits = self._units.sindex.query(pt, predicate="intersects")
        return None if len(hits) == 0 else self._units["unit_id"].iloc[int(np.min(hits))]

    def grid_at(self, lon: float, lat: float) -> str | None:
        """The grid id containing the WGS-84 point (None when none does)."""
        uid = self.unit_at(lon, lat)
        return None if uid is None else str(self._state.unit_grid[self._unit_pos[uid]])

    # ------------------------------------------------------------------ coverage
    def compute_coverage(self, facilities: gpd.GeoDataFrame, network, **kwargs):
        """Walking coverage of the plan's households with :func:`gridplan.access.coverage.coverage`.

        The result is kept (:attr:`coverage`); grid edits do not change walking times, and
        :meth:`coverage_by_grid` re-counts it for the current grids.

        Parameters
        ----------
        facilities : GeoDataFrame
        network : WalkNetwork or a source for :func:`gridplan.network.graph.load_network`
        **kwargs
            ``minutes``, ``speed_kmh``, ``kinds``, ... of :func:`gridplan.access.coverage.coverage`.

        Returns
        -------
        CoverageResult
        """
        from gridplan.access.coverage import coverage

        hh = self.assignment.drop(columns=["unit_id"])
        result = coverage(hh, facilities, network, communities=self._communities, **kwargs)
        self.attach_coverage(result)
        return result

    def attach_coverage(self, result) -> None:
        """Keep a coverage result computed elsewhere on the same household rows."""
        if result is not None and len(result.households) != len(self._households):
            raise InputError(
                f"coverage has {len(result.households)} household rows, the plan "
                f"{len(self._households)}", fix="compute coverage on the plan's households",
                message_zh="覆盖结果与方案的户点行数不一致")
        self.coverage = result

    def coverage_by_grid(self) -> pd.DataFrame:
        """Households, households covered and share covered per current grid.

        Returns
        -------
        DataFrame
            ``grid_id``, ``community_id``, ``households``, ``households_covered``,
            ``share_covered``; empty when no coverage is attached.
        """
        cols = ["grid_id", "community_id", "households", "households_covered", "share_covered"]
        if self.coverage is None:
            return pd.DataFrame(columns=cols)
        covered = self.coverage.households["covered"].fillna(False).to_numpy(dtype=bool)
        a = self.assignment
        frame = pd.DataFrame({"grid_id": a["grid_id"].to_numpy(dtype=object),
                              "households": self._hh_weight,
                              "households_covered": np.where(covered, self._hh_weight, 0)})
        out = frame.dropna(subset=["grid_id"]).groupby("grid_id", sort=False)[
            ["households", "households_covered"]].sum()
        g = self._state.grids
        out = out.reindex(g.index, fill_value=0)
        out["community_id"] = g["community_id"].to_numpy()
        out["share_covered"] = (out["households_covered"] / out["households"].where(
            out["households"] > 0)).round(4)
        out.index.name = "grid_id"
        return out.reset_index()[cols]

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
        pos = self._unit(unit_id)
        self._check_grid(to_grid)
        ug = self._state.unit_grid
        src = str(ug[pos])
        if src == to_grid:
            raise InputError(
                f"unit {unit_id} is already in grid {to_grid}",
                fix="choose another target grid",
                message_zh=f"单元 {unit_id} 已在网格 {to_grid} 中",
                fix_zh="请选择其他目标网格",
            )
        self._check_unlocked(src, to_grid)
        if self._unit_community[pos] != self._grid_community(to_grid):
            raise InputError(
                f"grid {to_grid} is in another community than unit {unit_id}",
                fix="a grid never crosses a community boundary; choose a grid of the same community",
                message_zh=f"网格 {to_grid} 与单元 {unit_id} 不在同一社区",
                fix_zh="网格不能跨社区，请选择同一社区内的网格",
            )
        if to_grid not in self.unit_neighbour_grids(unit_id):
            raise InputError(
                f"unit {unit_id} does not touch grid {to_grid}; the grid would fall apart",
                fix=f"move it to a neighbouring grid: {', '.join(self.unit_neighbour_grids(unit_id))}",
                message_zh=f"单元 {unit_id} 与网格 {to_grid} 不相邻，移动后网格将不连续",
                fix_zh=f"请移到相邻网格：{'、'.join(self.unit_neighbour_grids(unit_id))}",
            )
        rest = np.flatnonzero(ug == src)
        rest = rest[rest != pos]
        if len(rest) == 0:
            raise InputError(
                f"unit {unit_id} is the only unit of grid {src}; moving it would empty the grid",
                fix=f"merge grids {src} and {to_grid} instead",
                message_zh=f"单元 {unit_id} 是网格 {src} 的唯一单元，移走后网格为空",
                fix_zh=f"请改为合并网格 {src} 和 {to_grid}",
            )
        if not self._connected(rest):
            raise InputError(
                f"moving unit {unit_id} would cut grid {src} into pieces",
                fix="move a unit on the edge of the grid, or split the grid first",
                message_zh=f"移走单元 {unit_id} 会使网格 {src} 断成几块，不再连续",
                fix_zh="请移动网格边缘的单元，或先拆分网格",
            )
        new = ug.copy()
        new[pos] = to_grid
        return self._commit(f"move {unit_id} {src}->{to_grid}", new, [src, to_grid],
                            {"op": "move", "unit": _plain(unit_id), "from": src, "to": to_grid})

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
        self._check_grid(grid_id)
        self._check_unlocked(grid_id)
        ug = self._state.unit_grid
        upos = np.flatnonzero(ug == grid_id)
        if len(upos) < 2:
            raise InputError(
                f"grid {grid_id} is a single unit (one estate or building) and cannot be split",
                fix="split it into micro-grids instead, or keep it as it is",
                message_zh=f"网格 {grid_id} 只有一个单元（一个小区或一栋楼），无法拆分",
                fix_zh="可改为划分微网格，或保持不变",
            )
        parts = _bisect(self._adjacency[upos][:, upos], self._unit_households[upos], self.seed)
        w = self._unit_households[upos]
        keep_part = 0 if w[parts == 0].sum() >= w[parts == 1].sum() else 1
        new_id = self._next_grid_id(self._grid_community(grid_id))
        new = ug.copy()
        new[upos[parts != keep_part]] = new_id
        return self._commit(f"split {grid_id}->{new_id}", new, [grid_id, new_id],
                            {"op": "split", "grid": grid_id, "new": new_id})

    def merge_grids(self, a: str, b: str) -> list[str]:
        """Merge two adjacent grids of one community; the smaller code survives.

        Returns
        -------
        list of str
            ``[kept_grid_id, removed_grid_id]``.
        """
        self._check_grid(a)
        self._check_grid(b)
        if a == b:
            raise InputError(f"cannot merge grid {a} with itself", fix="choose two different grids",
                             message_zh=f"不能将网格 {a} 与自身合并", fix_zh="请选择两个不同的网格")
        self._check_unlocked(a, b)
        if self._grid_community(a) != self._grid_community(b):
            raise InputError(
                f"grids {a} and {b} are in different communities",
                fix="a grid never crosses a community boundary; merge grids of one community",
                message_zh=f"网格 {a} 与 {b} 不在同一社区", fix_zh="网格不能跨社区，只能合并同一社区的网格",
            )
        if b not in self.neighbours(a):
            raise InputError(
                f"grids {a} and {b} do not touch; the merged grid would be in pieces",
                fix="merge neighbouring grids only",
                message_zh=f"网格 {a} 与 {b} 不相邻，合并后不连续",
                fix_zh="只能合并相邻的网格",
            )
        keep, gone = sorted([a, b], key=_grid_sort_key)
        ug = self._state.unit_grid
        new = ug.copy()
        new[ug == gone] = keep
        return self._commit(f"merge {gone}->{keep}", new, [keep, gone],
                            {"op": "merge", "keep": keep, "gone": gone})

    def lock(self, grid_id: str) -> None:
        """Lock a grid: edits and re-balancing leave it as it is."""
        self._check_grid(grid_id)
        if grid_id in self._state.locked:
            return
        self._commit_locks(f"lock {grid_id}", self._state.locked | {grid_id},
                           {"op": "lock", "grid": grid_id})

    def unlock(self, grid_id: str) -> None:
        """Unlock a grid."""
        self._check_grid(grid_id)
        if grid_id not in self._state.locked:
            return
        self._commit_locks(f"unlock {grid_id}", self._state.locked - {grid_id},
                           {"op": "unlock", "grid": grid_id})

    def rebalance(self, community_id: str | None = None, *, n_jobs: int | None = 1) -> list[str]:
        """Re-partition the unlocked grids of a community, keeping the locked ones.

        Runs :func:`gridplan.grids.api.partition` on the community with ``keep`` = its locked
        grids, and takes over the new grids of the unlocked rest.

        Parameters
        ----------
        community_id : str, optional
            The community; may be omitted when the plan has only one.
        n_jobs : int, optional
            Passed to the partition.

        Returns
        -------
        list of str
            The grid ids that changed (removed or new or redrawn).
        """
        from gridplan.grids.api import partition

        cids = sorted(set(self._unit_community))
        if community_id is None:
            if len(cids) != 1:
                raise InputError(
                    "the plan has several communities; say which one to re-balance",
                    fix=f"pass community_id, one of {', '.join(cids)}",
                    message_zh="方案包含多个社区，请指定要重新平衡的社区",
                )
            community_id = cids[0]
        community_id = str(community_id)
        if community_id not in cids:
            raise InputError(f"unknown community {community_id}",
                             fix=f"use one of {', '.join(cids)}",
                             message_zh=f"没有社区 {community_id}")
        comm = self._communities[self._communities["community_id"].astype(str) == community_id]
        upos = np.flatnonzero(self._unit_community == community_id)
        hmask = np.isin(self._hh_unit, upos)
        hh = self._households.loc[hmask]
        g = self.grids
        in_comm = g["community_id"].astype(str) == community_id
        keep = g[in_comm & g["grid_id"].isin(self._state.locked)]
        ctx = {k: self.context.get(k) for k in ("buildings", "estates", "barriers")}
        result = partition(
            hh, comm,
            **{k: v for k, v in ctx.items() if v is not None},
            min_households=self.min_households,
            max_households=self.max_households,
            keep=keep if len(keep) else None,
            replan=g[in_comm],
            seed=self.seed,
            n_jobs=n_jobs,
        )
        new_units = result.units.reset_index(drop=True).to_crs(self.crs)
        new_hh_unit = _household_units(hh, result.assignment, new_units)
        return self._replace_community(community_id, new_units, new_hh_unit, hmask, result)

    def undo(self) -> bool:
        """Take back the last edit; False when there is none."""
        if not self._undo:
            return False
        edit = self._undo.pop()
        edit.after = self._state
        if edit.tables_before is not None:
            self._restore_tables(edit.tables_before)
        self._set_state(edit.before)
        self._redo.append(edit)
        self._last_warnings = []
        return True

    def redo(self) -> bool:
        """Do again the last edit taken back; False when there is none."""
        if not self._redo:
            return False
        edit = self._redo.pop()
        if edit.tables_after is not None:
            self._restore_tables(edit.tables_after)
        self._set_state(edit.after)
        self._undo.append(edit)
        self._last_warnings = list(edit.after.warnings)
        return True

    # ------------------------------------------------------------------ checks
    def check(self) -> list[str]:
        """Invariant violations (empty when the plan is sound): households conserved, every grid
        contiguous and inside one community, grid figures equal to a full recomputation."""
        problems = []
        ug = self._state.unit_grid
        g = self._state.grids
        if int(g["households"].sum()) != int(self._hh_weight[self._hh_unit >= 0].sum()):
            problems.append("households in grids differ from households in units")
        for gid in g.index:
            upos = np.flatnonzero(ug == gid)
            if len(upos) == 0:
                problems.append(f"grid {gid} has no units")
            elif not self._connected(upos):
                problems.append(f"grid {gid} is not contiguous")
            if len(set(self._unit_community[upos])) > 1:
                problems.append(f"grid {gid} spans communities")
        if set(ug) != set(g.index):
            problems.append("grid table and unit assignment disagree")
        fresh = self._grid_rows(sorted(set(ug)), ug, self._state.locked)
        for col in ("households", "n_buildings", "n_estates", "status", "barrier_crossing"):
            if not fresh[col].equals(g[col]):
                problems.append(f"grid column {col} is stale")
        return problems

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Write the plan to one GeoPackage (atomically; no pickle).

        Layers: ``households`` (with ``gp_unit``), ``communities``, ``units`` (cells, current
        ``grid_id``), ``grids``, optional ``micro_grids`` and context layers, and ``plan_meta``
        (JSON: version, band, seed, locks, kept reasons, partition report). Undo history is not
        saved.

        Returns
        -------
        pathlib.Path
        """
        from gridplan.io.atomic import atomic_path

        path = Path(path)
        if path.suffix.lower() != ".gpkg":
            raise InputError(f"a plan file must end in .gpkg, not {path.name}",
                             fix="save as e.g. plan.gpkg", message_zh="方案文件须以 .gpkg 结尾")
        meta = {
            "format": "gridplan-plan",
            "version": PLAN_FORMAT_VERSION,
            "min_households": self.min_households,
            "max_households": self.max_households,
            "seed": self.seed,
            "locked": sorted(self._state.locked),
            "reasons": {k: v for k, v in sorted(self._reasons.items())},
            "report": _jsonable(self.partition_report),
            "households_columns": list(map(str, self._households.columns)),
            "unit_id_type": "int" if pd.api.types.is_integer_dtype(self._units["unit_id"]) else "str",
            "context": sorted(self.context),
            "micro_grids": self._state.micro_grids is not None,
            "micro_max": self.micro_max,
        }
        with atomic_path(path) as tmp:
            hh = self._households.copy()
            hh["gp_unit"] = self._hh_unit
            _write(hh, tmp, "households")
            _write(self._communities, tmp, "communities")
            _write(self.units_metric, tmp, "units")
            _write(self._state.grids.reset_index(drop=True), tmp, "grids")
            if self._state.micro_grids is not None:
                _write(self._state.micro_grids, tmp, "micro_grids")
            for name in sorted(self.context):
                _write(self.context[name], tmp, name)
            pyogrio.write_dataframe(
                pd.DataFrame({"key": ["plan"], "value": [json.dumps(meta, ensure_ascii=False)]}),
                tmp, layer="plan_meta",
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Plan":
        """Open a plan written by :meth:`save`.

        Raises
        ------
        InputError
            The file is not a readable gridplan plan.
        """
        path = Path(path)
        try:
            layers = {name for name, _ in pyogrio.list_layers(path)}
            meta_df = pyogrio.read_dataframe(path, layer="plan_meta")
            meta = json.loads(meta_df["value"].iloc[0])
        except Exception as exc:  # any unreadable file is the same problem for the user
            raise InputError(
                f"not a gridplan plan file ({exc.__class__.__name__}: {exc})",
                file=str(path), fix="open a .gpkg written by 'save plan'",
                message_zh="不是 gridplan 方案文件", fix_zh="请打开由“保存方案”生成的 .gpkg 文件",
            ) from exc
        if meta.get("format") != "gridplan-plan" or meta.get("version", 0) > PLAN_FORMAT_VERSION:
            raise InputError("plan file of an unknown format or a newer version", file=str(path),
                             fix="update gridplan", message_zh="方案文件格式未知或版本更新")
        hh = gpd.read_file(path, layer="households")
        hh_unit = hh.pop("gp_unit").to_numpy(dtype=np.int64)
        hh = hh[[c for c in meta["households_columns"] if c in hh.columns and c != "geometry"]
                + ["geometry"]]
        units = gpd.read_file(path, layer="units")
        if meta.get("unit_id_type") == "int":
            units["unit_id"] = units["unit_id"].astype(np.int64)
        communities = gpd.read_file(path, layer="communities")
        context = {name: gpd.read_file(path, layer=name) for name in meta.get("context", [])
                   if name in layers}
        micro = gpd.read_file(path, layer="micro_grids") if "micro_grids" in layers else None
        return cls(
            hh, communities, units, hh_unit,
            min_households=meta["min_households"], max_households=meta["max_households"],
            reasons=meta.get("reasons"), micro_grids=micro, locked=meta.get("locked", ()),
            context=context, seed=meta.get("seed", 0), report=meta.get("report"),
            micro_max=meta.get("micro_max"),
        )

    # ------------------------------------------------------------------ internals
    def _unit(self, unit_id) -> int:
        pos = self._unit_pos.get(unit_id)
        if pos is None and isinstance(unit_id, str) and unit_id.lstrip("-").isdigit():
            pos = self._unit_pos.get(int(unit_id))
        if pos is None:
            pos = self._unit_pos.get(str(unit_id))
        if pos is None:
            raise InputError(f"unknown unit {unit_id}", fix="pick a unit on the map",
                             message_zh=f"没有单元 {unit_id}", fix_zh="请在地图上选择单元")
        return pos

    def _check_grid(self, grid_id: str) -> None:
        if grid_id not in self._state.grids.index:
            raise InputError(f"unknown grid {grid_id}", fix="pick a grid on the map or in the table",
                             message_zh=f"没有网格 {grid_id}", fix_zh="请在地图或表格中选择网格")

    def _check_unlocked(self, *grid_ids: str) -> None:
        locked = [g for g in grid_ids if g in self._state.locked]
        if locked:
            ids = ", ".join(locked)
            raise InputError(f"grid {ids} is locked", fix="unlock it first",
                             message_zh=f"网格 {ids} 已锁定", fix_zh="请先解锁")

    def _grid_community(self, grid_id: str) -> str:
        return str(self._state.grids.at[grid_id, "community_id"])

    def _connected(self, upos: np.ndarray) -> bool:
        if len(upos) <= 1:
            return True
        n, _ = connected_components(self._adjacency[upos][:, upos], directed=False)
        return n == 1

    def _next_grid_id(self, community_id: str) -> str:
        prefix = f"{community_id}-"
        nums = [int(g[len(prefix):]) for g in self._state.grids.index
                if g.startswith(prefix) and g[len(prefix):].isdigit()]
        # Codes stay stable for years: a new grid takes a number never used in this plan's
        # history rather than filling a gap left by a merge.
        for st in [e.before for e in self._undo] + [e.after for e in self._redo if e.after]:
            nums += [int(g[len(prefix):]) for g in st.grids.index
                     if g.startswith(prefix) and g[len(prefix):].isdigit()]
        return f"{prefix}{max(nums, default=0) + 1:02d}"

    def _commit(self, label: str, unit_grid: np.ndarray, changed: Sequence[str],
                action: dict | None = None) -> list[str]:
        changed = sorted(set(changed), key=_grid_sort_key)
        present = [g for g in changed if (unit_grid == g).any()]
        old = self._state.grids
        for g in changed:
            self._reasons.pop(g, None)
        rows = self._grid_rows(present, unit_grid, self._state.locked)
        keep = old[~old.index.isin(changed)]
        grids = _sort_grids(pd.concat([keep, rows]))
        micro, stale = self._micro_after(changed, rows, unit_grid)
        warnings = self._crossing_warnings(old, rows)
        self._push(label, _State(unit_grid, grids, self._state.locked, micro, label, action,
                                 tuple(warnings), stale))
        return changed

    def _commit_locks(self, label: str, locked: frozenset, action: dict | None = None) -> None:
        grids = self._state.grids.copy()
        grids["locked"] = grids.index.isin(locked)
        self._push(label, _State(self._state.unit_grid, grids, locked,
                                 self._state.micro_grids, label, action, (),
                                 self._state.micro_stale))

    def _push(self, label: str, state: _State) -> None:
        self._undo.append(_Edit(label, self._state, after=state))
        del self._undo[:-PLAN_UNDO_DEPTH]
        self._redo.clear()
        self._set_state(state)
        self._last_warnings = list(state.warnings)

    def _crossing_warnings(self, old: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> list[dict]:
        """A warning for every edited grid that straddles a barrier now and did not before."""
        out = []
        for gid in rows.index[rows["barrier_crossing"].to_numpy(dtype=bool)]:
            if gid in old.index and bool(old.at[gid, "barrier_crossing"]):
                continue
            names, kinds = self._barriers_in(rows.geometry[gid])
            w = {"code": "barrier_crossing", "grid_id": str(gid), "barriers": names,
                 "kinds": kinds}
            w["message"] = warning_text(w, "en")
            w["message_zh"] = warning_text(w, "zh")
            out.append(w)
        return out

    def _barriers_in(self, polygon) -> tuple[list[str], list[str]]:
        """Names and kinds of the barrier lines that run through ``polygon`` (not just along it)."""
        lines, names, kinds = self._barrier_lines
        if lines is None or len(lines) == 0:
            return [], []
        inner = shapely.buffer(polygon, -2 * PLAN_BARRIER_SNAP_M)
        hit = np.flatnonzero(shapely.intersects(lines, inner))
        return (sorted({str(names[i]) for i in hit if names[i]}),
                sorted({str(kinds[i]) for i in hit if kinds[i]}))

    def _micro_after(self, changed: Sequence[str], rows: gpd.GeoDataFrame,
                     unit_grid: np.ndarray) -> tuple[gpd.GeoDataFrame | None, frozenset]:
        """Micro-grids after an edit of ``changed``: regenerated for the edited grids when the plan
        knows ``micro_max``, else dropped for them and the grids listed as stale."""
        micro = self._state.micro_grids
        stale = self._state.micro_stale - set(changed)
        if micro is None or "grid_id" not in micro:
            return micro, stale
        kept = micro[~micro["grid_id"].isin(changed)]
        if not self.micro_max:
            return kept, stale | (set(rows.index) & set(micro["grid_id"].astype(str)))
        fresh = [self._micro_of(gid, rows.geometry[gid], unit_grid) for gid in rows.index]
        fresh = [f for f in fresh if f is not None and len(f)]
        if not fresh:
            return kept, stale
        new = pd.concat([kept] + [f.to_crs(kept.crs) for f in fresh], ignore_index=True)
        new = new.sort_values("micro_grid_id", kind="stable").reset_index(drop=True)
        return gpd.GeoDataFrame(new, geometry="geometry", crs=kept.crs), stale

    def _micro_of(self, grid_id: str, polygon, unit_grid: np.ndarray) -> gpd.GeoDataFrame | None:
        """Micro-grids of one grid, drawn by :func:`gridplan.grids.api.partition` itself.

        The grid is handed to the partition as a community whose band is exactly its households,
        so the partition keeps it as one grid and splits it into micro-grids with the same
        machinery as a fresh partition (units, barriers, compactness).
        """
        from gridplan.grids.api import partition

        upos = np.flatnonzero(unit_grid == grid_id)
        hmask = np.isin(self._hh_unit, upos)
        total = int(self._hh_weight[hmask].sum())
        if total == 0:
            return None
        hh = self._households.loc[hmask].drop(columns=["community_id"], errors="ignore")
        comm = gpd.GeoDataFrame({"community_id": [str(grid_id)], "name": [str(grid_id)]},
                                geometry=[polygon], crs=self.crs)
        ctx = {k: self.context.get(k) for k in ("buildings", "estates", "barriers")}
        res = partition(hh, comm, **{k: v for k, v in ctx.items() if v is not None},
                        min_households=total, max_households=total, micro_max=self.micro_max,
                        seed=self.seed, n_jobs=1)
        micro = res.micro_grids
        if micro is None or len(micro) == 0:
            return None
        # the partition names its one grid <grid_id>-01 and the micro-grids <grid_id>-01-<MM>
        inner = f"{grid_id}-01-"
        micro = micro.copy()
        micro["micro_grid_id"] = [f"{grid_id}-{m[len(inner):]}" if str(m).startswith(inner)
                                  else str(m) for m in micro["micro_grid_id"]]
        micro["grid_id"] = str(grid_id)
        return micro

    def _set_state(self, state: _State) -> None:
        self._state = state
        self._wgs_cache.clear()

    def _wgs(self, key: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if key not in self._wgs_cache:
            out = to_wgs84(gdf)
            if key == "grids":
                out = out.reset_index(drop=True)
            self._wgs_cache[key] = out
        return self._wgs_cache[key].copy()

    def _grid_rows(self, grid_ids: Sequence[str], unit_grid: np.ndarray,
                   locked: frozenset) -> gpd.GeoDataFrame:
        """Contract rows of ``grid_ids`` computed from scratch from their units and households."""
        grid_ids = list(grid_ids)
        if not grid_ids:
            return gpd.GeoDataFrame(
                {c: pd.Series(dtype=object) for c in GRID_COLUMNS + ["locked", "barrier_crossing"]},
                geometry=gpd.GeoSeries([], crs=self.crs), crs=self.crs,
            ).set_index("grid_id", drop=False)
        sel = np.isin(unit_grid, grid_ids)
        upos = np.flatnonzero(sel)
        cells = self._units.geometry.values[upos]
        ugrid = unit_grid[upos]
        polys = [shapely.union_all(cells[ugrid == g]) for g in grid_ids]
        geom = gpd.GeoSeries(polys, crs=self.crs)
        area = shapely.area(geom.values)
        perim = shapely.length(geom.values)
        compact = np.where(perim > 0, 4 * math.pi * area / np.maximum(perim, 1e-9) ** 2, 0.0)

        hsel = np.isin(self._hh_unit, upos)
        hh = self._households.loc[hsel]
        hgrid = unit_grid[self._hh_unit[hsel]]
        frame = pd.DataFrame({"grid_id": hgrid, "w": self._hh_weight[hsel]})
        has_pop = "population" in hh
        if has_pop:
            frame["population"] = pd.to_numeric(hh["population"], errors="coerce").to_numpy()
        # A household without a building id counts as a building of its own location (rounded
        # to the metre), as the partition counts it, so that both give the same n_buildings.
        spot = self._hh_spot[hsel]
        if "building_id" in hh:
            b = hh["building_id"].astype(object).to_numpy()
            frame["building_id"] = np.where(pd.isna(b), spot, b)
        else:
            frame["building_id"] = spot
        if "estate_id" in hh:
            frame["estate_id"] = hh["estate_id"].to_numpy(dtype=object)
        grp = frame.groupby("grid_id", sort=False)
        households = grp["w"].sum().reindex(grid_ids, fill_value=0).astype(np.int64)
        if has_pop:
            population = grp["population"].sum(min_count=1).reindex(grid_ids)
            population = population.round().astype("Int64")
        else:
            population = pd.Series(pd.NA, index=grid_ids, dtype="Int64")
        n_buildings = grp["building_id"].nunique().reindex(grid_ids, fill_value=0)
        n_estates = (grp["estate_id"].nunique().reindex(grid_ids, fill_value=0)
                     if "estate_id" in frame else pd.Series(0, index=grid_ids))
        community = pd.Series([str(self._unit_community[upos[ugrid == g][0]]) for g in grid_ids],
                              index=grid_ids)
        info = self._community_info.reindex(community.to_numpy())
        status = np.where(households < self.min_households, "under",
                          np.where(households > self.max_households, "over", "ok"))
        reasons = [self._reason(g, s, int(h)) for g, s, h in zip(grid_ids, status, households)]
        out = gpd.GeoDataFrame(
            {
                "grid_id": pd.array(grid_ids, dtype="str"),
                "community_id": pd.array(community.to_numpy(), dtype="str"),
                "community_name": info["community_name"].to_numpy(),
                "street_id": info["street_id"].to_numpy(),
                "street_name": info["street_name"].to_numpy(),
                "households": households.to_numpy(),
                "population": population.to_numpy(),
                "n_buildings": n_buildings.to_numpy().astype(np.int64),
                "n_estates": n_estates.to_numpy().astype(np.int64),
                "status": pd.array(status, dtype="str"),
                "reason": reasons,
                "area_m2": np.round(area, 1),
                "compactness": np.round(compact, 4),
                "locked": [g in locked for g in grid_ids],
                "barrier_crossing": [len(set(self._unit_zone[upos[ugrid == g]])) > 1
                                     for g in grid_ids],
            },
            geometry=geom.values,
            crs=self.crs,
        )
        out.index = pd.Index(grid_ids, name=None)
        return out

    def _reason(self, grid_id: str, status: str, households: int) -> str | None:
        if status == "ok":
            return None
        kept = self._reasons.get(grid_id)
        if kept:
            return kept
        # the same "<code>: <detail>" form as the partition's reasons (gridplan.i18n reads both)
        if status == "under":
            return f"edited_below_min: {households} households, fewer than {self.min_households}"
        return f"edited_over_max: {households} households, more than {self.max_households}"

    def _replace_community(self, cid: str, new_units: gpd.GeoDataFrame, new_hh_unit: np.ndarray,
                           hmask: np.ndarray, result) -> list[str]:
        """Swap in a re-partitioned community (new units and grids) as one undoable edit.

        Units of the whole plan are re-indexed, so this edit snapshots the unit tables too.
        """
        old_units = self._units
        keep = self._unit_community != cid
        offset = int(keep.sum())
        ug_old = self._state.unit_grid
        old_grids_in = sorted(set(ug_old[~keep]))
        units = pd.concat([old_units[keep],
                           new_units[["unit_id", "community_id", "geometry"]]],
                          ignore_index=True)
        units = gpd.GeoDataFrame(units, geometry="geometry", crs=self.crs)
        remap = np.full(len(old_units), -1, dtype=np.int64)
        remap[np.flatnonzero(keep)] = np.arange(offset)
        hh_unit = np.where(self._hh_unit >= 0, remap[np.maximum(self._hh_unit, 0)], -1)
        hh_unit[hmask] = np.where(new_hh_unit >= 0, new_hh_unit + offset, -1)
        unit_grid = np.concatenate([ug_old[keep],
                                    new_units["grid_id"].astype(str).to_numpy(dtype=object)])
        if len(set(new_units["unit_id"]) & set(old_units.loc[keep, "unit_id"])):
            raise InputError("re-balanced units clash with unit ids of other communities",
                             fix="report this as a bug", message_zh="单元编号冲突")
        before = self._snapshot_tables()
        self._units = units
        self._unit_pos = {u: i for i, u in enumerate(units["unit_id"].tolist())}
        self._hh_unit = hh_unit
        inside = hh_unit >= 0
        self._unit_households = np.bincount(hh_unit[inside], weights=self._hh_weight[inside],
                                            minlength=len(units)).astype(np.int64)
        self._unit_community = units["community_id"].astype(str).to_numpy(dtype=object)
        self._adjacency = _unit_adjacency(units.geometry.values)
        self._unit_zone = _unit_zones(units.geometry.values, self._adjacency,
                                      self._unit_community, self._barrier_lines[0])
        new_ids = sorted(set(unit_grid[offset:]))
        if result.grids is not None and "reason" in result.grids:
            for k, v in zip(result.grids["grid_id"], result.grids["reason"]):
                if isinstance(v, str) and v:
                    self._reasons[str(k)] = v
        label = f"rebalance {cid}"
        old_state = self._state
        rows = self._grid_rows(new_ids, unit_grid, old_state.locked)
        old_rows = old_state.grids.loc[old_grids_in]
        same = rows.index.intersection(old_rows.index)
        unchanged = same[
            (rows.loc[same, "households"].to_numpy() == old_rows.loc[same, "households"].to_numpy())
            & (shapely.area(shapely.symmetric_difference(
                rows.loc[same].geometry.values, old_rows.loc[same].geometry.values)) < 1.0)
        ]
        changed = sorted((set(old_grids_in) | set(new_ids)) - set(unchanged), key=_grid_sort_key)
        grids = _sort_grids(pd.concat([old_state.grids[~old_state.grids.index.isin(old_grids_in)],
                                       rows]))
        micro, stale = self._micro_after(changed, rows.loc[rows.index.isin(changed)], unit_grid)
        after = self._snapshot_tables()
        state = _State(unit_grid, grids, old_state.locked & set(grids.index), micro, label,
                       {"op": "rebalance", "community": cid}, (), stale)
        self._undo.append(_Edit(label, old_state, after=state, tables_before=before,
                                tables_after=after))
        del self._undo[:-PLAN_UNDO_DEPTH]
        self._redo.clear()
        self._set_state(state)
        self._last_warnings = []
        return changed

    def _snapshot_tables(self) -> tuple:
        return (self._units, self._unit_pos, self._hh_unit, self._unit_households,
                self._unit_community, self._adjacency, self._unit_zone)

    def _restore_tables(self, tables: tuple) -> None:
        (self._units, self._unit_pos, self._hh_unit, self._unit_households,
         self._unit_community, self._adjacency, self._unit_zone) = tables


# ---------------------------------------------------------------------- helpers
def _require(gdf, columns, what):
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {', '.join(missing)}", column=missing[0],
                         fix=f"give {what} the columns {', '.join(columns)}",
                         message_zh=f"{what} 缺少列 {', '.join(missing)}")


def _household_weights(hh: pd.DataFrame) -> np.ndarray:
    if "households" not in hh:
        return np.ones(len(hh), dtype=np.int64)
    w = pd.to_numeric(hh["households"], errors="coerce")
    if w.isna().any() or (w < 1).any():
        bad = np.flatnonzero((w.isna() | (w < 1)).to_numpy())
        raise InputError("households must be whole numbers >= 1", column="households",
                         rows=bad.tolist(), fix="correct these rows",
                         message_zh="户数必须是不小于 1 的整数", fix_zh="请修改这些行")
    return w.to_numpy().astype(np.int64)


def _household_units(households: gpd.GeoDataFrame, assignment, units: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``units`` of every household row (-1 when it is in no unit)."""
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


def _unit_adjacency(cells) -> sparse.csr_matrix:
    """Units sharing a boundary of at least UNIT_ADJACENCY_MIN_EDGE_M metres."""
    n = len(cells)
    tree = shapely.STRtree(cells)
    a, b = tree.query(cells, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(cells[a], cells[b]))
    ok = shared >= UNIT_ADJACENCY_MIN_EDGE_M
    a, b = a[ok], b[ok]
    m = sparse.coo_matrix((np.ones(2 * len(a), dtype=np.int8), (np.r_[a, b], np.r_[b, a])),
                          shape=(n, n))
    return m.tocsr()


def _barrier_lines(barriers: gpd.GeoDataFrame | None, crs) -> tuple:
    """Barrier lines in the plan's CRS with their names and kinds (None when there are none)."""
    if barriers is None or len(barriers) == 0:
        return None, np.empty(0, dtype=object), np.empty(0, dtype=object)
    b = barriers.to_crs(crs)
    lines = b.geometry.values
    ok = np.isin(shapely.get_type_id(np.asarray(lines)), [1, 2, 5])
    b = b[ok]

    def col(name):
        if name not in b:
            return np.full(len(b), None, dtype=object)
        return b[name].astype(object).where(b[name].notna(), None).to_numpy(dtype=object)

    return np.asarray(b.geometry.values), col("name"), col("kind")


def _unit_zones(cells, adjacency: sparse.csr_matrix, unit_community: np.ndarray,
                barriers) -> np.ndarray:
    """Per unit, its barrier-free zone: units joined by a shared boundary that is not all along
    a barrier, within one community.

    A grid whose units lie in more than one zone straddles a barrier; this is the partition's
    test (its ``barrier_crossing``), here on the plan's units, so that edits keep the flag.
    """
    n = len(cells)
    coo = sparse.triu(adjacency, k=1).tocoo()
    a, b = coo.row, coo.col
    keep = unit_community[a] == unit_community[b]
    a, b = a[keep], b[keep]
    same = np.ones(len(a), dtype=bool)
    if barriers is not None and len(barriers) and len(a):
        zone = shapely.buffer(barriers, PLAN_BARRIER_SNAP_M)
        shared = shapely.intersection(cells[a], cells[b])
        ei, zi = shapely.STRtree(zone).query(shared, predicate="intersects")
        if len(ei):
            hit = np.unique(ei)
            near = shapely.union_all(zone[np.unique(zi)])
            off = shapely.length(shapely.difference(shared[hit], near))
            same[hit] = off >= UNIT_ADJACENCY_MIN_EDGE_M
    m = sparse.coo_matrix((np.ones(int(same.sum()), dtype=np.int8), (a[same], b[same])),
                          shape=(n, n))
    _, labels = connected_components(m, directed=False)
    return labels


def _bisect(adj: sparse.csr_matrix, weights: np.ndarray, seed: int) -> np.ndarray:
    """Two contiguous parts of a connected unit graph with balanced weights (METIS)."""
    import pymetis

    n = adj.shape[0]
    adj = adj.tocsr()
    adj.sort_indices()
    if n == 2:
        return np.array([0, 1])
    graph = pymetis.CSRAdjacency(adj.indptr.tolist(), adj.indices.tolist())
    vw = np.maximum(weights, 1).astype(int).tolist()
    try:
        _, parts = pymetis.part_graph(2, graph, vweights=vw,
                                      options=pymetis.Options(seed=seed, contiguous=True))
    except Exception:  # METIS refuses contiguity on some graphs; the repair below handles it
        _, parts = pymetis.part_graph(2, graph, vweights=vw, options=pymetis.Options(seed=seed))
    parts = np.asarray(parts)
    # Repair: keep the heaviest component of each part, give stray pieces to the other part.
    for _ in range(n):
        moved = False
        for p in (0, 1):
            idx = np.flatnonzero(parts == p)
            if len(idx) == 0:
                continue
            k, lab = connected_components(adj[idx][:, idx], directed=False)
            if k > 1:
                heavy = np.argmax(np.bincount(lab, weights=weights[idx]))
                parts[idx[lab != heavy]] = 1 - p
                moved = True
        if not moved:
            break
    if (parts == 0).all() or (parts == 1).all():
        parts = np.zeros(n, dtype=int)
        parts[np.argmin(weights)] = 1
    return parts


def _community_info(communities: gpd.GeoDataFrame) -> pd.DataFrame:
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


def _grid_sort_key(grid_id: str):
    head, _, tail = str(grid_id).rpartition("-")
    return (head, int(tail) if tail.isdigit() else math.inf, str(grid_id))


def _sort_grids(grids) -> gpd.GeoDataFrame:
    order = sorted(grids.index, key=_grid_sort_key)
    return grids.loc[order]


def _sorted_ids(hh, col) -> list:
    if col not in hh:
        return []
    vals = hh[col].dropna().unique().tolist()
    return sorted(vals, key=str)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if v is pd.NA:
        return None
    return v


def _jsonable(obj):
    """``obj`` reduced to JSON types (numpy scalars, tuples, NaN -> None)."""
    return json.loads(json.dumps(obj, default=lambda o: _plain(o) if isinstance(o, np.generic)
                                 else str(o)))


def _write(gdf, path: Path, layer: str) -> None:
    gdf = gdf.copy()
    for col in gdf.columns:
        if col != gdf.geometry.name and gdf[col].dtype == object:
            # GeoPackage columns have one type; mixed objects (e.g. None with str) go as text.
            if not gdf[col].map(lambda v: v is None or isinstance(v, (str, bool))).all():
                gdf[col] = gdf[col].map(lambda v: None if v is None or v is pd.NA else str(v))
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG")
