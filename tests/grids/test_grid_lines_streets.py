"""Ground between an estate's wall and the street goes to the estate's grid, up to the street's
centre line: no grid wraps the streets around another grid's estate (an island, 飞地)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridplan.geometry.quality import enclosed_grids
from gridplan.grids.api import partition

UTM = "EPSG:32649"
X0, Y0 = 300_000.0, 3_390_000.0
STREET_X = 100.0  # the street between the two estates


def _two_estates():
    """Two walled estates of 400 households, 10 m apart across a street, 5 m from the community
    boundary (itself a street), and a loose building of 100 households west of them: the plan
    is the loose building with the west estate, and the east estate alone. The open ground
    outside the estates is one piece of land that first joins the loose building's grid."""
    walls = [shapely.box(X0 + 5, Y0 + 5, X0 + 95, Y0 + 95), shapely.box(X0 + 105, Y0 + 5, X0 + 195, Y0 + 95)]
    fps, bid, eid = [], [], []
    for e, w in enumerate(walls):
        x0, y0 = shapely.bounds(w)[:2]
        for k in range(4):
            fps.append(
                shapely.box(
                    x0 + 10 + 40 * (k % 2),
                    y0 + 10 + 40 * (k // 2),
                    x0 + 40 + 40 * (k % 2),
                    y0 + 30 + 40 * (k // 2),
                )
            )
            bid.append(f"B{e}{k}")
            eid.append(f"E{e}")
    fps.append(shapely.box(X0 - 30, Y0 + 40, X0 - 10, Y0 + 60))
    bid.append("L0")
    eid.append(None)
    buildings = gpd.GeoDataFrame({"building_id": bid, "estate_id": eid}, geometry=fps, crs=UTM)
    households = gpd.GeoDataFrame(
        {"households": [100] * 9, "building_id": bid, "estate_id": eid},
        geometry=shapely.centroid(fps),
        crs=UTM,
    )
    estates = gpd.GeoDataFrame({"estate_id": ["E0", "E1"]}, geometry=walls, crs=UTM)
    box = shapely.box(X0 - 40, Y0, X0 + 200, Y0 + 100)
    comm = gpd.GeoDataFrame({"community_id": ["C1"], "name": ["c"]}, geometry=[box], crs=UTM)
    street = shapely.LineString([(X0 + STREET_X, Y0), (X0 + STREET_X, Y0 + 100)])
    streets = gpd.GeoDataFrame(geometry=[box.exterior, street], crs=UTM)
    return [g.to_crs(4326) for g in (households, comm, buildings, estates, streets)]


def test_the_line_between_two_estates_runs_on_the_street_between_them():
    households, comm, buildings, estates, streets = _two_estates()
    res = partition(households, comm, buildings=buildings, estates=estates, streets=streets, n_jobs=1)
    grids = res.grids.to_crs(UTM)
    assert sorted(grids["households"]) == [400, 500]
    assert not enclosed_grids(grids.geometry.values).any()
    assert res.report["total"]["grids_enclosed"] == 0
    line = shapely.intersection(*shapely.boundary(grids.geometry.values))
    pts = shapely.get_coordinates(shapely.segmentize(line, 1.0))
    assert shapely.length(line) > 90
    assert np.abs(pts[:, 0] - (X0 + STREET_X)).max() < 0.5  # on the street's centre line
    # the east estate's grid holds it and the ground around it up to the street
    east = grids.geometry.values[np.argmin(grids["households"].to_numpy())]
    assert abs(shapely.area(east) - 100 * 100) < 1.0
