"""Benchmark: isochrone polygons of every centre of a city.

The generated city of ``bench/coverage_peers.py`` (a street lattice of >= 500,000 junctions from
tests/generators/network.py, 1,000,000 household points, 2,000 centres), thresholds 5/10/15 min
at 4 km/h, 50 m buffer. Prints one line

    isochrones: N centres, T s wall, X ms per centre

for the default method (``auto``: raster from 50 centres on), then the exact method (buffer and
union) on a sample of centres, EXTRAPOLATED to all (labelled so), and what the polygons
misclassify: households inside a polygon but not reached in time and reached but outside, as
coverage() reports them, with the time that count takes; ``--coverage`` also times the whole
coverage() call with its isochrones. Network generation, loading and
snapping are timed apart. Run: ``python bench/isochrones.py`` (``--nodes 100000 --households
100000 --centres 200`` for a quick run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from generators.network import lattice_network, random_facilities, random_points  # noqa: E402

from gridplan.access.coverage import coverage, isochrone_misclassification  # noqa: E402
from gridplan.network import network_from_lines  # noqa: E402
from gridplan.network.isochrones import isochrones  # noqa: E402
from gridplan.network.raster_isochrones import RASTER_CELL_M, tolerance_m  # noqa: E402
from gridplan.norms import ISOCHRONE_BUFFER_M, ISOCHRONE_MINUTES  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=500_000)
    p.add_argument("--households", type=int, default=1_000_000)
    p.add_argument("--centres", type=int, default=2000)
    p.add_argument("--exact-sample", type=int, default=20, help="centres drawn exactly (0: skip)")
    p.add_argument("--cell", type=float, default=RASTER_CELL_M, help="raster cell (m)")
    p.add_argument(
        "--coverage", action="store_true", help="also time the whole coverage() call with its isochrones"
    )
    args = p.parse_args(argv)
    print(f"isochrones bench: cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    side = int(np.ceil(np.sqrt(args.nodes / 0.97)))
    t = time.perf_counter()
    lines = lattice_network(side, side, seed=0)
    net = network_from_lines(lines)
    hh = random_points(lines, args.households, seed=1)
    fac = random_facilities(lines, args.centres, seed=2)
    prep = time.perf_counter() - t
    t = time.perf_counter()
    hs = net.snap(hh, max_snap_m=300.0, geometry=False)
    fs = net.snap(fac, max_snap_m=300.0)
    dist = net.nearest(fs, hs)["dist_m"].to_numpy()
    snap_s = time.perf_counter() - t
    print(
        f"({net.n_nodes:,} nodes, {len(net.edges):,} edges, {len(hh):,} households, {len(fac):,} centres; "
        f"generate + load {prep:.1f} s, snap + nearest {snap_s:.1f} s, separate)"
    )

    t, c = time.perf_counter(), time.process_time()
    iso = isochrones(net, fac, fac_snap=fs, cell_m=args.cell)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    n = len(fac)
    print(f"isochrones: {n} centres, {wall:.1f} s wall, {wall / n * 1e3:.1f} ms per centre")
    print(
        f"  (method {'raster' if n >= 50 else 'exact'}, {args.cell:g} m cells, {len(iso):,} polygons "
        f"x {len(ISOCHRONE_MINUTES)} thresholds, process CPU {cpu:.1f} s; outline within "
        f"{tolerance_m(args.cell):.1f} m of the exact {ISOCHRONE_BUFFER_M:g} m buffer)"
    )
    if args.exact_sample > 0:
        sub = np.sort(np.random.default_rng(3).choice(n, min(args.exact_sample, n), replace=False))
        t = time.perf_counter()
        isochrones(net, fac.iloc[sub], fac_snap=fs.iloc[sub], method="exact")
        ex = (time.perf_counter() - t) / len(sub)
        print(
            f"  exact method (buffer + union): {ex * 1e3:.0f} ms per centre, {ex * n:.0f} s for all "
            f"(EXTRAPOLATED {len(sub)}->{n})"
        )
    t = time.perf_counter()
    pts = hh.geometry.values.to_numpy()
    report = isochrone_misclassification(iso, pts, hh["households"].to_numpy(), dist, ISOCHRONE_MINUTES, 4.0)
    count_s = time.perf_counter() - t
    for k, r in report.items():
        print(
            f"  {k:>2} min: {r['households_reached']:,} households reached; inside a polygon but not "
            f"reached {r['households_inside_polygon_not_reached']:,}, reached but outside "
            f"{r['households_reached_outside_polygon']:,}"
        )
    print(f"  (misclassification counted in {count_s:.1f} s; load average {os.getloadavg()[0]:.1f})")
    if args.coverage:
        t = time.perf_counter()
        r = coverage(hh, fac, net, max_snap_m=300.0)
        print(
            f"  coverage() with isochrones (snap, times, summaries, gaps, norms, {len(r.isochrones):,} "
            f"polygons in EPSG:4326, misclassification): {time.perf_counter() - t:.1f} s"
        )


if __name__ == "__main__":
    main()
