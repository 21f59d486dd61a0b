"""Siting reads its walk from ``norms`` unless told otherwise; ``seed`` breaks ties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from generators import network as netgen

from gridplan.errors import InputError
from gridplan.network import network_from_lines
from gridplan.norms import DEFAULT_NORMS
from gridplan.siting.api import site

LATTICE = netgen.lattice_network(16, 12, seed=11, drop=0.1, parallel=0.1)
NET = network_from_lines(LATTICE)
HH = netgen.random_points(LATTICE, 400, seed=5)
FAC = netgen.random_facilities(LATTICE, 1, seed=6)


def test_norms_walk_minutes_sets_the_circle():
    ten = site(HH, FAC, NET, add=2, norms=DEFAULT_NORMS.with_(walk_minutes=10))
    explicit = site(HH, FAC, NET, add=2, minutes=10)
    assert ten.report["minutes"] == explicit.report["minutes"] == 10.0
    assert ten.report["cutoff_m"] == explicit.report["cutoff_m"]
    assert ten.sites["candidate_id"].tolist() == explicit.sites["candidate_id"].tolist()
    assert site(HH, FAC, NET, add=2).report["minutes"] == 15.0
    # an explicit argument wins over the norm
    won = site(HH, FAC, NET, add=2, minutes=15, norms=DEFAULT_NORMS.with_(walk_minutes=10))
    assert won.report["minutes"] == 15.0


def test_norms_station_walk_speed_and_snap():
    st = site(
        HH,
        FAC,
        NET,
        add=1,
        kind="station",
        norms=DEFAULT_NORMS.with_(station_walk_minutes=7, walk_speed_kmh=3.0),
    )
    assert st.report["minutes"] == 7.0 and st.report["speed_kmh"] == 3.0
    assert st.report["cutoff_m"] == 350.0
    tight = site(HH, FAC, NET, add=1, norms=DEFAULT_NORMS.with_(max_snap_m=1.0))
    loose = site(HH, FAC, NET, add=1)
    assert tight.report["households_off_network"] > loose.report["households_off_network"]


def _twins():
    """Three user sites: two in the middle of the district (equally good), one in a corner."""
    x0, y0, x1, y1 = LATTICE.total_bounds
    mid = shapely.Point((x0 + x1) / 2, (y0 + y1) / 2)
    return gpd.GeoDataFrame(
        {"candidate_id": ["A", "B", "C"]}, geometry=[mid, mid, shapely.Point(x0 + 20, y0 + 20)], crs=HH.crs
    )


def test_seed_breaks_ties_between_equal_candidates():
    cands = _twins()
    runs = {s: site(HH, None, NET, add=1, candidates=cands, network_nodes=False, seed=s) for s in range(8)}
    first = runs[0]
    assert first.sites["candidate_id"].tolist() == ["A"]  # seed 0: the first of equals
    assert first.report["seed"] == 0
    picked = {r.sites["candidate_id"].iat[0] for r in runs.values()}
    assert picked == {"A", "B"}  # some seed prefers the twin ...
    gains = {float(r.sites["households_gained"].iat[0]) for r in runs.values()}
    assert len(gains) == 1  # ... and the plan is exactly as good
    again = site(HH, None, NET, add=1, candidates=cands, network_nodes=False, seed=5)
    assert again.sites["candidate_id"].tolist() == runs[5].sites["candidate_id"].tolist()
    pd.testing.assert_frame_equal(again.coverage_after, runs[5].coverage_after)


def test_seed_zero_is_the_unshuffled_order_with_capacity():
    cands = _twins().assign(area_m2=[60.0, 60.0, 60.0])
    a = site(HH, None, NET, add=2, capacity=True, candidates=cands, network_nodes=False)
    b = site(HH, None, NET, add=2, capacity=True, candidates=cands, network_nodes=False, seed=3)
    assert np.isclose(a.report["objective"], b.report["objective"])


def test_bad_seed_is_refused():
    with pytest.raises(InputError, match="seed"):
        site(HH, FAC, NET, add=1, seed=-1)
