"""How cheap the proposal store (gp.PlanStore) is: first save, autosave after each edit, open.

On the bundled sample district (77 grids, 30,097 households) in an embedded store in a temporary
folder: the first save (plan, data, walking network), an autosave after each of ``--edits``
merges (median time and bytes added per save), an autosave after undo, opening the latest version
in a new handle (a new session), reading only the network, the first save after opening, and
comparing two versions.

Usage: ``python bench/plan_store.py [--edits 10] [--where postgresql://...]``; prints one line per
figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def _stored_bytes(store) -> int:
    with store._db.transaction() as tx:
        return int(tx.one("SELECT SUM(LENGTH(data)) FROM gridplan_pieces") or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument(
        "--where", default=None, help="a folder or postgresql:// URL (default: a temp folder)"
    )
    args = parser.parse_args()

    import gridplan as gp
    from gridplan.errors import InputError
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = gp.load_sample()
    plan = Plan.from_partition(
        plan_grids(s),
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        facilities=s["facilities"],
    )
    net = gp.load_network(s["network"])
    where = args.where or tempfile.mkdtemp(prefix="gridplan-store-")
    store = gp.PlanStore(where)
    name = f"bench-{os.getpid()}"

    t = time.perf_counter()
    store.save(name, plan, network=net)
    print(
        f"first save (plan, data, network): {time.perf_counter() - t:.3f} s, {_stored_bytes(store) / 1e6:.2f} MB"
    )
    times, before = [], _stored_bytes(store)
    for k in range(len(plan.grids_metric)):
        if len(times) == args.edits:
            break
        gid = plan.grids_metric.index[k]
        try:
            plan.merge_grids(gid, plan.neighbours(gid)[0])
        except (InputError, IndexError):
            continue
        t = time.perf_counter()
        store.save(name, plan)
        times.append(time.perf_counter() - t)
    grown = (_stored_bytes(store) - before) / max(len(times), 1)
    print(
        f"autosave after an edit: median {statistics.median(times) * 1000:.0f} ms, {grown / 1e3:.0f} kB added"
    )
    plan.undo()
    t = time.perf_counter()
    store.save(name, plan)
    print(f"autosave after undo: {(time.perf_counter() - t) * 1000:.0f} ms")
    other = gp.PlanStore(where)
    t = time.perf_counter()
    reopened = other.open(name)
    print(f"open in a new session: {time.perf_counter() - t:.2f} s ({len(reopened.history)} edits to undo)")
    t = time.perf_counter()
    other.network(name)
    print(f"read the network only: {time.perf_counter() - t:.2f} s")
    gid = reopened.grids_metric.index[-1]
    reopened.merge_grids(gid, reopened.neighbours(gid)[0])
    t = time.perf_counter()
    other.save(name, reopened)
    print(f"first autosave after open: {(time.perf_counter() - t) * 1000:.0f} ms")
    t = time.perf_counter()
    other.compare(name, (name, 1))
    print(f"compare two versions: {(time.perf_counter() - t) * 1000:.0f} ms")
    other.delete(name)


if __name__ == "__main__":
    main()
