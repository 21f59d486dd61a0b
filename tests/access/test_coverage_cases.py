"""Follow-up on coverage: missing ids under pandas 3, coordinate and far-centre warnings, exact
snapping in Morton order, frontier-pruned isochrones, progress bars."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _isoref import graph_of, isochrone_reference
from conftest import ROOT, examples
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.access.coverage import _ids, coverage
from gridplan.cli import main
from gridplan.errors import GridplanWarning
from gridplan.io.coords import wgs84_to_gcj02
from gridplan.network import network_from_lines
from gridplan.network.isochrones import isochrones
from gridplan.network.snapping import SnapIndex, morton_order
from gridplan.norms import walk_metres

CRS = "EPSG:32650"
BAD = ROOT / "tests" / "data" / "bad"


from generators import network as netgen  # noqa: E402

LATTICE = netgen.lattice_network(16, 12, seed=11, drop=0.1, parallel=0.1)
NET = network_from_lines(LATTICE)
LINES = NET.edges.geometry.values.to_numpy()


def test_missing_ids_stay_missing_under_pandas3():
    s = pd.Series(["C1", None, np.nan, pd.NA, 7], dtype=object)
    assert _ids(s).tolist() == ["C1", None, None, None, "7"]
    assert _ids(pd.Series(["a", None], dtype="str")).tolist() == ["a", None]


def test_households_outside_communities_are_counted_not_named_nan():
    hh = netgen.random_points(LATTICE, 300, seed=5)
    fac = netgen.random_facilities(LATTICE, 3, seed=6)
    x0, y0, x1, y1 = LATTICE.total_bounds
    comm = gpd.GeoDataFrame(
        {"community_id": ["W"], "name": ["西"]}, geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1)], crs=CRS
    )
    r = coverage(hh, fac, NET, communities=comm, isochrones=False)
    west = shapely.get_x(hh.geometry.values.to_numpy()) <= (x0 + x1) / 2
    outside = int(hh["households"].to_numpy()[~west].sum())
    assert r.report["households_outside_communities"] == outside
    com = r.summary[r.summary["level"] == "community"]
    assert "nan" not in set(com["id"].astype(str))
    assert int(com.loc[com["id"] == "W", "households"].iat[0]) == int(hh["households"][west].sum())
    assert int(com.loc[com["id"].isna(), "households"].iat[0]) == outside


def _wgs(gdf):
    return gdf.to_crs(4326)


def test_far_centre_and_gcj02_points_warn_with_ids_rows_and_fix():
    hh = _wgs(netgen.random_points(LATTICE, 200, seed=7))
    fac = netgen.random_facilities(LATTICE, 2, seed=8)
    x0, y0, x1, y1 = LATTICE.total_bounds
    far = gpd.GeoDataFrame(
        {"facility_id": ["FAR"], "name": ["远"], "kind": ["community_centre"]},
        geometry=[shapely.Point(x1 + 2000, y1 + 2000)],
        crs=CRS,
    )
    fac = pd.concat([fac, far], ignore_index=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = coverage(hh, fac, NET, isochrones=False, files={"facilities": "fac.geojson"})
    text = [str(w.message) for w in rec if issubclass(w.category, GridplanWarning)]
    assert any("fac.geojson" in t and "FAR (" in t for t in text), text
    # correct WGS-84 points: no coordinate warning
    assert not any("--coords" in t and "households" in t for t in text), text
    assert r.report["facilities_off_network"] == ["FAR"]
    # the same points as Amap would give them (GCJ-02), read as WGS-84: warned, nothing dropped
    xy = shapely.get_coordinates(hh.geometry.values.to_numpy())
    gx, gy = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    shifted = gpd.GeoDataFrame(hh.drop(columns="geometry"), geometry=shapely.points(gx, gy), crs=4326)
    # a network much smaller than the offset shows it: keep the walkways near the true points
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r2 = coverage(shifted, fac, NET, isochrones=False, max_snap_m=30.0, files={"households": "hh.csv"})
    text = [str(w.message) for w in rec]
    off_share = r2.report["off_network_rows"] / len(hh)
    assert off_share >= 0.1
    assert any("hh.csv" in t and "--coords gcj02" in t for t in text), (off_share, text)
    assert len(r2.households) == len(hh)


def test_snap_index_without_enough_samples_and_beyond_the_bound():
    # one 10 m edge: 2 samples, fewer than the k asked for; a point farther than max_snap
    idx = SnapIndex(shapely.from_wkt(["LINESTRING (0 0, 10 0)"]))
    e, o, d, q = idx.query(np.array([[5.0, 3.0], [500.0, 0.0], [-4.0, -3.0]]), 100.0)
    assert e.tolist() == [0, -1, 0]
    assert np.allclose(d[[0, 2]], [3.0, 5.0]) and np.isnan(d[1])
    assert np.allclose(o[[0, 2]], [5.0, 0.0]) and np.allclose(q[0], [5.0, 0.0])


def _check_offsets(pts, lines, offset, snapped_xy, dist) -> None:
    """Offsets along the chosen edges against shapely's ``line_locate_point``."""
    ref = shapely.line_locate_point(lines, pts)
    at = shapely.line_interpolate_point(lines, offset)
    # the snapped location is the point at that offset, at the snapping distance
    assert np.allclose(shapely.get_coordinates(at), snapped_xy, atol=1e-6)
    assert np.allclose(shapely.distance(at, pts), dist, atol=1e-6)
    assert ((offset >= -1e-9) & (offset <= shapely.length(lines) + 1e-9)).all()
    # and it is shapely's projection, but for points equally near two stretches of one edge
    # (where both offsets pass the distance test above): about none of random points
    differ = ~np.isclose(offset, ref, atol=1e-6)
    assert differ.sum() <= len(pts) // 100, np.c_[offset, ref][differ]


