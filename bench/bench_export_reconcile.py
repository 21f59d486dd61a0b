"""Timings of exports and of reconcile (一张网) on a synthetic district of known shape.

A lattice district (tests/_lattice.py): COMMUNITIES communities of 10 x 4 units, 5 household
points of 10 households per unit, grids of 2 unit columns (400 households). Three department
layers: one moves two units per community to the neighbouring grid, one does the same and merges
two grids, one splits a grid. Prints one line per measurement.

    .venv/bin/python bench/bench_export_reconcile.py [COMMUNITIES]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import shapely  # noqa: E402
from _lattice import CRS_METRIC, lattice  # noqa: E402

from gridplan.report import export  # noqa: E402
from gridplan.report.reconcile import reconcile  # noqa: E402


def department(units, mapping, prefix):
    u = units.to_crs(CRS_METRIC).assign(dept=units["unit_id"].map(mapping))
    d = u.dissolve(by="dept", sort=True).reset_index()
    d["code"] = prefix + d["dept"]
    d["geometry"] = shapely.normalize(d.geometry.values)
    return d[["code", "geometry"]].to_crs(4326)


def main(n: int = 60) -> None:
    t = time.perf_counter()
    d = lattice(communities=n)
    units, hh, grids = d["units"], d["households"], d["grids"]
    print(
        f"district: {n} communities, {len(grids)} grids, {len(units)} units, {len(hh)} household "
        f"points; generated in {time.perf_counter() - t:.1f} s"
    )
    base = dict(zip(units["unit_id"], units["grid_id"]))
    moved = dict(base)
    for uid in units["unit_id"]:
        if uid.endswith(("u0200", "u0201")):
            moved[uid] = uid.split("-u")[0] + "-01"
    merged = {k: (v[:-2] + "45" if v.endswith(("-04", "-05")) else v) for k, v in moved.items()}
    split = {k: (v + "b" if "-u05" in k else v) for k, v in base.items()}
    layers = {
        "综治": department(units, moved, "ZZ-"),
        "城管": department(units, merged, "CG-"),
        "卫健": department(units, split, "WJ-"),
    }

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        export.export(grids, gpkg=tmp / "a.gpkg", communities=d["communities"], households=hh)
        print(f"export GeoPackage (streets, communities, grids, households): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        export.export(grids, xlsx=tmp / "a.xlsx", communities=d["communities"])
        print(f"export Excel report: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        export.export(grids, geojson=tmp / "a.geojson")
        print(f"export GeoJSON grids: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        export.export(grids, png=tmp / "a.png", communities=d["communities"])
        print(f"PNG map of grids: {time.perf_counter() - t:.2f} s")

    t = time.perf_counter()
    r = reconcile(grids, hh, layers, units=units)
    print(
        f"reconcile, 3 departments, partition units: {time.perf_counter() - t:.2f} s; "
        f"{r.report['changes']} units moved (expected {2 * n}), "
        f"{sum(p['disagreeing'] for p in r.report['pairs'] if p['layer'] == 'ours')} "
        f"disagreements of ours (expected {3 * n})"
    )
    t = time.perf_counter()
    r = reconcile(grids, hh, layers)
    print(
        f"reconcile, 3 departments, derived building units: {time.perf_counter() - t:.2f} s; "
        f"{r.report['changes']} units moved (expected {10 * n})"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
