"""The local pool hands arrays of geometries to its workers packed as WKB: what a worker
receives must be what was sent, bit for bit, of every geometry type."""

from __future__ import annotations

import numpy as np
import shapely

from gridplan.grids.pool import local_mapper


def _echo(task: dict) -> dict:
    """What the worker received, as it received it (with its types)."""
    return {k: (type(v).__name__, getattr(v, "dtype", None), v) for k, v in task.items()}


def _rows(task: dict) -> dict:
    """Rows with geometries, as a planner returns its grids."""
    return {
        "grids": [{"grid_id": f"g{i}", "geometry": g} for i, g in enumerate(task["lines"])],
        "n": task["n"],
    }


def _geometries() -> np.ndarray:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 1e6, (6, 2)) + 0.123456789
    square = shapely.box(0, 0, 10, 10)
    return np.array(
        [
            shapely.linestrings(xy[:3]),
            shapely.multilinestrings([shapely.linestrings(xy[:2]), shapely.linestrings(xy[3:])]),
            shapely.difference(square, shapely.box(2, 2, 4, 4)),  # a hole
            shapely.union(square, shapely.box(20, 20, 30, 30)),
            shapely.points(xy[0]),
            shapely.LineString(),  # empty
            shapely.Polygon(),
        ],
        dtype=object,
    )


def test_arrays_of_geometries_reach_the_workers_unchanged():
    geoms = _geometries()
    tasks = [
        {"hh": np.arange(k + 1), "lines": geoms, "ids": np.array(["a", None], dtype=object), "n": k}
        for k in range(4)
    ]
    with local_mapper(2, len(tasks)) as mapper:
        got = list(mapper(_echo, tasks))
    for k, r in enumerate(got):
        kind, dtype, lines = r["lines"]
        assert kind == "ndarray" and dtype == np.dtype(object)
        assert (shapely.get_type_id(lines) == shapely.get_type_id(geoms)).all()
        assert shapely.equals_exact(lines, geoms, tolerance=0).all()
        assert (shapely.to_wkb(lines) == shapely.to_wkb(geoms)).all()
        assert r["ids"][2].tolist() == ["a", None]  # not geometries: sent as they are
        assert r["n"][2] == k


def test_rows_with_geometries_come_back_unchanged():
    geoms = _geometries()
    tasks = [{"lines": geoms, "n": k} for k in range(3)]
    with local_mapper(2, len(tasks)) as mapper:
        got = list(mapper(_rows, tasks))
    for k, r in enumerate(got):
        assert r["n"] == k
        assert [g["grid_id"] for g in r["grids"]] == [f"g{i}" for i in range(len(geoms))]
        back = np.array([g["geometry"] for g in r["grids"]], dtype=object)
        assert (shapely.to_wkb(back) == shapely.to_wkb(geoms)).all()
