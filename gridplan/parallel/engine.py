"""Engines: run partition and coverage in this process, or spread over a Dask cluster.

``engine="local"`` is the single-machine path (partition's own process pool, one Dijkstra pass).
``engine="dask"`` runs the same pure functions on dask.distributed workers and returns the same
result, byte for byte once written:

- partition maps :func:`gridplan.grids.community.plan_community` over the communities (``client.map``,
  gathered in community order), the function partition runs in its own pool;
- coverage snaps households and facilities once on the whole network, then cuts the area into
  square tiles (``tile_m``, default 3 km) with a halo and runs the nearest-centre search and the
  isochrones of each tile on a worker (see :mod:`gridplan.parallel.tiles` for why a tile's answer is
  exact). A household whose nearest centre is farther than the halo (``halo_m``, default the
  service-circle distance) cannot be certified inside its tile; those few households are
  searched again on the whole network, so walking times beyond the circle are exact as well and
  equal to the local engine's.

By default a LocalCluster of 2 worker processes with one thread each is started and closed
afterwards (its dashboard on a free port, never the 8787 a running cluster may hold);
``scheduler="tcp://host:8786"`` (or a ``distributed.Client``) uses an existing cluster, whose
workers must have gridplan installed at the same version.

>>> from gridplan.parallel.engine import partition, coverage
>>> res = partition(households, communities, engine="dask")                    # doctest: +SKIP
>>> cov = coverage(households, facilities, network, engine="dask",
...                scheduler="tcp://10.0.0.5:8786")                            # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.access.coverage import coverage as core_coverage
from gridplan.errors import InputError
from gridplan.grids.api import partition as core_partition
from gridplan.grids.community import plan_community
from gridplan.grids.pool import task_size
from gridplan.network.graph import WalkNetwork
from gridplan.network.isochrones import RASTER_FROM_FACILITIES
from gridplan.network.load import load_network
from gridplan.norms import (
    DASK_THREADS_PER_WORKER,
    DASK_WORKERS,
    DEFAULT_NORMS,
    ISOCHRONE_MINUTES,
    TILE_M,
    WALK_MINUTES,
    WALK_SPEED_KMH,
    walk_metres,
)
from gridplan.parallel import tiles as _tiles

__all__ = [
    "ENGINES",
    "dask_client",
    "map_ordered",
    "partition",
    "run_communities",
    "coverage",
    "DaskWalkNetwork",
    "tiled_isochrones",
]

ENGINES = ("local", "dask")

log = logging.getLogger(__name__)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise InputError(
            f"unknown engine {engine!r}",
            fix=f"use one of {', '.join(ENGINES)}",
            message_zh=f"未知的计算引擎 {engine!r}",
            fix_zh=f"请使用 {' 或 '.join(ENGINES)}",
        )


def _local(engine: str, scheduler) -> bool:
    """True for this machine's engine; a scheduler address means Dask whatever ``engine`` says."""
    _check_engine("dask" if scheduler is not None else engine)
    return engine == "local" and scheduler is None


# ------------------------------------------------------------------------------- clusters
@contextlib.contextmanager
def dask_client(
    scheduler=None, *, n_workers: int = DASK_WORKERS, threads_per_worker: int = DASK_THREADS_PER_WORKER
) -> Iterator:
    """A ``distributed.Client``: to ``scheduler`` if given, else to a new LocalCluster.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        Address of a running scheduler (``tcp://host:8786``), or a client to reuse (left open).
        None starts a LocalCluster of ``n_workers`` processes x ``threads_per_worker`` threads,
        its dashboard on a free port, closed on exit.
    """
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                fix="start it with `dask scheduler` and workers with `dask worker "
                "ADDRESS`, or omit --scheduler to use a local cluster",
                message_zh=f"无法连接 Dask 调度器 {scheduler}",
            ) from exc
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def map_ordered(
    client, fn: Callable, payloads: Sequence, *, progress: bool = False, desc: str = "tasks"
) -> list:
    """``[fn(p) for p in payloads]`` on the cluster, results in payload order.

    The largest payloads are not reordered here: the caller submits in the order it wants them
    started. ``pure=False`` because payloads may be equal by value yet must each run.
    """
    from distributed import as_completed
    from tqdm import tqdm

    if not payloads:
        return []
    t0 = time.perf_counter()
    # payloads go to the workers as data (scatter), not inside the task graph, which the
    # scheduler would otherwise have to hold and forward (tens of MB for a city's tiles)
    data = client.scatter(list(payloads), hash=False)
    futures = client.map(fn, data, pure=False)
    with tqdm(total=len(futures), disable=not progress, unit="task", desc=desc) as bar:
        for _ in as_completed(futures):
            bar.update()
    out = client.gather(futures)
    seconds = time.perf_counter() - t0
    workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
    # the benchmark reads these figures to separate the mapped work from the driver's
    log.info(
        "%s: %d tasks on %d workers in %.2f s",
        desc,
        len(out),
        workers,
        seconds,
        extra={"gridplan_map": {"desc": desc, "tasks": len(out), "workers": workers, "seconds": seconds}},
    )
    return out