def test_snap_offsets_on_bent_and_parallel_edges():
    """Points beside the bent middle vertex of north-south links and beside parallel detours:
    the offset is the distance along the polyline from its start, as shapely measures it."""
    rng = np.random.default_rng(3)
    bent = LINES[shapely.get_num_coordinates(LINES) >= 3]
    assert len(bent) > 20
    mid = shapely.get_coordinates(shapely.get_point(bent, 1))
    xy = np.repeat(mid, 4, axis=0) + rng.normal(0.0, 6.0, (4 * len(mid), 2))
    e, o, d, q = SnapIndex(LINES).query(xy, 60.0)
    ok = e >= 0
    assert ok.mean() > 0.99
    pts = shapely.points(xy[ok])
    assert np.allclose(d[ok], shapely.distance(pts[:, None], LINES[None, :]).min(axis=1), atol=1e-6)
    _check_offsets(pts, LINES[e[ok]], o[ok], q[ok], d[ok])


@settings(max_examples=examples(25), deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 400), st.sampled_from([5.0, 40.0, 120.0]))
def test_snapping_is_exact_whatever_the_order_and_sampling(seed, n, h):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = LATTICE.total_bounds
    xy = np.c_[rng.uniform(x0 - 300, x1 + 300, n), rng.uniform(y0 - 300, y1 + 300, n)]
    idx = SnapIndex(LINES, sample_m=h)
    e, o, d, q = idx.query(xy, 150.0)
    pts = shapely.points(xy)
    brute = shapely.distance(pts[:, None], LINES[None, :]).min(axis=1)
    within = brute <= 150.0
    assert ((e >= 0) == within).all()
    assert np.isnan(o[~within]).all() and np.isnan(q[~within]).all()
    assert np.allclose(d[within], brute[within], atol=1e-6)
    assert np.allclose(shapely.distance(pts[within], LINES[e[within]]), brute[within], atol=1e-6)
    # the offset, independently: shapely projects the point on the chosen edge; where a point is
    # equally near two stretches of one edge shapely may pick the other, at the same distance
    _check_offsets(pts[within], LINES[e[within]], o[within], q[within], brute[within])
    perm = rng.permutation(n)
    e2, o2, d2, q2 = idx.query(xy[perm], 150.0)
    assert np.array_equal(e2, e[perm]) and np.allclose(d2[within[perm]], d[perm][within[perm]])
    assert np.array_equal(o2[within[perm]], o[perm][within[perm]])
    assert np.array_equal(q2[within[perm]], q[perm][within[perm]])
    order = morton_order(xy)
    assert np.array_equal(np.sort(order), np.arange(n))


