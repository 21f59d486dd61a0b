"""Independent checks of the DESIGN.md partition invariants (used by several partition tests).

Nothing here reuses gridplan's own adjacency or graph code: contiguity is re-derived from the unit
polygons with shapely and networkx, tiling from areas of overlays.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

REL_TOL = 1e-6
_CRS: dict = {}


def metric_crs(gdf):
    """The UTM CRS of ``gdf`` (cached: the PROJ lookup is slow)."""
    key = tuple(np.round(gdf.to_crs(4326).total_bounds, 3))
    if key not in _CRS:
        _CRS[key] = gdf.estimate_utm_crs()
    return _CRS[key]


def check_invariants(res, households: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                     lo: int, hi: int, *, allow_search_failed: bool = False) -> dict:
    """Assert every invariant; returns a few counts for the caller's own assertions."""
    crs = metric_crs(communities)
    grids = res.grids.to_crs(crs)
    asg = res.assignment
    # 1. every household row assigned exactly once, same rows and order, totals conserved
    assert len(asg) == len(households)
    assert asg.index.equals(households.index)
    assert asg["grid_id"].notna().all()
    hh = households["households"].to_numpy() if "households" in households else np.ones(len(households))
    assert grids["grid_id"].is_unique
    per_grid = asg.assign(_h=hh).groupby("grid_id")["_h"].sum()
    g_h = grids.set_index("grid_id")["households"]
    assert set(per_grid.index) <= set(g_h.index)
    assert (g_h.reindex(per_grid.index) == per_grid).all()
    assert int(g_h.sum()) == int(hh.sum())
    # households per community: the grid's community must contain (or be next to) the point
    comm_m = communities.to_crs(crs).set_index("community_id")
    gcomm = grids.set_index("grid_id")["community_id"]
    hh_comm = gcomm.reindex(asg["grid_id"]).to_numpy()
    pts = households.to_crs(crs).geometry.values
    dist = shapely.distance(pts, comm_m.geometry.reindex(hh_comm).values)
    assert (dist <= 50.0 + 1e-6).all()
    for cid, g in grids.groupby("community_id"):
        assert int(g["households"].sum()) == int(hh[hh_comm == cid].sum())
    # 2. grids inside their community, tiling it
    for cid, g in grids.groupby("community_id"):
        poly = comm_m.geometry[cid]
        geoms = g.geometry.values
        a = poly.area
        union = shapely.union_all(geoms)
        assert abs(union.area - a) <= REL_TOL * a, (cid, union.area, a)
        assert abs(shapely.area(geoms).sum() - union.area) <= REL_TOL * a  # no overlaps
        assert shapely.difference(union, poly).area <= REL_TOL * a
        multipart_comm = shapely.get_type_id(poly) == 6
        if not multipart_comm:
            # 3. one Polygon each
            assert (shapely.get_type_id(geoms) == 3).all(), (cid, shapely.get_type_id(geoms))
    # 3. units of a grid connected (shared boundary of positive length)
    units = res.units.to_crs(crs)
    for gid, u in units.groupby("grid_id"):
        geoms = u.geometry.values
        if len(geoms) <= 1:
            continue
        graph = nx.Graph()
        graph.add_nodes_from(range(len(geoms)))
        bnd = shapely.boundary(geoms)
        for i in range(len(geoms)):
            shared = shapely.length(shapely.intersection(bnd[i], bnd[i + 1:]))
            for j in np.flatnonzero(shared > 1e-6):
                graph.add_edge(i, i + 1 + j)
        assert nx.is_connected(graph), gid
    # 4. bounds or a true reason
    counts = {"no_contiguous_split": 0, "search_failed": 0}
    comm_total = {cid: int(hh[hh_comm == cid].sum()) for cid in comm_m.index}
    bld = households["building_id"].astype(object).to_numpy() if "building_id" in households else None
    for row in grids.itertuples():
        in_band = lo <= row.households <= hi
        assert row.status == ("ok" if in_band else ("under" if row.households < lo else "over"))
        if in_band:
            assert row.reason is None or (isinstance(row.reason, float) and math.isnan(row.reason))
            continue
        code, _, detail = str(row.reason).partition(":")
        if code == "no_households":
            assert row.households == 0 and comm_total[row.community_id] == 0
        elif code == "community_below_min":
            assert comm_total[row.community_id] < lo
        elif code == "unit_over_max":
            rows = np.flatnonzero(asg["grid_id"].to_numpy() == row.grid_id)
            assert row.households > hi
            if bld is not None and not any(b is None or b != b for b in bld[rows]):
                assert len(set(bld[rows])) == 1
            else:
                xy = np.round(shapely.get_coordinates(pts[rows]))
                assert len(np.unique(xy, axis=0)) == 1
        elif code == "part_below_min":
            assert row.households < lo
        elif code == "band_empty":
            total = int(detail.split()[0])
            assert math.ceil(total / hi) > total // lo
        elif code == "kept":
            pass
        elif code in counts:
            counts[code] += 1
        else:
            raise AssertionError(f"unknown reason {row.reason!r}")
    if not allow_search_failed:
        assert counts["search_failed"] == 0, counts
    return counts