# ------------------------------------------------------------------------------- partition
def partition(
    households: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    engine: str = "local",
    scheduler=None,
    progress: bool = False,
    **kwargs,
):
    """:func:`gridplan.grids.api.partition` on the chosen engine.

    Parameters
    ----------
    households, communities : GeoDataFrame
        As for :func:`gridplan.grids.api.partition`.
    engine : {"local", "dask"}
        ``dask`` maps the per-community planner over a Dask cluster.
    scheduler : str or distributed.Client, optional
        Existing cluster (see :func:`dask_client`); default a LocalCluster of 2 workers.
    progress : bool
        tqdm progress bar.
    **kwargs
        Every other keyword of :func:`gridplan.grids.api.partition` (``buildings``, ``estates``,
        ``barriers``, bounds, ``seed``, ...).

    Returns
    -------
    PartitionResult
        Identical to the local engine's.
    """
    if _local(engine, scheduler):
        return core_partition(households, communities, progress=progress, **kwargs)
    with dask_client(scheduler) as client:

        def mapper(fn: Callable[[dict], dict], tasks: list[dict]) -> list[dict]:
            return run_communities(tasks, client=client, progress=progress, fn=fn)

        return core_partition(households, communities, progress=progress, mapper=mapper, **kwargs)


def run_communities(
    tasks: Sequence[dict],
    *,
    client=None,
    scheduler=None,
    progress: bool = False,
    fn: Callable[[dict], dict] = plan_community,
) -> list:
    """Plan every community payload of :func:`gridplan.grids.api.partition` on a Dask cluster.

    The hook for ``partition(engine="dask")``: ``results = run_communities(tasks,
    scheduler=scheduler)`` in place of the process pool gives the same results, in task order.
    Largest communities are submitted first so that no worker idles at the end. ``fn``: what
    is mapped (the planner, or the partition's second map, its geometry figures).
    """
    if client is None:
        with dask_client(scheduler) as c:
            return run_communities(tasks, client=c, progress=progress, fn=fn)
    order = sorted(range(len(tasks)), key=lambda i: (-task_size(tasks[i]), i))
    done = map_ordered(client, fn, [tasks[i] for i in order], progress=progress, desc=fn.__name__)
    out: list = [None] * len(tasks)
    for i, r in zip(order, done):
        out[i] = r
    return out


# ------------------------------------------------------------------------------- coverage
@dataclass
class DaskWalkNetwork(WalkNetwork):
    """A :class:`WalkNetwork` whose nearest-centre searches run tile by tile on a Dask cluster.

    Same data as the network it wraps; :meth:`nearest` returns exactly what
    :meth:`WalkNetwork.nearest` returns. Build it with :meth:`wrap`.
    """

    client: object = field(default=None, repr=False)
    tile_m: float = TILE_M
    halo_m: float = walk_metres(WALK_MINUTES, WALK_SPEED_KMH)
    progress: bool = False

    @classmethod
    def wrap(
        cls,
        net: WalkNetwork,
        client,
        *,
        tile_m: float = TILE_M,
        halo_m: float | None = None,
        progress: bool = False,
    ) -> DaskWalkNetwork:
        halo = walk_metres(WALK_MINUTES, WALK_SPEED_KMH) if halo_m is None else float(halo_m)
        base = {f.name: getattr(net, f.name) for f in dataclasses.fields(WalkNetwork)}
        return cls(**base, client=client, tile_m=float(tile_m), halo_m=halo, progress=progress)

    @property
    def edge_tree(self) -> shapely.STRtree:
        """R-tree of the edges, for cutting tiles (built once)."""
        if getattr(self, "_edge_tree", None) is None:
            self._edge_tree = shapely.STRtree(self.edges.geometry.values.to_numpy())
        return self._edge_tree

    def nearest(
        self, sources: pd.DataFrame, targets: pd.DataFrame, *, limit_m: float = math.inf
    ) -> pd.DataFrame:
        """As :meth:`WalkNetwork.nearest`, tile by tile (see the module docstring)."""
        halo = min(float(limit_m), self.halo_m)
        tiles, pos = _tiles.make_tiles(_tiles.snapped_xy(self, targets), self.tile_m, halo)
        src_edge = sources["edge"].to_numpy()
        payloads = []
        for k, tile in enumerate(tiles):
            sub, nodes, edges = _tiles.subnetwork(self, tile.region, tree=self.edge_tree, light=True)
            tid = np.flatnonzero(pos == k)
            sid = _tiles.relevant_sources(src_edge, edges)
            payloads.append(
                {
                    "net": sub,
                    "limit_m": halo,
                    "source_ids": sid,
                    "target_ids": tid,
                    "sources": _tiles.renumber_snap(sources.iloc[sid], nodes, edges),
                    "targets": _tiles.renumber_snap(targets.iloc[tid], nodes, edges),
                }
            )
        n = len(targets)
        dist = np.full(n, np.nan)
        src = np.full(n, -1, dtype=np.int64)
        for tid, d, s in map_ordered(
            self.client, _tiles.tile_nearest, payloads, progress=self.progress, desc="coverage tiles"
        ):
            dist[tid] = d
            src[tid] = s
        # certified: found within the halo (then exact); otherwise the true distance is beyond
        # the halo and, unless the caller's limit stops there anyway, is searched on the whole
        # network
        hit = targets["edge"].to_numpy() >= 0
        within = np.isfinite(dist) & (dist - targets["snap_m"].to_numpy() <= halo)
        again = np.flatnonzero(hit & ~within)
        if len(again) and limit_m > halo:
            rest = WalkNetwork.nearest(self, sources, targets.iloc[again], limit_m=limit_m)
            dist[again] = rest["dist_m"].to_numpy()
            src[again] = rest["source"].to_numpy()
        self.report_tiles = {
            "tiles": len(tiles),
            "tile_m": self.tile_m,
            "halo_m": halo,
            "searched_again": int(len(again)),
        }
        return pd.DataFrame({"dist_m": dist, "source": src}, index=targets.index)