@pytest.mark.parametrize("seed", [9, 21])
def test_isochrones_equal_the_walkways_networkx_reaches(seed):
    """Every polygon against the reference of tests/_isoref.py (shapely snapping, NetworkX
    distances, shapely substrings, nothing of gridplan.network): the same area, each inside the
    other grown by the buffer's approximation error, and the same verdict on sample points."""
    # and a facility 185 m below the lattice: 15 m of its 3-minute walk are left on its own edge,
    # not enough to reach either end
    x0, y0, x1, y1 = LATTICE.total_bounds
    low = int(np.argmin(shapely.get_y(shapely.centroid(LINES)) + 1e6 * (shapely.length(LINES) < 60)))
    mid = shapely.line_interpolate_point(LINES[low], 0.5, normalized=True)
    far = gpd.GeoDataFrame(
        {"facility_id": ["FAR"], "name": ["远"], "kind": ["community_centre"]},
        geometry=[shapely.Point(mid.x, y0 - 185.0)],
        crs=CRS,
    )
    fac = pd.concat([netgen.random_facilities(LATTICE, 3, seed=seed), far], ignore_index=True)
    minutes = (3.0, 6.0, 9.0)
    buffer_m = 20.0
    iso = isochrones(NET, fac, minutes=minutes, buffer_m=buffer_m)
    assert len(iso) == len(fac) * len(minutes)
    graph = graph_of(NET.edges)
    fac_pts = fac.to_crs(NET.crs).geometry.to_numpy()
    # Round joins and caps are chords: GEOS splits an arc into round(angle / 22.5 deg) chords at
    # quad_segs=4, so one chord spans up to 33.75 deg (sagitta r (1 - cos(3 pi / 32))), and it
    # simplifies a buffered line's input by 1 % of the distance.
    tol = buffer_m * (1 - np.cos(3 * np.pi / 32)) + 0.01 * buffer_m
    rng = np.random.default_rng(seed)
    for row in iso.itertuples():
        f = int(np.flatnonzero(fac["facility_id"].to_numpy() == row.facility_id)[0])
        want = isochrone_reference(NET.edges, graph, fac_pts[f], walk_metres(row.minutes, 4.0), buffer_m)
        got = row.geometry
        # the two outlines are at most tol apart: the areas differ by at most perimeter x tol
        assert shapely.symmetric_difference(got, want).area < tol * want.length
        assert abs(got.area - want.area) < 0.5 * tol * want.length
        assert want.buffer(tol).contains(got)
        assert got.buffer(tol).contains(want)
        # membership of points around the polygon, away from the boundary's tolerance band
        x0, y0, x1, y1 = want.buffer(3 * buffer_m).bounds
        pts = shapely.points(rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400))
        inner, outer = want.buffer(-tol), want.buffer(tol)
        sure_in = shapely.contains(inner, pts)
        sure_out = ~shapely.intersects(outer, pts)
        assert sure_in.any() and sure_out.any()
        assert shapely.contains(got, pts[sure_in]).all()
        assert not shapely.intersects(got, pts[sure_out]).any()


def test_cli_shows_progress_and_warnings_unless_quiet(tmp_path, capsys, recwarn):
    args = [
        "coverage",
        "--households",
        str(BAD / "hh_good.csv"),
        "--facilities",
        str(BAD / "fac_far_from_network.geojson"),
        "--network",
        str(BAD / "net_good.geojson"),
        "--out",
    ]
    assert main(args + [str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "snapping" in err and "walking network" in err and "isochrones" in err
    # (pytest records warnings instead of printing them; the CLI's filters decide either way)
    assert any("F9 (1,108 m)" in str(w.message) for w in recwarn)
    recwarn.clear()
    assert main(args + [str(tmp_path / "b"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "snapping" not in err and not any("F9" in str(w.message) for w in recwarn)
