"""The local process pool a partition maps its per-community work over.

A partition maps two functions over its communities: the planner
(:func:`gridplan.grids.community.plan_community`) and the geometry figures
(:func:`gridplan.grids.quality_report.community_figures`). Both go through one ``mapper(fn,
tasks) -> results in task order``: this module's for a local pool, or a caller's (the Dask engine
of :mod:`gridplan.parallel`). One pool serves both maps, so its workers start once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import numpy as np
import shapely

__all__ = ["Mapper", "local_mapper", "task_size"]

#: ``mapper(fn, tasks)``: ``fn(t) for t in tasks``, anywhere, in task order (a list, or an
#: iterable read once).
Mapper = Callable[[Callable[[dict], dict], list[dict]], Iterable[dict]]


def task_size(task: dict) -> int:
    """How much work a task is, to start the largest first: its household rows (a planning
    task) or its grids (a figures task)."""
    return len(task["hh"]) if "hh" in task else len(task.get("grids", ()))


@contextmanager
def local_mapper(n_jobs: int | None, n_tasks: int, progress: bool = False) -> Iterator[Mapper]:
    """A mapper over a process pool of ``n_jobs`` workers (default: all cores, at most
    ``n_tasks``), opened on first use and closed on leaving; one worker maps in this process.

    The largest tasks go first and in chunks of an eighth of a worker's share, so that both
    workers stay busy to the end. With a pool, every task is handed to the workers at once and
    the results come back (in task order) as they are read: the caller can do its own share of
    work in between.
    """
    jobs = max(1, min(int(n_jobs or os.cpu_count() or 1), n_tasks))
    pool: list[ProcessPoolExecutor] = []

    def mapper(fn: Callable[[dict], dict], tasks: list[dict]) -> Iterable[dict]:
        desc = getattr(fn, "__name__", "tasks")
        if jobs == 1 or len(tasks) <= 1:
            return list(_counted((fn(t) for t in tasks), len(tasks), progress, desc))
        if not pool:
            pool.append(ProcessPoolExecutor(max_workers=jobs))
        work = sorted(range(len(tasks)), key=lambda i: -task_size(tasks[i]))
        chunk = max(1, len(tasks) // (jobs * 8))
        # handed over now
        done = pool[0].map(_Packing(fn), [_packed(tasks[i]) for i in work], chunksize=chunk)
        return _in_order(zip(work, _counted(done, len(tasks), progress, desc)), len(tasks))

    try:
        yield mapper
    finally:
        for p in pool:
            p.shutdown()


class _Geometries:
    """An array of geometries on its way to a worker: it arrives as the same array.

    Pickle calls a shapely geometry's own ``__reduce__`` once per geometry, a Python-level WKB
    round trip each: a million households' street segments took 5 s to send and 2.6 s to
    receive, a tenth of the partition's time. One vectorised :func:`shapely.to_wkb` of the
    whole array (and :func:`shapely.from_wkb` on arrival) is ten times cheaper and gives the same
    coordinates, bit for bit.
    """

    __slots__ = ("geoms",)

    def __init__(self, geoms: np.ndarray):
        self.geoms = geoms

    def __reduce__(self):
        return (shapely.from_wkb, (shapely.to_wkb(self.geoms),))


class _Rows:
    """Rows (dicts) with a ``geometry`` on their way back from a worker, their geometries sent
    as one array (see :class:`_Geometries`); they arrive as the same list of dicts."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __reduce__(self):
        geoms = np.empty(len(self.rows), dtype=object)
        geoms[:] = [r["geometry"] for r in self.rows]
        rest = [{k: v for k, v in r.items() if k != "geometry"} for r in self.rows]
        return (_with_geometry, (rest, _Geometries(geoms)))


def _with_geometry(rows: list[dict], geoms: np.ndarray) -> list[dict]:
    for r, g in zip(rows, geoms.tolist()):
        r["geometry"] = g
    return rows


def _geometries(v) -> bool:
    return (
        isinstance(v, np.ndarray) and v.dtype == object and len(v) > 0 and bool(shapely.is_geometry(v).all())
    )


def _rows(v) -> bool:
    return (
        isinstance(v, list)
        and len(v) > 0
        and all(isinstance(r, dict) and isinstance(r.get("geometry"), shapely.Geometry) for r in v)
    )


def _packed(payload: dict) -> dict:
    """``payload`` (a task or a result) with its arrays of geometries and its lists of rows with
    geometries packed (:class:`_Geometries`, :class:`_Rows`); anything else as it is."""
    return {k: _Geometries(v) if _geometries(v) else _Rows(v) if _rows(v) else v for k, v in payload.items()}


class _Packing:
    """``fn`` in a worker, its result packed for the way back."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[dict], dict]):
        self.fn = fn

    def __call__(self, task: dict) -> dict:
        out = self.fn(task)
        return _packed(out) if isinstance(out, dict) else out


def _counted(results: Iterable, n: int, progress: bool, desc: str) -> Iterator:
    from tqdm import tqdm

    with tqdm(total=n, disable=not progress, unit="community", desc=desc) as bar:
        for r in results:
            yield r
            bar.update()


def _in_order(pairs: Iterable[tuple[int, dict]], n: int) -> Iterator[dict]:
    results: list = [None] * n
    for i, r in pairs:
        results[i] = r
    yield from results