def tiled_isochrones(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    client,
    tile_m: float = TILE_M,
    fac_snap: pd.DataFrame | None = None,
    max_snap_m: float = np.inf,
    progress: bool = False,
    **kwargs,
) -> gpd.GeoDataFrame:
    """:func:`gridplan.network.isochrones.isochrones`, tile by tile on a Dask cluster; same result.

    Each facility's polygons are built in the tile holding its snapped point, on the sub-network
    within the largest threshold's walking distance of that tile (halo), which contains every
    walkway the facility reaches in that time.
    """
    minutes = kwargs.get("minutes", ISOCHRONE_MINUTES)
    speed = kwargs.get("speed_kmh", WALK_SPEED_KMH)
    # "auto" is decided on all the facilities, not per tile, so that every tile draws alike
    if kwargs.get("method", "auto") == "auto":
        kwargs["method"] = "raster" if len(facilities) >= RASTER_FROM_FACILITIES else "exact"
    cmax = max(walk_metres(float(m), speed) for m in minutes)
    if fac_snap is None:
        fac_snap = WalkNetwork.snap(network, facilities, max_snap_m=max_snap_m)
    tiles, pos = _tiles.make_tiles(_tiles.snapped_xy(network, fac_snap), tile_m, cmax)
    tree = (
        network.edge_tree
        if isinstance(network, DaskWalkNetwork)
        else shapely.STRtree(network.edges.geometry.values.to_numpy())
    )
    payloads = []
    for k, tile in enumerate(tiles):
        sub, nodes, edges = _tiles.subnetwork(network, tile.region, tree=tree)
        fid = np.flatnonzero(pos == k)
        payloads.append(
            {
                "net": sub,
                "facilities": facilities.iloc[fid],
                "fac_ids": fid,
                "fac_snap": _tiles.renumber_snap(fac_snap.iloc[fid], nodes, edges),
                "kwargs": kwargs,
            }
        )
    parts = [
        p
        for p in map_ordered(
            client, _tiles.tile_isochrones, payloads, progress=progress, desc="isochrone tiles"
        )
        if len(p)
    ]
    if not parts:
        cols = ["facility_id", "name", "kind", "minutes", "distance_m", "area_m2"]
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=network.crs)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["_fac", "minutes"], kind="stable").drop(columns="_fac")
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=network.crs)


def coverage(
    households: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network,
    *,
    engine: str = "local",
    scheduler=None,
    tile_m: float = TILE_M,
    halo_m: float | None = None,
    progress: bool = False,
    **kwargs,
):
    """:func:`gridplan.access.coverage.coverage` on the chosen engine.

    Parameters
    ----------
    households, facilities, network
        As for :func:`gridplan.access.coverage.coverage`.
    engine : {"local", "dask"}
        ``dask`` tiles the area and searches each tile on a Dask worker.
    scheduler : str or distributed.Client, optional
        Existing cluster; default a LocalCluster of 2 workers.
    tile_m : float
        Side of the square tiles, metres (default :data:`gridplan.norms.TILE_M`).
    halo_m : float, optional
        Halo of the nearest-centre search (default: the service circle's walking distance).
        Larger halos re-search fewer far households on the whole network, at the cost of bigger
        tiles; the result is the same.
    **kwargs
        Every other keyword of :func:`gridplan.access.coverage.coverage`.

    Returns
    -------
    CoverageResult
        Identical to the local engine's.
    """
    if _local(engine, scheduler):
        return core_coverage(households, facilities, network, progress=progress, **kwargs)
    net = network if isinstance(network, WalkNetwork) else load_network(network)
    if halo_m is None:
        norms = kwargs.get("norms", DEFAULT_NORMS)
        halo_m = walk_metres(*norms.service_circle(kwargs.get("minutes"), kwargs.get("speed_kmh")))
    with dask_client(scheduler) as client:
        dnet = DaskWalkNetwork.wrap(net, client, tile_m=tile_m, halo_m=halo_m, progress=progress)
        builder = functools.partial(tiled_isochrones, client=client, tile_m=tile_m)
        return core_coverage(
            households, facilities, dnet, progress=progress, isochrone_builder=builder, **kwargs
        )
