"""The covering instance from GeoDataFrames: the run's options, who counts, the candidates.

Everything :func:`gridplan.siting.api.site` needs before the solvers: the walk (from the
arguments, else the norms), the existing facilities and the households they already cover, the
eligible households ("中心+站点": only grids no centre covers), and the candidate sites.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.errors import GridplanWarning, InputError, format_rows
from gridplan.io.checks import facility_frame
from gridplan.io.join import polygon_ids
from gridplan.norms import CENTRE_KINDS, FACILITY_KINDS, Norms
from gridplan.siting.candidates import candidate_area, candidate_sites
from gridplan.siting.matrix import covered_within

__all__ = [
    "SITE_KINDS",
    "Demand",
    "build_candidates",
    "build_demand",
    "check_goal",
    "existing_facilities",
    "polygon_key",
    "walk_circle",
]

SITE_KINDS = ("community_centre", "station", "street_centre")


@dataclass
class Demand:
    """The households of a run: who counts, who is covered already, who is still to reach.

    Attributes
    ----------
    hh_snap : DataFrame
        The households snapped to the network (``off_network``, ...).
    hh_metric : GeoSeries
        Household points in the network's CRS.
    base_fac : GeoDataFrame
        Existing facilities of the kinds that count; ``fac_snap`` their snapping (None: none).
    covered_before : ndarray of bool
        Within reach of an existing facility (all False for ``demand="all"``).
    eligible : ndarray of bool
        The households the shares count over.
    is_demand : ndarray of bool
        Eligible, on the network and (unless capacitated) not covered yet.
    grid_id : ndarray or None
        Each household's grid.
    station_grids : list or None
        Grids no centre covers (station runs with grids).
    """

    hh_snap: pd.DataFrame
    hh_metric: gpd.GeoSeries
    base_fac: gpd.GeoDataFrame
    fac_snap: pd.DataFrame | None
    covered_before: np.ndarray
    eligible: np.ndarray
    is_demand: np.ndarray
    grid_id: np.ndarray | None
    station_grids: list | None

    @property
    def off(self) -> np.ndarray:
        """Households farther than the snapping distance from every walkway."""
        return self.hh_snap["off_network"].to_numpy()

    @property
    def rows(self) -> np.ndarray:
        """Positions of the demand households."""
        return np.flatnonzero(self.is_demand)


def build_demand(
    net, households, weights, fac, grids, kind, cutoff, centre_cutoff, max_snap_m, demand, capacity
) -> Demand:
    """Snap the households, measure the existing coverage, choose the eligible households.

    Parameters
    ----------
    net : WalkNetwork
    households : GeoDataFrame
    weights : ndarray of int
        Households per row.
    fac : GeoDataFrame
        Every existing facility.
    grids : GeoDataFrame, optional
    kind : str
        What is sited: stations count every facility as existing, centres only centres.
    cutoff, centre_cutoff : float
        Walking distance of the run's circle and of a centre's (station grids).
    max_snap_m : float
    demand : {"uncovered", "all"}
        ``all`` ignores the existing coverage (unless ``capacity``).
    capacity : bool
        Capacitated run: covered households stay in the demand (capacities may not serve them).

    Returns
    -------
    Demand
    """
    base_fac = fac[fac["kind"].isin(FACILITY_KINDS if kind == "station" else CENTRE_KINDS)]
    base_fac = base_fac.reset_index(drop=True)
    hh_snap = net.snap(households, max_snap_m=max_snap_m)
    fac_snap = net.snap(base_fac, max_snap_m=max_snap_m) if len(base_fac) else None
    measure = demand == "uncovered" or capacity
    covered = covered_within(net, fac_snap, hh_snap, cutoff) if measure else np.zeros(len(households), bool)
    hh_metric = households.geometry.to_crs(net.crs)
    grid_id = polygon_key(households, grids, hh_metric, "grid_id")
    stations = kind == "station" and grids is not None
    eligible, station_grids = _eligible(
        stations, net, fac, hh_snap, grid_id, weights, centre_cutoff, max_snap_m
    )
    off = hh_snap["off_network"].to_numpy()
    is_demand = eligible & ~off & ~(covered if not capacity else np.zeros_like(off))
    return Demand(
        hh_snap, hh_metric, base_fac, fac_snap, covered, eligible, is_demand, grid_id, station_grids
    )


def check_goal(add, target_share, kind, demand, capacity, seed) -> None:
    """Refuse a goal that is not exactly one of ``add``/``target_share``, or bad options."""
    if (add is None) == (target_share is None):
        raise InputError(
            "give exactly one of --add K or --target-share SHARE",
            fix="e.g. --add 3 (best 3 new sites) or --target-share 0.95",
            message_zh="请只指定 --add 或 --target-share 其中之一",
        )
    if add is not None and (int(add) != add or add < 1):
        raise InputError(
            f"--add must be a whole number >= 1, not {add}",
            fix="e.g. --add 3",
            message_zh="--add 必须是不小于 1 的整数",
        )
    if target_share is not None and not 0 < target_share <= 1:
        raise InputError(
            f"--target-share must be in (0, 1], not {target_share}",
            fix="e.g. --target-share 0.95",
            message_zh="--target-share 必须在 0 到 1 之间",
        )
    if kind not in SITE_KINDS:
        raise InputError(
            f"kind must be one of {', '.join(SITE_KINDS)}",
            fix="e.g. --kind community_centre",
            message_zh="选址类型不正确",
        )
    if demand not in ("uncovered", "all"):
        raise InputError(
            "demand must be 'uncovered' or 'all'",
            fix="e.g. --demand uncovered",
            message_zh="需求必须是 uncovered 或 all",
        )
    if capacity and add is None:
        raise InputError(
            "--capacity works with --add only",
            fix="use --add K with --capacity, or drop --capacity",
            message_zh="--capacity 只能与 --add 同时使用",
        )
    if int(seed) != seed or seed < 0:
        raise InputError(
            f"seed must be a whole number >= 0, not {seed}",
            fix="e.g. seed=1",
            message_zh="seed 必须是不小于 0 的整数",
        )


def walk_circle(kind, minutes, speed_kmh, max_snap_m, centre_minutes, norms: Norms):
    """The walk of the run: an argument given wins, else ``norms`` (stations: their own walk)."""
    if minutes is None and kind == "station":
        minutes = norms.station_walk_minutes
    minutes, speed_kmh = norms.service_circle(minutes, speed_kmh)
    centre_minutes = norms.walk_minutes if centre_minutes is None else centre_minutes
    return minutes, speed_kmh, norms.snap_limit(max_snap_m), centre_minutes


def existing_facilities(facilities) -> gpd.GeoDataFrame:
    """The existing facilities, checked; none (``None`` or no rows) is a green-field run."""
    if facilities is None or len(facilities) == 0:
        return gpd.GeoDataFrame(
            {"facility_id": pd.Series([], dtype=object), "kind": pd.Series([], dtype=object)},
            geometry=[],
            crs="EPSG:4326",
        )
    return facility_frame(facilities)


def polygon_key(
    households: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None, hh_metric: gpd.GeoSeries, key: str
) -> np.ndarray | None:
    """Each household's ``key`` (str or None): its own column, else the polygon it stands in."""
    if key in households.columns:
        return (
            households[key]
            .astype(object)
            .where(households[key].notna(), None)
            .map(lambda x: None if x is None else str(x))
            .to_numpy()
        )
    if polygons is not None and key in polygons.columns:
        return polygon_ids(hh_metric, polygons, key)
    return None


