"""City-scale partition: 1,000,000 households in about 25,000 buildings, 2,500 estates and 400
communities (deterministic, tests/generators/region.city), planned on all cores.

``--features`` plans the city of tests/generators/city.py instead (the coverage benchmark's city:
building footprints, walled estates, the walking network as street lines and barriers), so that
grid lines are drawn from the city's own features; it also prints the geometry figures
(buildings cut, estates cut, share of grid lines on features).

Prints the generation time, the partition wall time and CPU time (this process and the workers,
and per community: the figure to compare between runs on a shared machine, printed with the load
average), grid figures and the peak memory (ru_maxrss of this process and of the largest worker
process; their sum bounds the peak of the run).
Targets: 60 s and 4 GB on 2 cores.

Run: .venv/bin/python bench/partition_city.py [--households 1000000] [--jobs 2] [--features]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.city import load_city  # noqa: E402
from generators.region import city  # noqa: E402

from gridplan.grids.api import partition  # noqa: E402


def _cpu() -> tuple[float, float]:
    """User + system CPU seconds of this process and of its finished children (the workers):
    less sensitive to other jobs on the machine than the wall time."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--buildings", type=int, default=25_000)
    ap.add_argument("--estates", type=int, default=2_500)
    ap.add_argument("--communities", type=int, default=400)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--features", action="store_true", help="footprints, estates, streets, barriers")
    args = ap.parse_args()

    t = time.perf_counter()
    if args.features:
        c = load_city(args.households)
        layers = {
            "buildings": c["buildings"],
            "estates": c["estates"],
            "barriers": c["barriers"],
            "streets": c["network"][["geometry"]],
        }
    else:
        c = city(args.households, args.buildings, args.estates, args.communities, seed=0)
        layers = {"buildings": c["buildings"], "estates": c["estates"]}
    gen = time.perf_counter() - t
    hh = c["households"]
    print(
        f"generated {int(hh['households'].sum()):,} households in {len(hh):,} points, "
        f"{len(c['buildings']):,} buildings, {len(c['estates']):,} estates, "
        f"{len(c['communities']):,} communities in {gen:.1f} s"
    )
    t, cpu0 = time.perf_counter(), _cpu()
    res = partition(hh, c["communities"], n_jobs=args.jobs, **layers)
    wall = time.perf_counter() - t
    main_s, workers_s = (b - a for a, b in zip(cpu0, _cpu()))
    g = res.grids
    rep = res.report["total"]
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"partition wall time      {wall:8.1f} s  (jobs={args.jobs})")
    ncomm = max(1, len(c["communities"]))
    print(
        f"partition CPU time       {main_s + workers_s:8.1f} s  (main {main_s:.1f} s, workers "
        f"{workers_s:.1f} s; {(main_s + workers_s) / ncomm:.2f} s per community)"
    )
    print(f"load average             {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (1, 5, 15 min)")
    print(f"grids                    {len(g):8,d}")
    print(f"share in 300-500         {rep['share_in_band']:8.1%}")
    print(
        f"households per grid      min {rep['households_per_grid']['min']}, median "
        f"{rep['households_per_grid']['median']:.0f}, max {rep['households_per_grid']['max']}"
    )
    print(f"mean Polsby-Popper       {rep['mean_compactness']:8.3f}")
    print(f"estates split            {rep['estates_split']:8,d}")
    print(f"infeasible communities   {rep['share_infeasible_communities']:8.1%}")
    if args.features:
        print(f"buildings cut            {rep['buildings_cut']:8,d}")
        print(f"estates cut              {rep['estates_cut']:8,d}")
        print(f"grid lines on features   {rep['boundary_on_features']:8.1%}")
    print(f"peak RSS main process    {self_mb:8.0f} MB")
    print(f"peak RSS largest worker  {child_mb:8.0f} MB")
    print(f"peak RSS bound (sum)     {self_mb + child_mb:8.0f} MB")


if __name__ == "__main__":
    main()
