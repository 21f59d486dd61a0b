"""gridplan.io.validate: invariants over random inputs (hypothesis) and comparison with independent
computations (plain coordinate arithmetic for point-in-rectangle, pyproj distances)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.errors import InputError
from gridplan.io.coords import wgs84_to_gcj02
from gridplan.io.validate import validate_inputs

X0, Y0 = 111.28, 30.70


def _tiles(nx, ny, size=0.004, gap=0.0):
    boxes, ids = [], []
    for i in range(nx):
        for j in range(ny):
            boxes.append(
                shapely.box(
                    X0 + i * size + gap, Y0 + j * size + gap, X0 + (i + 1) * size, Y0 + (j + 1) * size
                )
            )
            ids.append(f"C{i}{j}")
    return gpd.GeoDataFrame({"community_id": ids, "name": ids}, geometry=boxes, crs=4326)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nx=st.integers(1, 4),
    ny=st.integers(1, 3),
    gap=st.sampled_from([0.0, 0.0005]),
    seed=st.integers(0, 10_000),
    n=st.integers(1, 200),
)
def test_every_household_assigned_once_or_rejected(nx, ny, gap, seed, n):
    comm = _tiles(nx, ny, gap=gap)
    rng = np.random.default_rng(seed)
    size = 0.004
    x = rng.uniform(X0 - 0.002, X0 + nx * size + 0.002, n)
    y = rng.uniform(Y0 - 0.002, Y0 + ny * size + 0.002, n)
    hh = gpd.GeoDataFrame({"households": rng.integers(1, 50, n)}, geometry=gpd.points_from_xy(x, y), crs=4326)
    r = validate_inputs(households=hh, communities=comm)
    # Independent: which tile a point is in, by arithmetic on the tile grid.
    i = np.floor((x - X0) / size).astype(int)
    j = np.floor((y - Y0) / size).astype(int)
    fx = (x - X0) - i * size
    fy = (y - Y0) - j * size
    inside = (i >= 0) & (i < nx) & (j >= 0) & (j < ny) & (fx >= gap) & (fy >= gap)
    expected = np.where(inside, [f"C{a}{b}" for a, b in zip(i, j)], None)
    if not inside.any():
        assert not r.ok and r.errors[0].code == "all_outside"
        return
    assert r.ok, r.to_text()
    got = r.frames["households"]
    assert len(got) == n  # nothing dropped
    assert got["households"].tolist() == hh["households"].tolist()
    assert [v if isinstance(v, str) else None for v in got["community_id"]] == list(expected)
    assert r.rejects["row"].tolist() == np.flatnonzero(~inside).tolist()
    assigned = got.loc[got["community_id"].notna(), "households"].sum()
    assert assigned + r.rejects["households"].sum() == hh["households"].sum()


def test_overlap_goes_to_nearest_representative_point_then_lowest_id():
    a = shapely.box(X0, Y0, X0 + 0.010, Y0 + 0.010)
    b = shapely.box(X0 + 0.006, Y0, X0 + 0.016, Y0 + 0.010)
    comm = gpd.GeoDataFrame({"community_id": ["B", "A"]}, geometry=[b, a], crs=4326)
    xs = np.array([X0 + 0.0065, X0 + 0.0095, X0 + 0.008])
    hh = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, [Y0 + 0.005] * 3), crs=4326)
    r = validate_inputs(households=hh, communities=comm)
    overlap = next(p for p in r.problems if p.code == "communities_overlap")
    # Independent overlap area: 0.004 deg x 0.010 deg in metres via pyproj's geodesic area.
    from pyproj import Geod

    area = abs(Geod(ellps="WGS84").geometry_area_perimeter(a.intersection(b))[0])
    import re

    reported = float(re.search(r"([\d,]+) m² in all", overlap.message).group(1).replace(",", ""))
    # UTM's scale factor (0.9996) makes projected areas ~0.1 % smaller than geodesic ones.
    assert reported == pytest.approx(area, rel=2e-3)
    # Point 0 is nearer A's centre, point 1 nearer B's; point 2 is equidistant -> lowest id A.
    assert r.frames["households"]["community_id"].tolist() == ["A", "B", "A"]


def test_gcj02_points_declared_wgs84_are_detected():
    comm = _tiles(3, 3, size=0.003)
    rng = np.random.default_rng(1)
    x = rng.uniform(X0 + 0.0005, X0 + 0.0085, 300)
    y = rng.uniform(Y0 + 0.0005, Y0 + 0.0085, 300)
    gx, gy = wgs84_to_gcj02(x, y)
    hh = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx, gy), crs=4326)
    r = validate_inputs(households=hh, communities=comm)
    codes = [p.code for p in r.problems]
    assert "looks_gcj02" in codes
    honest = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    assert "looks_gcj02" not in [
        p.code for p in validate_inputs(households=honest, communities=comm).problems
    ]


def test_result_api_text_frame_and_raise():
    comm = _tiles(1, 1)
    hh = gpd.GeoDataFrame(
        {"households": [3, 0, -1]}, geometry=gpd.points_from_xy([X0 + 0.001] * 3, [Y0 + 0.001] * 3), crs=4326
    )
    r = validate_inputs(households=hh, communities=comm, names={"households": "住户.csv"})
    assert not r.ok
    table = r.to_frame()
    assert table.loc[0, "code"] == "non_positive" and table.loc[0, "n_rows"] == 2
    assert "住户.csv" in r.to_text() and "错误" in r.to_text("zh")
    with pytest.raises(InputError) as exc:
        r.raise_if_errors()
    assert exc.value.rows == [1, 2] and exc.value.file == "住户.csv"
    assert "至少" in exc.value.localized("zh")
    with pytest.raises(InputError):
        validate_inputs(households=[1, 2])


def test_invalid_community_is_repaired_and_households_keep_their_order():
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 0.01, Y0 + 0.01), (X0 + 0.01, Y0), (X0, Y0 + 0.01)])
    comm = gpd.GeoDataFrame({"community_id": [1]}, geometry=[bowtie], crs=4326)
    hh = gpd.GeoDataFrame(
        {"households": [5, 6], "community_id": [None, None]},
        geometry=gpd.points_from_xy([X0 + 0.008, X0 + 0.005], [Y0 + 0.005, Y0 + 0.009]),
        crs=4326,
    )
    r = validate_inputs(households=hh, communities=comm)
    assert [p.code for p in r.problems][:1] == ["invalid_geometry"]
    assert r.frames["communities"].is_valid.all()
    assert r.frames["communities"]["community_id"].tolist() == ["1"]
    assert r.frames["households"]["community_id"].tolist()[0] == "1"
    assert r.rejects["row"].tolist() == [1]


def test_given_community_id_wins_and_unknown_ids_are_errors():
    comm = _tiles(2, 1)
    pts = gpd.points_from_xy([X0 + 0.001, X0 + 0.005, X0 + 0.006], [Y0 + 0.001] * 3)
    hh = gpd.GeoDataFrame({"community_id": ["C10", None, None]}, geometry=pts, crs=4326)
    r = validate_inputs(households=hh, communities=comm)
    assert r.ok and r.frames["households"]["community_id"].tolist() == ["C10", "C10", "C10"]
    bad = hh.assign(community_id=["X9", None, None])
    r = validate_inputs(households=bad, communities=comm)
    assert not r.ok and r.errors[0].code == "unknown_community_id" and r.errors[0].rows == [0]