def _eligible(stations, net, fac, hh_snap, grid_id, weights, centre_cutoff, max_snap_m):
    """Households the shares count over, and the station grids (``None`` unless ``stations``).

    "中心+站点": stations go to the grids no centre covers at all; only their households count.
    """
    if not stations:
        return np.ones(len(hh_snap), dtype=bool), None
    if grid_id is None:
        raise InputError(
            "grids have no grid_id column",
            file="grids",
            column="grid_id",
            fix="pass grid polygons from gridplan partition (grids.geojson)",
            message_zh="网格数据缺少 grid_id 列",
        )
    centres = fac[fac["kind"].isin(CENTRE_KINDS)].reset_index(drop=True)
    by_centre = covered_within(
        net, net.snap(centres, max_snap_m=max_snap_m) if len(centres) else None, hh_snap, centre_cutoff
    )
    g = pd.Series(grid_id, dtype=object)
    per_grid = (
        pd.DataFrame({"g": g, "c": weights * by_centre})
        .dropna(subset=["g"])
        .groupby("g", sort=True)["c"]
        .sum()
    )
    station_grids = sorted(per_grid.index[per_grid == 0].tolist())
    return g.isin(station_grids).to_numpy(), station_grids


def build_candidates(
    net, hh_metric, demand_rows, reachable, candidates, network_nodes, spacing_m, max_snap_m
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The candidate sites and their snapping; warns about candidates off the network."""
    use_nodes = True if network_nodes is None else bool(network_nodes)
    if not use_nodes and (candidates is None or len(candidates) == 0):
        raise InputError(
            "no candidate sites: network nodes are off and no candidate file given",
            fix="pass --candidates FILE, or allow network-node candidates",
            message_zh="没有候选点",
        )
    # Candidates go where the demand is; with no demand, near the households the network
    # reaches. Off-network points never widen the area: one stray point far away would
    # stretch the candidate lattice over the whole box between them.
    area_rows = demand_rows if demand_rows.size else np.flatnonzero(reachable)
    area = candidate_area(hh_metric, area_rows, spacing_m)
    cands = candidate_sites(
        net, area, spacing_m=spacing_m, candidates=candidates, network_nodes=use_nodes and not area.is_empty
    )
    cand_snap = net.snap(cands, max_snap_m=max_snap_m)
    cand_off = cand_snap["off_network"].to_numpy()
    if cand_off.any():
        warnings.warn(
            f"{int(cand_off.sum())} candidate site(s) more than {max_snap_m:g} m from "
            f"any walkway cannot reach anyone: "
            f"{format_rows(cands['candidate_id'][cand_off].tolist())}",
            GridplanWarning,
            stacklevel=3,
        )
    return cands, cand_snap
