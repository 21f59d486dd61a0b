"""Edits that run the partition again: re-balancing a community, micro-grids, bisecting a grid.

:class:`PlanRepartition` is mixed into :class:`gridplan.plan.model.Plan`; :func:`bisect` is the
METIS split behind :meth:`~gridplan.plan.model.Plan.split_grid`.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.errors import InputError
from gridplan.plan.common import grid_sort_key, sort_grids
from gridplan.plan.history import Edit, State
from gridplan.plan.units import UnitTables, household_units

__all__ = ["PlanRepartition", "bisect"]

#: Context layers the partition takes.
_PARTITION_CONTEXT = ("buildings", "estates", "barriers")


class PlanRepartition:
    """Re-balancing and micro-grids of a :class:`~gridplan.plan.model.Plan`, by the partition."""

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

        community_id = self._rebalance_community(community_id)
        comm = self._communities[self._communities["community_id"].astype(str) == community_id]
        upos = np.flatnonzero(self._tables.community == community_id)
        hmask = np.isin(self._tables.household_unit, upos)
        hh = self._households.loc[hmask]
        g = self.grids
        in_comm = g["community_id"].astype(str) == community_id
        keep = g[in_comm & g["grid_id"].isin(self._state.locked)]
        result = partition(
            hh,
            comm,
            **self._partition_context(),
            min_households=self.min_households,
            max_households=self.max_households,
            keep=keep if len(keep) else None,
            replan=g[in_comm],
            seed=self.seed,
            n_jobs=n_jobs,
        )
        new_units = result.units.reset_index(drop=True).to_crs(self.crs)
        new_hh_unit = household_units(hh, result.assignment, new_units)
        return self._replace_community(community_id, new_units, new_hh_unit, hmask, result)

    def _rebalance_community(self, community_id: str | None) -> str:
        """The community to re-balance: the one given, or the plan's only one."""
        cids = sorted(set(self._tables.community))
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
            raise InputError(
                f"unknown community {community_id}",
                fix=f"use one of {', '.join(cids)}",
                message_zh=f"没有社区 {community_id}",
            )
        return community_id

    def _partition_context(self) -> dict:
        return {k: self.context[k] for k in _PARTITION_CONTEXT if self.context.get(k) is not None}

    def _replace_community(
        self, cid: str, new_units: gpd.GeoDataFrame, new_hh_unit: np.ndarray, hmask: np.ndarray, result
    ) -> list[str]:
        """Swap in a re-partitioned community (new units and grids) as one undoable edit.

        Units of the whole plan are re-indexed, so this edit keeps the unit tables too.
        """
        before = self._tables
        in_cid = before.community == cid
        old_grids_in = sorted(set(self._state.unit_grid[in_cid]))
        tables, unit_grid, offset = self._merged_tables(cid, new_units, new_hh_unit, hmask)
        self._tables = tables
        new_ids = sorted(set(unit_grid[offset:]))
        if result.grids is not None and "reason" in result.grids:
            for k, v in zip(result.grids["grid_id"], result.grids["reason"]):
                if isinstance(v, str) and v:
                    self._reasons[str(k)] = v
        label = f"rebalance {cid}"
        old_state = self._state
        rows = self._grid_rows(new_ids, unit_grid, old_state.locked)
        changed = _redrawn(old_state.grids.loc[old_grids_in], rows, old_grids_in, new_ids)
        grids = sort_grids(pd.concat([old_state.grids[~old_state.grids.index.isin(old_grids_in)], rows]))
        micro, stale = self._micro_after(changed, rows.loc[rows.index.isin(changed)], unit_grid)
        state = State(
            unit_grid,
            grids,
            old_state.locked & set(grids.index),
            micro,
            label,
            {"op": "rebalance", "community": cid},
            (),
            stale,
        )
        self._history.record(Edit(label, old_state, after=state, tables_before=before, tables_after=tables))
        self._set_state(state)
        self._last_warnings = []
        return changed

    def _merged_tables(
        self, cid: str, new_units: gpd.GeoDataFrame, new_hh_unit: np.ndarray, hmask: np.ndarray
    ) -> tuple[UnitTables, np.ndarray, int]:
        """Unit tables with the units of ``cid`` replaced by ``new_units`` (appended last).

        Returns the tables, the grid of every unit and the row of the first new unit.
        """
        old = self._tables
        keep = old.community != cid
        offset = int(keep.sum())
        if len(set(new_units["unit_id"]) & set(old.units.loc[keep, "unit_id"])):
            raise InputError(
                "re-balanced units clash with unit ids of other communities",
                fix="report this as a bug",
                message_zh="单元编号冲突",
            )
        units = pd.concat(
            [old.units[keep], new_units[["unit_id", "community_id", "geometry"]]], ignore_index=True
        )
        units = gpd.GeoDataFrame(units, geometry="geometry", crs=self.crs)
        remap = np.full(len(old.units), -1, dtype=np.int64)
        remap[np.flatnonzero(keep)] = np.arange(offset)
        hh_unit = np.where(old.household_unit >= 0, remap[np.maximum(old.household_unit, 0)], -1)
        hh_unit[hmask] = np.where(new_hh_unit >= 0, new_hh_unit + offset, -1)
        unit_grid = np.concatenate(
            [self._state.unit_grid[keep], new_units["grid_id"].astype(str).to_numpy(dtype=object)]
        )
        tables = UnitTables.build(units, hh_unit, self._hh_weight, self._barrier_lines[0])
        return tables, unit_grid, offset

    # ------------------------------------------------------------------ micro-grids
    def _micro_after(
        self, changed: Sequence[str], rows: gpd.GeoDataFrame, unit_grid: np.ndarray
    ) -> tuple[gpd.GeoDataFrame | None, frozenset]:
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
        hmask = np.isin(self._tables.household_unit, upos)
        total = int(self._hh_weight[hmask].sum())
        if total == 0:
            return None
        hh = self._households.loc[hmask].drop(columns=["community_id"], errors="ignore")
        comm = gpd.GeoDataFrame(
            {"community_id": [str(grid_id)], "name": [str(grid_id)]}, geometry=[polygon], crs=self.crs
        )
        res = partition(
            hh,
            comm,
            **self._partition_context(),
            min_households=total,
            max_households=total,
            micro_max=self.micro_max,
            seed=self.seed,
            n_jobs=1,
        )
        micro = res.micro_grids
        if micro is None or len(micro) == 0:
            return None
        # the partition names its one grid <grid_id>-01 and the micro-grids <grid_id>-01-<MM>
        inner = f"{grid_id}-01-"
        micro = micro.copy()
        micro["micro_grid_id"] = [
            f"{grid_id}-{m[len(inner) :]}" if str(m).startswith(inner) else str(m)
            for m in micro["micro_grid_id"]
        ]
        micro["grid_id"] = str(grid_id)
        return micro


