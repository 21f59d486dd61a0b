"""The rules of the edits a planner makes by hand (move a unit, split, merge) and what an edit
would do before it is made.

Each edit is worked out once, as a :class:`Change` (the unit-to-grid map after it and the grids
it touches), by the methods of :class:`PlanEdits` that also hold every check that can refuse it.
:class:`~gridplan.plan.model.Plan` makes a change (``move_unit``, ``split_grid``,
``merge_grids``); the previews (:meth:`PlanEdits.preview_move`, :meth:`PlanEdits.move_targets`,
...) count the households it would leave in each grid. So what the app offers and shows before
an edit is what the edit then does.

:class:`PlanEdits` is mixed into :class:`~gridplan.plan.model.Plan`; it reads the plan's state
(``_state``), unit tables (``_tables``), band and history, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from gridplan.errors import InputError
from gridplan.grids.figures import band_status
from gridplan.plan.common import grid_sort_key, plain
from gridplan.plan.rebalance import bisect
from gridplan.plan.units import UnitTables

__all__ = ["Change", "EditPreview", "GridCount", "PlanEdits"]


@dataclass(frozen=True)
class Change:
    """An edit worked out on the unit-to-grid map, not made yet.

    Attributes
    ----------
    label : str
        The history label (``move <unit> <from>-><to>``, ...).
    unit_grid : ndarray of str
        The grid of every unit after the edit.
    changed : tuple of str
        The grids the edit touches (a removed or new grid included).
    action : dict
        The edit as :attr:`~gridplan.plan.model.Plan.edits` records it.
    tables : UnitTables or None
        The unit tables after the edit, for an edit that makes a unit (a building cut out of
        its estate part); None when the units stay as they are.
    """

    label: str
    unit_grid: np.ndarray
    changed: tuple[str, ...]
    action: dict
    tables: UnitTables | None = None


@dataclass(frozen=True)
class GridCount:
    """Households of one grid before and after an edit.

    Attributes
    ----------
    grid_id : str
    before : int or None
        Households now; None for the grid the edit makes (a split's new grid).
    after : int or None
        Households after the edit; None for the grid the edit removes (merged into another).
    outside : bool
        The edit leaves this grid outside the plan's household band.
    """

    grid_id: str
    before: int | None
    after: int | None
    outside: bool


@dataclass(frozen=True)
class EditPreview:
    """What an edit would leave in the grids it touches, in grid code order.

    Attributes
    ----------
    grids : tuple of GridCount
    """

    grids: tuple[GridCount, ...]

    @property
    def outside(self) -> tuple[GridCount, ...]:
        """The grids the edit leaves outside the household band."""
        return tuple(g for g in self.grids if g.outside)


class PlanEdits:
    """The checks and outcomes of move, split and merge on a :class:`~gridplan.plan.model.Plan`."""

    # ------------------------------------------------------------------ previews
    def preview_move(self, unit_id, to_grid: str) -> EditPreview:
        """The households the two grids would have after :meth:`~Plan.move_unit`.

        Parameters
        ----------
        unit_id
            A value of ``units.unit_id``.
        to_grid : str

        Returns
        -------
        EditPreview

        Raises
        ------
        InputError
            When ``move_unit`` would refuse the move (the same checks, the same message).
        """
        return self._preview(self._move_change(unit_id, to_grid))

    def preview_split(self, grid_id: str) -> EditPreview:
        """The households the two grids would have after :meth:`~Plan.split_grid` (the same
        bisection, so the same figures).

        Raises
        ------
        InputError
            When ``split_grid`` would refuse it.
        """
        return self._preview(self._split_change(grid_id))

    def preview_merge(self, a: str, b: str) -> EditPreview:
        """The households the merged grid would have after :meth:`~Plan.merge_grids`.

        Raises
        ------
        InputError
            When ``merge_grids`` would refuse it.
        """
        return self._preview(self._merge_change(a, b))

    def move_targets(self, unit_id) -> dict[str, EditPreview]:
        """The grids ``move_unit(unit_id, grid)`` accepts, each with what the move would leave.

        A grid the unit touches is left out when the move would be refused (a locked grid, or
        the unit's own grid left empty or in pieces); grids it does not touch always are.

        Parameters
        ----------
        unit_id
            A value of ``units.unit_id``.

        Returns
        -------
        dict
            Target grid id -> :class:`EditPreview`, in grid code order; empty when no move of
            the unit is accepted.
        """
        return self._accepted(self.unit_neighbour_grids(unit_id), lambda g: self._move_change(unit_id, g))

    def merge_targets(self, grid_id: str) -> dict[str, EditPreview]:
        """The grids ``merge_grids(grid_id, other)`` accepts, each with what the merge would leave.

        Returns
        -------
        dict
            Other grid id -> :class:`EditPreview`, in grid code order.
        """
        return self._accepted(self.neighbours(grid_id), lambda g: self._merge_change(grid_id, g))

    def _accepted(self, candidates: Sequence[str], change) -> dict[str, EditPreview]:
        out = {}
        for other in candidates:
            try:
                out[other] = self._preview(change(other))
            except InputError:
                continue
        return out

    def _preview(self, change: Change) -> EditPreview:
        now = self._state.grids["households"]
        per_unit = (change.tables or self._tables).households
        counts = []
        for g in change.changed:
            members = change.unit_grid == g
            after = int(per_unit[members].sum()) if members.any() else None
            counts.append(
                GridCount(
                    g,
                    int(now.at[g]) if g in now.index else None,
                    after,
                    after is not None
                    and band_status([after], self.min_households, self.max_households)[0] != "ok",
                )
            )
        return EditPreview(tuple(counts))

    # ------------------------------------------------------------------ the edits' rules
    def _move_change(self, unit_id, to_grid: str) -> Change:
        """Move one unit to a neighbouring grid (see :meth:`~Plan.move_unit`)."""
        pos = self._unit(unit_id)
        self._check_grid(to_grid)
        src = str(self._state.unit_grid[pos])
        new = self._move_rule(unit_id, pos, to_grid, self._tables, self._state.unit_grid)
        action = {"op": "move", "unit": plain(unit_id), "from": src, "to": to_grid}
        return Change(f"move {unit_id} {src}->{to_grid}", new, self._ordered(src, to_grid), action)

    def _move_rule(self, unit_id, pos: int, to_grid: str, tables: UnitTables, ug: np.ndarray) -> np.ndarray:
        """The unit-to-grid map after the unit at ``pos`` of ``tables`` moves to ``to_grid``, or
        the refusal: the one rule of a move, for a unit and for a building cut out of one."""
        src = str(ug[pos])
        if src == to_grid:
            raise InputError(
                f"unit {unit_id} is already in grid {to_grid}",
                fix="choose another target grid",
                message_zh=f"单元 {unit_id} 已在网格 {to_grid} 中",
                fix_zh="请选择其他目标网格",
            )
        self._check_unlocked(src, to_grid)
        if tables.community[pos] != self._grid_community(to_grid):
            raise InputError(
                f"grid {to_grid} is in another community than unit {unit_id}",
                fix="a grid never crosses a community boundary; choose a grid of the same community",
                message_zh=f"网格 {to_grid} 与单元 {unit_id} 不在同一社区",
                fix_zh="网格不能跨社区，请选择同一社区内的网格",
            )
        touching = self._touching(pos, tables, ug)
        if to_grid not in touching:
            raise InputError(
                f"unit {unit_id} does not touch grid {to_grid}; the grid would fall apart",
                fix=f"move it to a neighbouring grid: {', '.join(touching)}",
                message_zh=f"单元 {unit_id} 与网格 {to_grid} 不相邻，移动后网格将不连续",
                fix_zh=f"请移到相邻网格：{'、'.join(touching)}",
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
        if not self._connected(rest, tables):
            raise InputError(
                f"moving unit {unit_id} would cut grid {src} into pieces",
                fix="move a unit on the edge of the grid, or split the grid first",
                message_zh=f"移走单元 {unit_id} 会使网格 {src} 断成几块，不再连续",
                fix_zh="请移动网格边缘的单元，或先拆分网格",
            )
        new = ug.copy()
        new[pos] = to_grid
        return new

    def _split_change(self, grid_id: str) -> Change:
        """Bisect a grid (see :meth:`~Plan.split_grid`)."""
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
        w = self._tables.households[upos]
        parts = bisect(self._tables.adjacency[upos][:, upos], w, self.seed)
        keep_part = 0 if w[parts == 0].sum() >= w[parts == 1].sum() else 1
        new_id = self._next_grid_id(self._grid_community(grid_id))
        new = ug.copy()
        new[upos[parts != keep_part]] = new_id
        action = {"op": "split", "grid": grid_id, "new": new_id}
        return Change(f"split {grid_id}->{new_id}", new, self._ordered(grid_id, new_id), action)

    def _merge_change(self, a: str, b: str) -> Change:
        """Merge two adjacent grids of one community (see :meth:`~Plan.merge_grids`)."""
        self._check_grid(a)
        self._check_grid(b)
        if a == b:
            raise InputError(
                f"cannot merge grid {a} with itself",
                fix="choose two different grids",
                message_zh=f"不能将网格 {a} 与自身合并",
                fix_zh="请选择两个不同的网格",
            )
        self._check_unlocked(a, b)
        if self._grid_community(a) != self._grid_community(b):
            raise InputError(
                f"grids {a} and {b} are in different communities",
                fix="a grid never crosses a community boundary; merge grids of one community",
                message_zh=f"网格 {a} 与 {b} 不在同一社区",
                fix_zh="网格不能跨社区，只能合并同一社区的网格",
            )
        if b not in self.neighbours(a):
            raise InputError(
                f"grids {a} and {b} do not touch; the merged grid would be in pieces",
                fix="merge neighbouring grids only",
                message_zh=f"网格 {a} 与 {b} 不相邻，合并后不连续",
                fix_zh="只能合并相邻的网格",
            )
        keep, gone = self._ordered(a, b)
        ug = self._state.unit_grid
        new = ug.copy()
        new[ug == gone] = keep
        return Change(f"merge {gone}->{keep}", new, (keep, gone), {"op": "merge", "keep": keep, "gone": gone})

    # ------------------------------------------------------------------ checks and look-ups
    @staticmethod
    def _ordered(*grid_ids: str) -> tuple[str, ...]:
        return tuple(sorted(set(grid_ids), key=grid_sort_key))

    def _unit(self, unit_id) -> int:
        pos = self._tables.position.get(unit_id)
        if pos is None and isinstance(unit_id, str) and unit_id.lstrip("-").isdigit():
            pos = self._tables.position.get(int(unit_id))
        if pos is None:
            pos = self._tables.position.get(str(unit_id))
        if pos is None:
            raise InputError(
                f"unknown unit {unit_id}",
                fix="pick a unit on the map",
                message_zh=f"没有单元 {unit_id}",
                fix_zh="请在地图上选择单元",
            )
        return pos

    def _check_grid(self, grid_id: str) -> None:
        if grid_id not in self._state.grids.index:
            raise InputError(
                f"unknown grid {grid_id}",
                fix="pick a grid on the map or in the table",
                message_zh=f"没有网格 {grid_id}",
                fix_zh="请在地图或表格中选择网格",
            )

    def _check_unlocked(self, *grid_ids: str) -> None:
        locked = [g for g in grid_ids if g in self._state.locked]
        if locked:
            ids = ", ".join(locked)
            raise InputError(
                f"grid {ids} is locked",
                fix="unlock it first",
                message_zh=f"网格 {ids} 已锁定",
                fix_zh="请先解锁",
            )

    def _grid_community(self, grid_id: str) -> str:
        return str(self._state.grids.at[grid_id, "community_id"])

    def _connected(self, upos: np.ndarray, tables: UnitTables | None = None) -> bool:
        if len(upos) <= 1:
            return True
        adjacency = (tables or self._tables).adjacency
        n, _ = connected_components(adjacency[upos][:, upos], directed=False)
        return n == 1

    @staticmethod
    def _touching(pos: int, tables: UnitTables, ug: np.ndarray) -> list[str]:
        """Grids other than its own that the unit at ``pos`` shares a boundary with, within its
        community (a grid never crosses a community boundary)."""
        nb = tables.adjacency[pos].indices
        nb = nb[tables.community[nb] == tables.community[pos]]
        return sorted(set(ug[nb]) - {ug[pos]}, key=grid_sort_key)

    def _next_grid_id(self, community_id: str) -> str:
        prefix = f"{community_id}-"
        nums = [
            int(g[len(prefix) :])
            for g in self._state.grids.index
            if g.startswith(prefix) and g[len(prefix) :].isdigit()
        ]
        # Codes stay stable for years: a new grid takes a number never used in this plan's
        # history rather than filling a gap left by a merge.
        for st in self._history.states():
            nums += [
                int(g[len(prefix) :])
                for g in st.grids.index
                if g.startswith(prefix) and g[len(prefix) :].isdigit()
            ]
        return f"{prefix}{max(nums, default=0) + 1:02d}"
