"""PostGIS export of the 1,000,000-household city plan (tests/generators/city.py, the city of
bench/city.py: one household point per stairwell entrance, cached under bench/_cache/),
partitioned, then written with ``gridplan.io.postgis.write_plan`` (streets, communities, grids,
households with their grid codes, facilities), twice: the first write, then a rerun that
replaces the plan in one transaction.

The server is ``GRIDPLAN_TEST_PG`` (credentials in the environment) or, when unset, a throwaway
cluster started with tests/pgcluster.py (needs Debian's postgresql and postgresql-postgis).
Prints ``postgis export: N households, G grids, T s`` for each write, and the 1-minute load
average (the machine may be shared).

Run: .venv/bin/python bench/postgis_export.py [--households 1000000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import pgcluster  # noqa: E402
from generators.city import load_city  # noqa: E402

from gridplan.grids.api import partition  # noqa: E402
from gridplan.io.postgis import write_plan  # noqa: E402
from gridplan.report.export import export_layers  # noqa: E402


def _export(layers: dict, url: str, n_households: int) -> float:
    t = time.perf_counter()
    rows = write_plan(layers, url, schema="bench_city")
    secs = time.perf_counter() - t
    print(
        f"postgis export: {n_households:,} households ({rows['households']:,} points), "
        f"{rows['grids']:,} grids, {secs:.1f} s  (load {os.getloadavg()[0]:.2f})"
    )
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    t = time.perf_counter()
    c = load_city(args.households, layers=("communities", "estates", "buildings", "households", "facilities"))
    res = partition(
        c["households"], c["communities"], buildings=c["buildings"], estates=c["estates"], n_jobs=args.jobs
    )
    layers = export_layers(
        res.grids, communities=c["communities"], households=res.assignment, facilities=c["facilities"]
    )
    n_households = int(res.assignment["households"].sum())
    print(f"plan: {len(res.grids):,} grids in {time.perf_counter() - t:.1f} s (generate + partition)")

    url = os.environ.get("GRIDPLAN_TEST_PG")
    folder = None
    if not url:
        reason = pgcluster.missing_reason()
        if reason:
            sys.exit(f"no PostGIS server: set GRIDPLAN_TEST_PG or install PostgreSQL + PostGIS ({reason})")
        folder = tempfile.mkdtemp(prefix="gridplan-pg-")
        os.environ.update(pgcluster.start(folder))
        url = os.environ["GRIDPLAN_TEST_PG"]
    print(pgcluster.server_version())
    try:
        _export(layers, url, n_households)  # first write (tables created when absent)
        _export(layers, url, n_households)  # a rerun: the plan's rows replaced in one transaction
    finally:
        if folder is not None:
            pgcluster.stop(folder)


if __name__ == "__main__":
    main()
