"""Undo and redo of plan edits: whole states on two stacks.

An edit never changes a state in place: it builds a new :class:`State` (sharing the arrays it did
not change) and pushes the old one on the undo stack, so that undo and redo only swap states.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np

from gridplan.norms import PLAN_UNDO_DEPTH
from gridplan.plan.units import UnitTables

__all__ = ["Edit", "History", "State"]

#: Serial numbers of plan states: a state's number identifies its content (undo brings an old
#: state back with its old number), so the app can cache exports by it.
_SERIAL = itertools.count(1)


@dataclass
class State:
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
class Edit:
    """One undoable edit: the state before it and, once made or taken back, the state after."""

    label: str
    before: State
    after: State | None = None
    #: Unit tables before/after, only for edits that replace units (re-balancing).
    tables_before: UnitTables | None = None
    tables_after: UnitTables | None = None


class History:
    """The undo and redo stacks of a plan (at most ``depth`` edits are kept for undo).

    Parameters
    ----------
    depth : int
        Edits kept for undo; older ones are forgotten.
    """

    def __init__(self, depth: int = PLAN_UNDO_DEPTH) -> None:
        self.depth = int(depth)
        self.undo: list[Edit] = []
        self.redo: list[Edit] = []

    def record(self, edit: Edit) -> None:
        """Push a new edit: it can be undone, and nothing taken back can be redone any more."""
        self.undo.append(edit)
        del self.undo[: -self.depth]
        self.redo.clear()

    def take_back(self, current: State) -> Edit | None:
        """Pop the last edit for undo, noting ``current`` as its after-state (None: no edit)."""
        if not self.undo:
            return None
        edit = self.undo.pop()
        edit.after = current
        self.redo.append(edit)
        return edit

    def bring_back(self) -> tuple[Edit, State] | None:
        """Pop the last edit taken back, for redo, with the state it brings back (None when
        there is none)."""
        if not self.redo:
            return None
        edit = self.redo.pop()
        self.undo.append(edit)
        assert edit.after is not None  # set by take_back, the only way onto the redo stack
        return edit, edit.after

    def states(self) -> list[State]:
        """Every state undo or redo can bring back (for grid codes never to be reused)."""
        return [e.before for e in self.undo] + [e.after for e in self.redo if e.after]

    @property
    def labels(self) -> list[str]:
        """Labels of the edits undo can take back, oldest first."""
        return [e.label for e in self.undo]

    @property
    def actions(self) -> list[dict]:
        """The edits undo can take back, oldest first, as dicts (``op`` and its arguments)."""
        return [
            dict(e.after.action)
            if e.after is not None and e.after.action
            else {"op": "edit", "label": e.label}
            for e in self.undo
        ]
