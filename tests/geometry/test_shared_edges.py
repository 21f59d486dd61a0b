"""Segment matching of one noding (shared_edges, edge_share_near) against the exact
intersection of boundaries; the grid-line share of many grids against the overlay; the produced
building sides kept only where they reach a line."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridplan.geometry.adjacency import boundary_share_near, edge_share_near, shared_boundaries, shared_edges
from gridplan.geometry.featurecells import SETBACK_M, SIDE_RAY_M, side_rays
from gridplan.geometry.quality import ON_FEATURE_M, boundary_on_features

CRS = "EPSG:32650"


def _faces(seed: int) -> np.ndarray:
    """Faces of one noding: Voronoi edges, random streets and a box, polygonized."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, 300, 200)
    vor = shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 300, (40, 2))), only_edges=True)
    streets = shapely.linestrings(rng.uniform(-20, 320, (12, 2, 2)))
    noded = shapely.union_all(np.r_[[shapely.boundary(box), vor], streets], grid_size=1e-4)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return faces[shapely.contains(box, shapely.point_on_surface(faces))]


def test_shared_edges_equal_the_intersection_of_boundaries():
    for seed in range(3):
        faces = _faces(seed)
        e = shared_edges(faces)
        i, j, length, shared = shared_boundaries(faces, lines=True)
        order = np.lexsort((j, i))
        assert len(e.i) == len(i) > 50
        assert (e.i == i[order]).all() and (e.j == j[order]).all()
        assert np.allclose(e.length, length[order], rtol=0, atol=1e-9)
        street = np.array([shapely.LineString([(0, 30), (300, 170)])])
        got = edge_share_near(e, street, ON_FEATURE_M, 2.0)
        want = boundary_share_near(shared[order], length[order], street, ON_FEATURE_M, 2.0)
        assert np.allclose(got, want, atol=1e-9)
        assert (got > 0).any() and (got < 1).any()


def test_boundary_on_features_of_many_grids_equals_the_overlay():
    faces = _faces(7)
    community = shapely.box(0, 0, 300, 200)
    street = shapely.LineString([(0, 30), (300, 170)])
    got = boundary_on_features(
        gpd.GeoSeries(faces, crs=CRS), gpd.GeoSeries([community], crs=CRS), [gpd.GeoSeries([street], crs=CRS)]
    )
    inner = shapely.difference(
        shapely.union_all(shapely.boundary(faces)), shapely.buffer(shapely.boundary(community), 0.5)
    )
    near = shapely.buffer(street, ON_FEATURE_M, quad_segs=32)
    want = shapely.length(shapely.intersection(inner, near)) / shapely.length(inner)
    assert 0.02 < want < 0.5
    # pieces of at most 1 m counted by their midpoints: a metre at most at each end of every
    # stretch near the street
    assert abs(got - want) < 0.01, (got, want)


def test_side_rays_stop_on_the_first_line_they_reach():
    a = shapely.box(0, 0, 20, 10)
    street = shapely.LineString([(-50, 18), (70, 18)])  # 8 m above the building
    ring = shapely.boundary(shapely.buffer(a, SETBACK_M, quad_segs=2))
    every = shapely.get_parts(side_rays([a]))
    assert len(every) == 8
    assert np.allclose(shapely.length(every), SIDE_RAY_M)
    kept = shapely.get_parts(side_rays([a], (np.array([street]), ring)))
    # only the two short sides produced upward reach the street, 8 m away
    assert len(kept) == 2
    assert np.allclose(shapely.length(kept), 8.0)
    assert np.allclose(shapely.get_coordinates(kept)[:, 1].max(), 18.0)


def test_side_rays_are_kept_where_footprints_touch():
    left, right = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
    ring = shapely.boundary(shapely.buffer(shapely.union(left, right), SETBACK_M, quad_segs=2))
    kept = shapely.get_parts(side_rays([left, right], (np.empty(0, dtype=object), ring)))
    # the common wall produced both ways, from each of the two footprints, whole
    xy = shapely.get_coordinates(kept).reshape(-1, 2, 2)
    wall = (xy[:, :, 0] == 10.0).all(axis=1)
    assert wall.sum() == 4
    assert np.allclose(shapely.length(kept[wall]), SIDE_RAY_M)
    # the outer corners reach no line: their sides are not produced
    assert not (np.abs(xy[:, 0, 0] - 10.0) > 1e-9).any()
