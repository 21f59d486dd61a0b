"""City-scale benchmark: partition, network load, snapping, coverage and siting at 100k/300k/1M
households, on one machine and (``--engine dask``) on a Dask cluster.

Every stage runs in its own child process, so that its peak memory is its own: the parent reads
the child's ``ru_maxrss`` from ``os.wait4`` and also polls the resident memory of the child's
whole process tree with psutil every 0.2 s (Dask workers are grandchildren). Inputs come from
``tests/generators/city.py`` and are cached under ``bench/_cache/`` (generated once per size).

Run:
    .venv/bin/python bench/city.py                          # 100k, 300k, 1M, every stage
    .venv/bin/python bench/city.py --sizes 100000 --stages coverage
    .venv/bin/python bench/city.py --engine dask --stages partition,coverage
    .venv/bin/python bench/city.py --stage coverage --size 100000   # one stage (child mode)

Stages: partition (grids for every community), network_load (read GeoParquet lines + build the
CSR graph), snapping (households and facilities), coverage (nearest centre of every household over
all 2,000-per-million centres, summaries, gaps; no isochrone polygons; the clock starts after the
network is loaded), isochrones (5/10/15-minute polygons of ISOCHRONE_SAMPLE facilities, with the
per-facility cost and the whole-city estimate), siting (one new community centre per 4
communities, street centres standing). With ``--engine dask`` partition, coverage and isochrones
run on a LocalCluster of 2 workers (or ``--scheduler``); ``mapped_s`` is the mapped work's time.

Prints one row per (size, stage): wall seconds of the stage's work (inputs read before the
clock starts), peak RSS of the stage process and of its process tree, the 1-minute load average
(the machine may be shared), and the growth factor of time and memory from the previous size
(linear growth = the households ratio, 3.0 and 3.3).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent))

SIZES = (100_000, 300_000, 1_000_000)
STAGES = ("partition", "network_load", "snapping", "coverage", "isochrones", "siting")
#: Isochrone polygons cost about 0.1 s per facility (gridplan.network.isochrones buffers and unions the
#: reached walkways, merged into chains): the stage draws those of this many facilities and reports
#: the cost per facility; the whole city's isochrones take that times the facility count.
ISOCHRONE_SAMPLE = 10
#: Centres used for coverage: every facility of the generated city (2,000 per million households).
KINDS = ("street_centre", "community_centre", "station")


# ------------------------------------------------------------------------------ child stages
def _city(size, layers):
    from generators.city import load_city

    return load_city(size, layers=layers)


def _network(size):
    import geopandas as gpd
    from generators.city import city_dir

    from gridplan.network import load_network

    lines = gpd.read_parquet(city_dir(size) / "network.parquet")
    return load_network(lines)


def stage_generate(size, args):
    from generators.city import city_dir, load_city

    t0 = time.perf_counter()
    city = load_city(size)
    return {
        "seconds": time.perf_counter() - t0,
        "cached": (city_dir(size) / "done").exists(),
        "household_rows": len(city["households"]),
        "households": int(city["households"]["households"].sum()),
        "communities": len(city["communities"]),
        "buildings": len(city["buildings"]),
        "facilities": len(city["facilities"]),
        "network_lines": len(city["network"]),
    }


def stage_partition(size, args):
    c = _city(size, ("households", "communities", "buildings", "estates", "barriers"))
    kw = dict(buildings=c["buildings"], estates=c["estates"], barriers=c["barriers"], seed=0)
    t0 = time.perf_counter()
    if args.engine == "dask":
        from gridplan.parallel.engine import partition

        res = partition(c["households"], c["communities"], engine="dask", scheduler=args.scheduler, **kw)
    else:
        from gridplan.grids.api import partition

        res = partition(c["households"], c["communities"], **kw)
    secs = time.perf_counter() - t0
    g = res.grids
    return {
        "seconds": secs,
        "grids": len(g),
        "communities": len(c["communities"]),
        "per_community_s": secs / len(c["communities"]),
        "grids_ok": int((g["status"] == "ok").sum()),
        "households": int(g["households"].sum()),
    }


def stage_network_load(size, args):
    import geopandas as gpd
    from generators.city import city_dir

    from gridplan.network import load_network

    t0 = time.perf_counter()
    lines = gpd.read_parquet(city_dir(size) / "network.parquet")
    net = load_network(lines)
    return {"seconds": time.perf_counter() - t0, "nodes": net.n_nodes, "edges": len(net.edges)}


def stage_snapping(size, args):
    from gridplan.norms import MAX_SNAP_M

    c = _city(size, ("households", "facilities"))
    net = _network(size)
    t0 = time.perf_counter()
    hs = net.snap(c["households"], max_snap_m=MAX_SNAP_M)
    fs = net.snap(c["facilities"], max_snap_m=MAX_SNAP_M)
    return {
        "seconds": time.perf_counter() - t0,
        "points": len(hs) + len(fs),
        "off_network": int(hs["off_network"].sum() + fs["off_network"].sum()),
    }


def stage_coverage(size, args):
    """Nearest centre of every household, summaries, gaps; no isochrone polygons."""
    c = _city(size, ("households", "facilities", "communities"))
    net = _network(size)
    kw = dict(communities=c["communities"], kinds=KINDS, isochrones=False)
    t0 = time.perf_counter()
    if args.engine == "dask":
        from gridplan.parallel.engine import coverage

        res = coverage(c["households"], c["facilities"], net, engine="dask", scheduler=args.scheduler, **kw)
    else:
        from gridplan.access.coverage import coverage

        res = coverage(c["households"], c["facilities"], net, **kw)
    secs = time.perf_counter() - t0
    return {
        "seconds": secs,
        "nodes": net.n_nodes,
        "centres": res.report["facilities_used"],
        "share_covered": res.report["share_covered"],
    }


def stage_isochrones(size, args):
    """Isochrones (5/10/15 min) of the first ISOCHRONE_SAMPLE facilities, spread over the city."""
    from gridplan.network.isochrones import isochrones

    c = _city(size, ("facilities",))
    net = _network(size)
    fac = c["facilities"].iloc[np.linspace(0, len(c["facilities"]) - 1, ISOCHRONE_SAMPLE).round().astype(int)]
    t0 = time.perf_counter()
    if args.engine == "dask":
        from gridplan.parallel.engine import dask_client, tiled_isochrones

        with dask_client(args.scheduler) as client:
            iso = tiled_isochrones(net, fac, client=client, minutes=(5, 10, 15))
    else:
        iso = isochrones(net, fac, minutes=(5, 10, 15))
    secs = time.perf_counter() - t0
    n_all = len(c["facilities"])
    return {
        "seconds": secs,
        "facilities": len(fac),
        "per_facility_s": secs / len(fac),
        "all_facilities_est_s": secs / len(fac) * n_all,
        "polygons": len(iso),
    }


def stage_siting(size, args):
    from gridplan.siting.api import site

    c = _city(size, ("households", "facilities"))
    net = _network(size)
    # a city-scale siting question: with only the street centres standing, where should one new
    # community centre per 4 communities go (maximal covering, 15-minute walk)?
    existing = c["facilities"][c["facilities"]["kind"] == "street_centre"]
    add = max(5, int((c["facilities"]["kind"] == "community_centre").sum()) // 4)
    t0 = time.perf_counter()
    res = site(c["households"], existing, net, add=add, kind="community_centre")
    secs = time.perf_counter() - t0
    rep = getattr(res, "report", {}) or {}
    keep = {
        k: rep[k]
        for k in ("status", "gap", "households_gained", "candidates")
        if k in rep and not isinstance(rep[k], (dict, list))
    }
    return {"seconds": secs, "sites": len(getattr(res, "sites", [])), "add": add, **keep}


class _MapRecords(__import__("logging").Handler):
    """Collects gridplan.parallel.engine's per-map timings (mapped work vs the driver's own)."""

    def __init__(self):
        super().__init__(level=20)
        self.maps = []

    def emit(self, record):
        if hasattr(record, "gridplan_map"):
            self.maps.append(record.gridplan_map)


def run_child(args) -> int:
    import logging

    fn = globals()[f"stage_{args.stage}"]
    maps = _MapRecords()
    eng = logging.getLogger("gridplan.parallel.engine")
    eng.addHandler(maps)
    eng.setLevel(logging.INFO)
    try:
        out = fn(args.size, args)
        if maps.maps:
            out["mapped_s"] = round(sum(m["seconds"] for m in maps.maps), 2)
            out["tasks"] = sum(m["tasks"] for m in maps.maps)
    except ModuleNotFoundError as exc:
        out = {"error": f"module missing: {exc.name}"}
    except Exception as exc:  # report, the table goes on
        out = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print("@@RESULT " + json.dumps(out, default=str), flush=True)
    return 0


# ------------------------------------------------------------------------------ parent
def _tree_rss(proc) -> int:
    import psutil

    try:
        p = psutil.Process(proc.pid)
        procs = [p] + p.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(stage, size, args) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        stage,
        "--size",
        str(size),
        "--engine",
        args.engine,
    ]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc))
            done.wait(0.2)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    th.join()
    res = {"error": f"exit {proc.returncode}"}
    for line in out.splitlines():
        if line.startswith("@@RESULT "):
            res = json.loads(line[len("@@RESULT ") :])
    res["maxrss_gb"] = ru.ru_maxrss / 1024**2  # Linux: kilobytes
    res["tree_peak_gb"] = peak[0] / 1024**3
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--engine", choices=("local", "dask"), default="local")
    ap.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    if args.stage:
        return run_child(args)

    sizes = [int(s) for s in args.sizes.split(",")]
    stages = [s for s in args.stages.split(",") if s]
    load0 = os.getloadavg()
    print(
        f"# gridplan city benchmark  engine={args.engine}  cpus={os.cpu_count()}  "
        f"load average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}"
    )
    rows = []
    for size in sizes:
        g = measure("generate", size, args)
        print(
            f"# {size:,} households: {g.get('household_rows', '?'):,} household points, "
            f"{g.get('communities', '?')} communities, {g.get('buildings', '?'):,} buildings, "
            f"{g.get('facilities', '?')} facilities, {g.get('network_lines', '?'):,} network "
            f"segments (generated/read in {g.get('seconds', float('nan')):.1f} s)",
            flush=True,
        )
        for stage in stages:
            r = measure(stage, size, args)
            r.update(size=size, stage=stage, load1=os.getloadavg()[0])
            rows.append(r)
            _print_row(r, rows)
    print(f"# load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


def _print_row(r, rows):
    prev = [p for p in rows if p["stage"] == r["stage"] and p["size"] < r["size"] and "seconds" in p]
    growth = ""
    if prev and "seconds" in r:
        p = prev[-1]
        growth = (
            f"  x{r['seconds'] / max(p['seconds'], 1e-9):.2f} time, "
            f"x{r['tree_peak_gb'] / max(p['tree_peak_gb'], 1e-9):.2f} mem "
            f"(households x{r['size'] / p['size']:.2f})"
        )
    extra = {
        k: v
        for k, v in r.items()
        if k not in ("size", "stage", "seconds", "maxrss_gb", "tree_peak_gb", "load1")
    }
    secs = f"{r['seconds']:8.2f} s" if "seconds" in r else "       - "
    print(
        f"{r['size']:>9,d}  {r['stage']:15s} {secs}  peak {r['maxrss_gb']:5.2f} GB "
        f"(tree {r['tree_peak_gb']:5.2f} GB)  load {r['load1']:.1f}{growth}  {json.dumps(extra)}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
