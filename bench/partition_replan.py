"""Replanning the sample district after changes: households moved, grids out of band, time.

Scenarios: (a) notebooks/04_scenarios.ipynb: a new estate of three 200-household towers in the
third community; (b) (a) plus the largest estate of the second community demolished; (c) the
unchanged district replanned with another seed (nothing may move). Existing households are
compared row by row (rows keep their order; new rows are appended).

Run: .venv/bin/python bench/partition_replan.py
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.datasets.sample import load_sample
from gridplan.grids.api import partition

ROOT = Path(__file__).resolve().parents[1]
CRS = 32649


def main() -> None:
    s = load_sample()
    ctx = dict(buildings=s["buildings"], estates=s["estates"], barriers=s["barriers"], n_jobs=1)
    before = partition(s["households"], s["communities"], seed=0, **ctx)
    a = before.assignment
    centre = s["communities"].to_crs(CRS).geometry.iloc[2].representative_point()
    towers = gpd.GeoDataFrame(
        {
            "households": [200] * 3,
            "population": [540] * 3,
            "building_id": ["NEW-1", "NEW-2", "NEW-3"],
            "estate_id": "NEW",
        },
        geometry=[shapely.Point(centre.x + dx, centre.y) for dx in (-30.0, 0.0, 30.0)],
        crs=CRS,
    ).to_crs(4326)
    cid = a["grid_id"].str.rsplit("-", n=1).str[0]
    c2 = s["communities"]["community_id"].iloc[1]
    gone = a[cid == c2].groupby("estate_id")["households"].sum().idxmax()
    everyone = np.ones(len(a), dtype=bool)
    scenarios = {
        "a new estate": (everyone, towers, 0),
        "new estate + demolition": ((a["estate_id"] != gone).to_numpy(), towers, 0),
        "unchanged, seed 7": (everyone, towers.iloc[:0], 7),
    }
    print(
        f"before: {len(before.grids)} grids, "
        f"{int((before.grids['status'] == 'over').sum())} over, "
        f"{int((before.grids['status'] == 'under').sum())} under"
    )
    for name, (keep, new, seed) in scenarios.items():
        hh = gpd.GeoDataFrame(pd.concat([s["households"][keep], new], ignore_index=True), crs=4326)
        t = time.perf_counter()
        after = partition(hh, s["communities"], replan=a, seed=seed, **ctx)
        dt = time.perf_counter() - t
        old = a["grid_id"].to_numpy(object)[keep]
        now = after.assignment["grid_id"].to_numpy(object)[: keep.sum()]
        w = hh["households"].to_numpy()[: keep.sum()]
        moved = old != now
        comms = sorted({g.rsplit("-", 1)[0] for g in old[moved]})
        g = after.grids
        print(
            f"{name}: moved {int(w[moved].sum()):,} of {int(w.sum()):,} existing households "
            f"({w[moved].sum() / w.sum():.2%}) in {len(comms)} communities; {len(g)} grids, "
            f"{int((g['status'] == 'over').sum())} over, {int((g['status'] == 'under').sum())} "
            f"under; {dt:.1f} s"
        )


if __name__ == "__main__":
    main()
