"""Read-only questions asked of a plan: figures, neighbours, what is at a point, coverage, checks.

:class:`PlanQueries` is mixed into :class:`gridplan.plan.model.Plan`; it reads the plan's state
(``_state``), unit tables (``_tables``), household rows and weights, and changes nothing but the
attached coverage result.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.plan.common import grid_sort_key, plain, sorted_ids

__all__ = ["PlanQueries"]


class PlanQueries:
    """Figures, neighbours, look-ups, coverage and checks of a :class:`~gridplan.plan.model.Plan`."""

    @property
    def report(self) -> dict:
        """Figures of the whole plan (JSON-serialisable)."""
        g = self._state.grids
        outside = int(self._hh_weight[self._tables.household_unit < 0].sum())
        return {
            "households": int(self._hh_weight.sum()),
            "households_in_grids": int(g["households"].sum()),
            "households_outside": outside,
            "grids": len(g),
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
        hmask = np.isin(self._tables.household_unit, upos)
        hh = self._households.loc[hmask]
        return {
            "grid": {k: plain(v) for k, v in row.drop(labels="geometry").items()},
            "units": pd.DataFrame(units).reset_index(drop=True),
            "estates": sorted_ids(hh, "estate_id"),
            "buildings": sorted_ids(hh, "building_id"),
            "neighbours": self.neighbours(grid_id),
        }

    def neighbours(self, grid_id: str) -> list[str]:
        """Grid ids adjacent to ``grid_id`` (sharing an edge), sorted."""
        self._check_grid(grid_id)
        ug = self._state.unit_grid
        upos = np.flatnonzero(ug == grid_id)
        t = self._tables
        nb = t.adjacency[upos].indices
        # grids of the next community touch too, but a grid never crosses a community boundary
        nb = nb[t.community[nb] == t.community[upos[0]]]
        return sorted(set(ug[nb]) - {grid_id}, key=grid_sort_key)

    def unit_neighbour_grids(self, unit_id) -> list[str]:
        """Grids (other than its own) that the unit ``unit_id`` touches: where it can move to."""
        return self._touching(self._unit(unit_id), self._tables, self._state.unit_grid)

    def unit_at(self, lon: float, lat: float):
        """The ``unit_id`` whose cell contains the WGS-84 point (None when none does)."""
        pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(self.crs).iloc[0]
        units = self._tables.units
        hits = units.sindex.query(pt, predicate="intersects")
        return None if len(hits) == 0 else units["unit_id"].iloc[int(np.min(hits))]

    def grid_at(self, lon: float, lat: float) -> str | None:
        """The grid id containing the WGS-84 point (None when none does)."""
        uid = self.unit_at(lon, lat)
        return None if uid is None else str(self._state.unit_grid[self._tables.position[uid]])

    # ------------------------------------------------------------------ checks
    def check(self) -> list[str]:
        """Invariant violations (empty when the plan is sound): households conserved, every grid
        contiguous and inside one community, grid figures equal to a full recomputation."""
        problems = []
        ug = self._state.unit_grid
        g = self._state.grids
        in_units = self._hh_weight[self._tables.household_unit >= 0]
        if int(g["households"].sum()) != int(in_units.sum()):
            problems.append("households in grids differ from households in units")
        for gid in g.index:
            upos = np.flatnonzero(ug == gid)
            if len(upos) == 0:
                problems.append(f"grid {gid} has no units")
            elif not self._connected(upos):
                problems.append(f"grid {gid} is not contiguous")
            if len(set(self._tables.community[upos])) > 1:
                problems.append(f"grid {gid} spans communities")
        if set(ug) != set(g.index):
            problems.append("grid table and unit assignment disagree")
        fresh = self._grid_rows(sorted(set(ug)), ug, self._state.locked)
        for col in ("households", "n_buildings", "n_estates", "status", "barrier_crossing"):
            if not fresh[col].equals(g[col]):
                problems.append(f"grid column {col} is stale")
        return problems

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
                f"coverage has {len(result.households)} household rows, the plan {len(self._households)}",
                fix="compute coverage on the plan's households",
                message_zh="覆盖结果与方案的户点行数不一致",
            )
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
        frame = pd.DataFrame(
            {
                "grid_id": a["grid_id"].to_numpy(dtype=object),
                "households": self._hh_weight,
                "households_covered": np.where(covered, self._hh_weight, 0),
            }
        )
        out = (
            frame.dropna(subset=["grid_id"])
            .groupby("grid_id", sort=False)[["households", "households_covered"]]
            .sum()
        )
        g = self._state.grids
        out = out.reindex(g.index, fill_value=0)
        out["community_id"] = g["community_id"].to_numpy()
        out["share_covered"] = (
            out["households_covered"] / out["households"].where(out["households"] > 0)
        ).round(4)
        out.index.name = "grid_id"
        return out.reset_index()[cols]
