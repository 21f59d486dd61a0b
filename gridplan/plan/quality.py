"""How well a plan's grid lines follow the city, for its current state (after every edit): the
figures the partition reports (:mod:`gridplan.grids.quality_report`), measured again on the
grids the planner has now.

:class:`PlanQuality` is mixed into :class:`gridplan.plan.model.Plan`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridplan.geometry.quality import enclosed_grids
from gridplan.grids.quality_report import partition_quality

__all__ = ["PlanQuality"]


class PlanQuality:
    """The geometry figures of a :class:`~gridplan.plan.model.Plan`."""

    def geometry_figures(self, streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None) -> dict:
        """``buildings_cut``, ``estates_cut``, ``boundary_on_features`` and ``grids_enclosed`` of
        the grids as they are now, against the plan's ``buildings``, ``estates`` and
        ``barriers`` context and the given street lines.

        Parameters
        ----------
        streets : GeoDataFrame or GeoSeries, optional
            The street lines grid lines may follow (the walking network's edges); without them
            only walls, outlines and barriers count as features.

        Returns
        -------
        dict
            As the partition's report (``None`` for a figure the layers cannot give); the ids
            (first ten) under ``buildings_cut_ids``, ``estates_cut_ids``,
            ``grids_enclosed_ids``. Computed once per plan state and street layer.
        """
        key = (self.version, id(streets))
        memo = getattr(self, "_quality_memo", None)
        if memo is not None and memo[0] == key:
            return dict(memo[1])
        grids = self.grids_metric.reset_index()
        comm = self.communities.to_crs(self.crs)
        asg = self.assignment
        estate = asg["estate_id"].to_numpy(object) if "estate_id" in asg.columns else None
        grid_of = asg["grid_id"].to_numpy(object)
        if isinstance(streets, gpd.GeoSeries):
            streets = gpd.GeoDataFrame(geometry=streets)
        total, _ = partition_quality(
            grids[["grid_id", "community_id", "geometry"]],
            comm,
            self.crs,
            buildings=self.context.get("buildings"),
            estates=self.context.get("estates"),
            streets=streets,
            barriers=self.context.get("barriers"),
            estate=estate,
            grid_of=grid_of,
            split=_split_buildings(asg),
        )
        enclosed = enclosed_grids(grids.geometry.values)
        total["grids_enclosed"] = int(enclosed.sum())
        total["grids_enclosed_ids"] = sorted(grids["grid_id"].astype(str)[enclosed])[:10]
        self._quality_memo = (key, total)
        return dict(total)


def _split_buildings(asg: pd.DataFrame) -> list[str]:
    """Buildings whose households are in more than one grid: split by entrance on purpose (an
    edit moves a building whole), never counted as cut."""
    if "building_id" not in asg.columns:
        return []
    rows = asg.dropna(subset=["building_id", "grid_id"])
    n = rows.groupby(rows["building_id"].astype(str))["grid_id"].nunique()
    return n.index[n.to_numpy() > 1].tolist()
