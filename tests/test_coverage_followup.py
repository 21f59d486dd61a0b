"""Follow-up on coverage: missing ids under pandas 3, coordinate and far-centre warnings, exact
snapping in Morton order, frontier-pruned isochrones, progress bars."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.geometry.linework import substrings
from gridplan.network.snapping import SnapIndex, morton_order
from gridplan.cli import main
from gridplan.io.coords import wgs84_to_gcj02
from gridplan.access.coverage import _ids, coverage
from gridplan.errors import GridplanWarning
from gridplan.network.isochrones import _reached_pieces, isochrones
from gridplan.network import network_from_lines
from gridplan.norms import walk_metres

from conftest import ROOT

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
    comm = gpd.GeoDataFrame({"community_id": ["W"], "name": ["西"]},
                            geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1)], crs=CRS)
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
    far = gpd.GeoDataFrame({"facility_id": ["FAR"], "name": ["远"], "kind": ["community_centre"]},
                           geometry=[shapely.Point(x1 + 2000, y1 + 2000)], crs=CRS)
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
    shifted = gpd.GeoDataFrame(hh.drop(columns="geometry"), geometry=shapely.points(gx, gy),
                               crs=4326)
    # a network much smaller than the offset shows it: keep the walkways near the true points
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r2 = coverage(shifted, fac, NET, isochrones=False, max_snap_m=30.0,
                      files={"households": "hh.csv"})
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


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 400), st.sampled_from([5.0, 40.0, 120.0]))
def test_snapping_is_exact_whatever_the_order_and_sampling(seed, n, h):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = LATTICE.total_bounds
    xy = np.c_[rng.uniform(x0 - 300, x1 + 300, n), rng.uniform(y0 - 300, y1 + 300, n)]
    idx = SnapIndex(LINES, sample_m=h)
    e, o, d, _ = idx.query(xy, 150.0)
    brute = shapely.distance(shapely.points(xy)[:, None], LINES[None, :]).min(axis=1)
    within = brute <= 150.0
    assert ((e >= 0) == within).all()
    assert np.allclose(d[within], brute[within], atol=1e-6)
    assert np.allclose(shapely.distance(shapely.points(xy[within]), LINES[e[within]]),
                       brute[within], atol=1e-6)
    perm = rng.permutation(n)
    e2, o2, d2, _ = idx.query(xy[perm], 150.0)
    assert np.array_equal(e2, e[perm]) and np.allclose(d2[within[perm]], d[perm][within[perm]])
    order = morton_order(xy)
    assert np.array_equal(np.sort(order), np.arange(n))


def test_isochrones_equal_the_plain_union_of_every_reached_piece():
    fac = netgen.random_facilities(LATTICE, 3, seed=9)
    minutes = (3.0, 6.0, 9.0)
    iso = isochrones(NET, fac, minutes=minutes, buffer_m=20.0)
    # independent: every reached piece of every threshold up to t, buffered, one union
    cut = np.array([walk_metres(m, 4.0) for m in minutes])
    pieces = _reached_pieces(NET, NET.snap(fac), cut)
    buf = shapely.buffer(substrings(LINES[pieces["edge"].to_numpy()], pieces["start"].to_numpy(),
                                    pieces["end"].to_numpy()), 20.0, quad_segs=4)
    for row in iso.itertuples():
        f = fac.index.get_loc(fac.index[fac["facility_id"] == row.facility_id][0])
        ti = minutes.index(row.minutes)
        sel = (pieces["fac"].to_numpy() == f) & (pieces["t"].to_numpy() <= ti)
        want = shapely.union_all(buf[sel])
        # isochrones buffers merged chains of pieces: round joins and caps are approximated by
        # chords of different angles (at most a chord's sagitta apart) and GEOS simplifies a
        # buffered line's input by 1 % of the distance
        tol = 20.0 * (1 - np.cos(np.pi / 16)) + 0.01 * 20.0
        assert shapely.symmetric_difference(row.geometry, want).area < 1e-3 * want.area
        assert want.buffer(tol).contains(row.geometry)
        assert row.geometry.buffer(tol).contains(want)


def test_cli_shows_progress_and_warnings_unless_quiet(tmp_path, capsys, recwarn):
    args = ["coverage", "--households", str(BAD / "hh_good.csv"), "--facilities",
            str(BAD / "fac_far_from_network.geojson"), "--network", str(BAD / "net_good.geojson"),
            "--out"]
    assert main(args + [str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "snapping" in err and "walking network" in err and "isochrones" in err
    # (pytest records warnings instead of printing them; the CLI's filters decide either way)
    assert any("F9 (1,108 m)" in str(w.message) for w in recwarn)
    recwarn.clear()
    assert main(args + [str(tmp_path / "b"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "snapping" not in err and not any("F9" in str(w.message) for w in recwarn)
