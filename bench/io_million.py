"""Benchmark: read and validate 1,000,000 household points in 400 communities (GeoParquet).

The data is generated once (deterministic, seed 0) and cached under bench/_cache/. The timed part
runs in a child process so that its peak memory (ru_maxrss, which counts GDAL/Arrow allocations
that tracemalloc misses) is its own.

    .venv/bin/python bench/io_million.py            # target: read + validate under 10 s
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "_cache" / "io_million"
N_POINTS = 1_000_000
GRID = 20  # 20 x 20 = 400 communities
TARGET_S = 10.0


def generate() -> tuple[Path, Path]:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    hh_path, comm_path = CACHE / "households.parquet", CACHE / "communities.parquet"
    if hh_path.exists() and comm_path.exists():
        return hh_path, comm_path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    size = 0.01  # ~1 km communities around Yichang
    x0, y0 = 111.20, 30.60
    ii, jj = np.meshgrid(np.arange(GRID), np.arange(GRID), indexing="ij")
    boxes = shapely.box(
        x0 + ii.ravel() * size,
        y0 + jj.ravel() * size,
        x0 + (ii.ravel() + 1) * size,
        y0 + (jj.ravel() + 1) * size,
    )
    comm = gpd.GeoDataFrame(
        {
            "community_id": [f"C{k:03d}" for k in range(GRID * GRID)],
            "name": [f"社区{k:03d}" for k in range(GRID * GRID)],
        },
        geometry=boxes,
        crs=4326,
    )
    # About 1 % of the points fall outside the district on purpose (rejects).
    x = rng.uniform(x0 - 0.001, x0 + GRID * size + 0.001, N_POINTS)
    y = rng.uniform(y0, y0 + GRID * size, N_POINTS)
    hh = gpd.GeoDataFrame(
        {
            "households": rng.integers(1, 40, N_POINTS),
            "population": rng.integers(1, 100, N_POINTS),
            "building_id": pd.Series(np.char.add("B", np.arange(N_POINTS).astype(str)), dtype="str"),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=4326,
    )
    from gridplan.io import write

    write(hh, hh_path)
    write(comm, comm_path)
    return hh_path, comm_path


def child(hh_path: str, comm_path: str) -> None:
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    from gridplan.io import read_communities, read_households
    from gridplan.io.validate import validate_inputs

    t1 = time.perf_counter()
    hh = read_households(hh_path)
    comm = read_communities(comm_path)
    t2 = time.perf_counter()
    result = validate_inputs(households=hh, communities=comm)
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": round(t1 - t0, 2),
                "read_s": round(t2 - t1, 2),
                "validate_s": round(t3 - t2, 2),
                "read_validate_s": round(t3 - t1, 2),
                "rows": len(hh),
                "households": int(hh["households"].sum()),
                "rejects": int(len(result.rejects)),
                "ok": result.ok,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def main() -> int:
    t = time.perf_counter()
    hh_path, comm_path = generate()
    gen_s = time.perf_counter() - t
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(hh_path), str(comm_path)],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"io_million: {stats['rows']:,} household points, 400 communities "
        f"(data ready in {gen_s:.1f} s, cached in {CACHE})"
    )
    print(f"  read      {stats['read_s']:6.2f} s")
    print(f"  validate  {stats['validate_s']:6.2f} s  ({stats['rejects']:,} rejects, ok={stats['ok']})")
    print(
        f"  total     {stats['read_validate_s']:6.2f} s  (target {TARGET_S:.0f} s: "
        f"{'met' if stats['read_validate_s'] <= TARGET_S else 'MISSED'})"
    )
    print(f"  peak RSS  {stats['peak_rss_mb']:,.0f} MB (child process, ru_maxrss)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
