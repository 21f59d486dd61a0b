"""A small synthetic district on a lattice, for export, figure and reconcile tests.

Each community is ``nx`` x ``ny`` square units of ``cell`` metres; a unit holds ``points`` household
points of ``hh_per_point`` households. Grids are blocks of ``grid_cols`` unit columns (all rows), so
every fact about them (households, neighbours, codes) is known in advance.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS_METRIC = "EPSG:32650"  # UTM 50N: Nanjing
ORIGIN = (668000.0, 3548000.0)


def lattice(
    *,
    communities: int = 1,
    nx: int = 10,
    ny: int = 4,
    cell: float = 100.0,
    grid_cols: int = 2,
    points: int = 5,
    hh_per_point: int = 10,
    seed: int = 0,
    street_id: str | None = "S01",
) -> dict[str, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    units, hh = [], []
    comm_rows = []
    for c in range(communities):
        cid = f"C{c + 1:02d}"
        x0 = ORIGIN[0] + c * (nx * cell + 0.0)
        y0 = ORIGIN[1]
        comm_rows.append(
            {
                "community_id": cid,
                "name": f"测试社区{c + 1}",
                "street_id": street_id,
                "street_name": None if street_id is None else "测试街道",
                "geometry": shapely.box(x0, y0, x0 + nx * cell, y0 + ny * cell),
            }
        )
        for i in range(nx):
            for j in range(ny):
                uid = f"{cid}-u{i:02d}{j:02d}"
                grid = f"{cid}-{i // grid_cols + 1:02d}"
                box = shapely.box(x0 + i * cell, y0 + j * cell, x0 + (i + 1) * cell, y0 + (j + 1) * cell)
                units.append(
                    {
                        "unit_id": uid,
                        "community_id": cid,
                        "grid_id": grid,
                        "col": i,
                        "row": j,
                        "households": points * hh_per_point,
                        "geometry": box,
                    }
                )
                xy = rng.uniform(0.1, 0.9, size=(points, 2)) * cell + [x0 + i * cell, y0 + j * cell]
                for k in range(points):
                    hh.append(
                        {
                            "households": hh_per_point,
                            "population": 3 * hh_per_point,
                            "building_id": f"{uid}-b{k}",
                            "unit": uid,
                            "geometry": shapely.Point(*xy[k]),
                        }
                    )
    units = gpd.GeoDataFrame(units, crs=CRS_METRIC)
    households = gpd.GeoDataFrame(hh, crs=CRS_METRIC)
    comms = gpd.GeoDataFrame(comm_rows, crs=CRS_METRIC)
    households["grid_id"] = households["unit"].map(units.set_index("unit_id")["grid_id"])
    grids = grids_from_units(units, households, comms)
    return {
        "units": units.to_crs(4326),
        "households": households.to_crs(4326),
        "communities": comms.to_crs(4326),
        "grids": grids.to_crs(4326),
    }


def grids_from_units(
    units: gpd.GeoDataFrame, households: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Contract grids from a unit -> grid map (what partition would return)."""
    units = units.to_crs(CRS_METRIC)
    g = units.dissolve(by="grid_id", aggfunc={"community_id": "first"}, sort=True).reset_index()
    g["geometry"] = shapely.normalize(g.geometry.values)
    hh = households.groupby("grid_id").agg(
        households=("households", "sum"),
        population=("population", "sum"),
        n_buildings=("building_id", "nunique"),
    )
    g = g.join(hh, on="grid_id")
    info = communities.set_index("community_id")
    g["community_name"] = g["community_id"].map(info["name"]).astype("str")
    g["street_id"] = g["community_id"].map(info["street_id"])
    g["street_name"] = g["community_id"].map(info["street_name"])
    g["n_estates"] = 0
    g["status"] = np.where(g["households"] < 300, "under", np.where(g["households"] > 500, "over", "ok"))
    g["reason"] = pd.array([None if s == "ok" else f"{s} band" for s in g["status"]], dtype="str")
    g["area_m2"] = g.geometry.area
    g["compactness"] = 4 * np.pi * g.geometry.area / g.geometry.length**2
    cols = [
        "grid_id",
        "community_id",
        "community_name",
        "street_id",
        "street_name",
        "households",
        "population",
        "n_buildings",
        "n_estates",
        "status",
        "reason",
        "area_m2",
        "compactness",
        "geometry",
    ]
    return gpd.GeoDataFrame(g[cols], geometry="geometry", crs=CRS_METRIC)
