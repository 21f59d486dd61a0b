"""Invariants of the 15-minute circle on many random inputs (hypothesis)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from conftest import examples
from generators import network as netgen  # noqa: E402
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.access.coverage import coverage
from gridplan.network import network_from_lines
from gridplan.network.isochrones import isochrones

LINES = netgen.lattice_network(12, 10, seed=5, drop=0.15, parallel=0.1)
NET = network_from_lines(LINES)
X0, Y0, X1, Y1 = LINES.total_bounds
SETTINGS = settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

coords = st.tuples(st.floats(X0 - 300, X1 + 300), st.floats(Y0 - 300, Y1 + 300))


def _households(points, counts):
    xy = np.asarray(points, dtype=float)
    return gpd.GeoDataFrame(
        {"households": counts, "community_id": np.where(xy[:, 0] < (X0 + X1) / 2, "west", "east")},
        geometry=shapely.points(xy),
        crs=NET.crs,
    )


def _facilities(points):
    return gpd.GeoDataFrame(
        {"facility_id": [f"F{i}" for i in range(len(points))], "kind": "community_centre"},
        geometry=shapely.points(np.asarray(points, dtype=float).reshape(-1, 2)),
        crs=NET.crs,
    )


households_st = st.lists(st.tuples(coords, st.integers(1, 60)), min_size=1, max_size=60)


@SETTINGS
@given(hh=households_st, fac=st.lists(coords, min_size=1, max_size=5), extra=coords, minutes=st.floats(2, 20))
def test_adding_a_centre_never_lowers_coverage(hh, fac, extra, minutes):
    h = _households([p for p, _ in hh], [c for _, c in hh])
    before = coverage(h, _facilities(fac), NET, minutes=minutes, isochrones=False).households
    after = coverage(h, _facilities(fac + [extra]), NET, minutes=minutes, isochrones=False).households
    assert (after["covered"] >= before["covered"]).all()
    b, a = before["walk_min"].to_numpy(), after["walk_min"].to_numpy()
    reach = np.isfinite(b)
    assert (a[reach] <= b[reach] + 1e-9).all()


@SETTINGS
@given(hh=households_st, fac=st.lists(coords, min_size=1, max_size=5), speed=st.floats(2, 6))
def test_doubling_speed_never_lowers_coverage(hh, fac, speed):
    h = _households([p for p, _ in hh], [c for _, c in hh])
    f = _facilities(fac)
    slow = coverage(h, f, NET, speed_kmh=speed, isochrones=False)
    fast = coverage(h, f, NET, speed_kmh=2 * speed, isochrones=False)
    assert (fast.households["covered"] >= slow.households["covered"]).all()
    assert fast.report["households_covered"] >= slow.report["households_covered"]


@SETTINGS
@given(hh=households_st, fac=st.lists(coords, min_size=0, max_size=4))
def test_households_are_conserved(hh, fac):
    h = _households([p for p, _ in hh], [c for _, c in hh])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = coverage(h, _facilities(fac), NET, isochrones=False)
    assert len(r.households) == len(h)
    assert (r.households.index == h.index).all()
    total = int(h["households"].sum())
    s = r.summary
    assert s.loc[s["level"] == "all", "households"].item() == total
    comm = s[s["level"] == "community"].set_index("id")["households"]
    for cid, n in h.groupby("community_id")["households"].sum().items():
        assert comm[cid] == n
    # every household is covered, uncovered-on-network, or off the network: nothing dropped
    off = r.households["off_network"].to_numpy()
    cov = r.households["covered"].to_numpy()
    assert not (off & cov).any()
    w = h["households"].to_numpy()
    assert w[cov].sum() + w[~cov & ~off].sum() + w[off].sum() == total


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fac=st.lists(coords, min_size=1, max_size=3),
    minutes=st.lists(st.floats(1, 20), min_size=2, max_size=4, unique=True),
)
def test_isochrones_are_nested(fac, minutes):
    iso = isochrones(NET, _facilities(fac), minutes=minutes, max_snap_m=300.0)
    for _fid, g in iso.groupby("facility_id"):
        g = g.sort_values("minutes")
        geoms = g.geometry.to_numpy()
        for small, big in zip(geoms[:-1], geoms[1:]):
            assert shapely.difference(small, big).area < 1e-6
