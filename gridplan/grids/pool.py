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
        done = pool[0].map(fn, [tasks[i] for i in work], chunksize=chunk)  # handed over now
        return _in_order(zip(work, _counted(done, len(tasks), progress, desc)), len(tasks))

    try:
        yield mapper
    finally:
        for p in pool:
            p.shutdown()


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
