"""How well a plan's grid lines follow the city, for its current state (after every edit): the
figures the partition reports (:mod:`gridplan.grids.quality_report`), measured again on the
grids the planner has now.

:class:`PlanQuality` is mixed into :class:`gridplan.plan.model.Plan`.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import shapely

from gridplan.geometry.quality import enclosed_grids
from gridplan.grids.quality_report import QualityLayers, partition_quality, quality_layers

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
        asg = self.assignment
        estate = asg["estate_id"].to_numpy(object) if "estate_id" in asg.columns else None
        total, _ = partition_quality(
            grids[["grid_id", "community_id", "geometry"]],
            self._quality_communities(),
            self.crs,
            estate=estate,
            grid_of=asg["grid_id"].to_numpy(object),
            split=_split_buildings(asg),
            prepared=self._quality_layers(streets),
            mapper=self._remembered,
        )
        enclosed = enclosed_grids(grids.geometry.values)
        total["grids_enclosed"] = int(enclosed.sum())
        total["grids_enclosed_ids"] = sorted(grids["grid_id"].astype(str)[enclosed])[:10]
        self._quality_memo = (key, total)
        return dict(total)

    def _quality_communities(self) -> gpd.GeoDataFrame:
        memo = getattr(self, "_quality_comm", None)
        if memo is None or memo[0] is not self.communities:
            memo = self._quality_comm = (self.communities, self.communities.to_crs(self.crs))
        return memo[1]

    def _quality_layers(self, streets) -> QualityLayers:
        """The features near each community, gathered once per street layer: edits change the
        grids, never the features."""
        memo = getattr(self, "_quality_prep", None)
        if memo is not None and memo[0] is streets:
            return memo[1]
        lines = gpd.GeoDataFrame(geometry=streets) if isinstance(streets, gpd.GeoSeries) else streets
        prep = quality_layers(
            self._quality_communities(),
            self.crs,
            buildings=self.context.get("buildings"),
            estates=self.context.get("estates"),
            streets=lines,
            barriers=self.context.get("barriers"),
        )
        self._quality_prep = (streets, prep)
        self._quality_done = {}  # figures measured against other layers
        return prep

    def _remembered(self, fn: Callable[[dict], dict], tasks: list[dict]) -> list[dict]:
        """``fn`` over the communities' tasks, again only for a community whose grids (or
        whose estates' grids) changed: an edit touches one community, the figures of the
        others are those already measured."""
        done: dict = getattr(self, "_quality_done", None) or {}
        if len(done) > _REMEMBERED:
            done.clear()
        out = []
        for task in tasks:
            key = _task_key(task)
            if key not in done:
                done[key] = fn(task)
            out.append(done[key])
        self._quality_done = done
        return out


#: Community figures kept per plan (each a few hundred bytes), for the states of undo and redo.
_REMEMBERED = 5000


def _task_key(task: dict) -> tuple:
    """What a community's figures depend on besides the features: its grids and their polygons,
    the grids holding its estates, and the buildings split on purpose."""
    g = task["grids"]
    held = task["estate_grids"]
    return (
        str(task["community"]["community_id"].iloc[0]),
        tuple(g["grid_id"].astype(str)),
        tuple(shapely.to_wkb(g.geometry.values)),
        None
        if held is None
        else tuple(sorted((str(e), tuple(sorted(map(str, v)))) for e, v in held.items())),
        tuple(task["split"]),
        task["n_split"],
    )


def _split_buildings(asg: pd.DataFrame) -> list[str]:
    """Buildings whose households are in more than one grid: split by entrance on purpose (an
    edit moves a building whole), never counted as cut."""
    if "building_id" not in asg.columns:
        return []
    rows = asg.dropna(subset=["building_id", "grid_id"])
    n = rows.groupby(rows["building_id"].astype(str))["grid_id"].nunique()
    return n.index[n.to_numpy() > 1].tolist()
