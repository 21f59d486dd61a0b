"""The local process pool a partition maps its per-community work over.

A partition maps two functions over its communities: the planner
(:func:`gridplan.grids.community.plan_community`) and the geometry figures
(:func:`gridplan.grids.quality_report.community_figures`). Both go through one ``mapper(fn,
tasks) -> results in task order``: this module's for a local pool, or a caller's (the Dask engine
of :mod:`gridplan.parallel`). One pool serves both maps, so its workers start once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

__all__ = ["Mapper", "local_mapper", "task_size"]

#: ``mapper(fn, tasks)``: ``[fn(t) for t in tasks]``, anywhere, in task order.
Mapper = Callable[[Callable[[dict], dict], list[dict]], list[dict]]


def task_size(task: dict) -> int:
    """How much work a task is, to start the largest first: its household rows (a planning
    task) or its grids (a figures task)."""
    return len(task["hh"]) if "hh" in task else len(task.get("grids", ()))


@contextmanager
def local_mapper(n_jobs: int | None, n_tasks: int, progress: bool = False) -> Iterator[Mapper]:
    """A mapper over a process pool of ``n_jobs`` workers (default: all cores, at most
    ``n_tasks``), opened on first use and closed on leaving; one worker maps in this process.

    The largest tasks go first and in chunks of an eighth of a worker's share, so that both
    workers stay busy to the end; results come back in task order.
    """
    from tqdm import tqdm

    jobs = max(1, min(int(n_jobs or os.cpu_count() or 1), n_tasks))
    pool: list[ProcessPoolExecutor] = []

    def mapper(fn: Callable[[dict], dict], tasks: list[dict]) -> list[dict]:
        desc = getattr(fn, "__name__", "tasks")
        with tqdm(total=len(tasks), disable=not progress, unit="community", desc=desc) as bar:
            if jobs == 1 or len(tasks) <= 1:
                out = []
                for t in tasks:
                    out.append(fn(t))
                    bar.update()
                return out
            if not pool:
                pool.append(ProcessPoolExecutor(max_workers=jobs))
            work = sorted(range(len(tasks)), key=lambda i: -task_size(tasks[i]))
            results: list = [None] * len(tasks)
            chunk = max(1, len(tasks) // (jobs * 8))
            for i, r in zip(work, pool[0].map(fn, [tasks[i] for i in work], chunksize=chunk)):
                results[i] = r
                bar.update()
            return results

    try:
        yield mapper
    finally:
        for p in pool:
            p.shutdown()