def _redrawn(
    old_rows: gpd.GeoDataFrame, rows: gpd.GeoDataFrame, old_ids: Sequence[str], new_ids: Sequence[str]
) -> list[str]:
    """Grids a re-balance removed, added or redrew (a grid with the same code, households and
    polygon, to within 1 m², is unchanged)."""
    same = rows.index.intersection(old_rows.index)
    unchanged = same[
        (rows.loc[same, "households"].to_numpy() == old_rows.loc[same, "households"].to_numpy())
        & (
            shapely.area(
                shapely.symmetric_difference(
                    rows.loc[same].geometry.values, old_rows.loc[same].geometry.values
                )
            )
            < 1.0
        )
    ]
    return sorted((set(old_ids) | set(new_ids)) - set(unchanged), key=grid_sort_key)


def bisect(adj: sparse.csr_matrix, weights: np.ndarray, seed: int) -> np.ndarray:
    """Two contiguous parts of a unit graph with balanced weights (METIS).

    Parameters
    ----------
    adj : csr_matrix
        Adjacency of the grid's units.
    weights : array of int
        Households per unit (the vertex weights).
    seed : int
        METIS seed.

    Returns
    -------
    ndarray of int
        Part (0 or 1) of every unit; both parts are non-empty and contiguous when the graph is
        connected.
    """
    import pymetis

    n = adj.shape[0]
    adj = adj.tocsr()
    adj.sort_indices()
    if n == 2:
        return np.array([0, 1])
    graph = pymetis.CSRAdjacency(adj.indptr.tolist(), adj.indices.tolist())
    vw = np.maximum(weights, 1).astype(int).tolist()
    connected = connected_components(adj, directed=False)[0] == 1
    if connected:
        # Only METIS's k-way routine honours ``contig``: the recursive bisection that pymetis
        # picks for two parts ignores it, so ask for k-way explicitly.
        _, parts = pymetis.part_graph(
            2, graph, vweights=vw, recursive=False, options=pymetis.Options(seed=seed, contig=True)
        )
    else:
        # A grid loaded from a file may be in pieces; METIS aborts on ``contig`` for a
        # disconnected graph ("a contiguous partition is requested for a non-contiguous input
        # graph", a bare RuntimeError from pymetis), so ask without it and repair below.
        _, parts = pymetis.part_graph(2, graph, vweights=vw, options=pymetis.Options(seed=seed))
    return _repair(np.asarray(parts), adj, weights)


def _repair(parts: np.ndarray, adj: sparse.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """Keep the heaviest component of each part, giving stray pieces to the other part; never
    leave a part empty."""
    n = len(parts)
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
