"""Fuzzing the siting step: random small districts through :func:`gridplan.siting.api.site`.

The districts (communities, households with strays 1,000 km away, 0-3 facilities of random kinds,
a jittered walking lattice with missing links) come from the strategy of
tests/test_pipeline_fuzz.py. For every draw, ``site(..., add=K)`` for K = 1..3 and
``site(..., target_share=s)`` either return or raise an InputError, never another exception; when
they return, every household row is kept, coverage only grows, the site table adds up to the
report, the certified gap lies in [0, 1] (0 when "optimal"), the claim holds against the LP relaxation
and (up to 12 candidates) brute force, and a second run gives the same sites.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from _cover_ref import check_recorded, recorded_solves
from conftest import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_pipeline_fuzz import districts

from gridplan.errors import InputError
from gridplan.network import load_network
from gridplan.siting.api import site

SETTINGS = settings(
    max_examples=examples(20),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _households(d: dict) -> gpd.GeoDataFrame:
    hh = d["households"]
    return gpd.GeoDataFrame(
        hh.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(hh.lon, hh.lat), crs=4326
    )


def _site(*args, **kwargs):
    """site(), or None when it refuses the input with an InputError (any other exception fails).

    The solver's claim is checked against facts computed apart from gridplan
    (tests/_cover_ref.py): the LP relaxation, and brute force when there are at most 12
    candidates, so that "optimal" is the optimum and the bound is never below it.
    """
    with warnings.catch_warnings(), recorded_solves() as calls:
        warnings.simplefilter("ignore")
        try:
            result = site(*args, **kwargs)
        except InputError:
            return None
    assert check_recorded(calls) == 1
    sol = calls[0][3]
    r = result.report
    assert (r["objective"], r["bound"], r["gap"], r["status"]) == (
        float(sol.objective),
        float(sol.bound),
        float(sol.gap),
        sol.status,
    )
    event("brute force" if calls[0][1][0].shape[1] <= 12 else "LP only")
    return result


def _check(result, hh: gpd.GeoDataFrame, weights: np.ndarray, *, add=None, target=None) -> None:
    r = result.report
    out = result.households
    # every household row, same order, same counts
    assert len(out) == len(hh)
    assert out.index.equals(hh.index)
    assert out.geometry.geom_equals_exact(hh.geometry, tolerance=0).all()
    if "households" in hh.columns:
        assert out["households"].tolist() == hh["households"].tolist()
    assert r["households_total"] == int(weights.sum())

    # coverage only grows, household by household and in total
    before = out["covered_before"].to_numpy(bool)
    after = out["covered_after"].to_numpy(bool)
    eligible = out["eligible"].to_numpy(bool)
    assert not (before & ~after).any()
    cov_before = int(weights[eligible & before].sum())
    cov_after = int(weights[eligible & after].sum())
    assert r["households_covered_before"] == cov_before
    assert r["households_covered_after"] == cov_after
    assert cov_after >= cov_before
    assert r["households_eligible"] == int(weights[eligible].sum())
    # newly covered rows were demand rows and name a chosen site; the others name none
    new = after & ~before
    assert out["demand"].to_numpy(bool)[new].all()
    assert out["new_site"].notna().to_numpy().tolist() == new.tolist()
    assert set(out.loc[new, "new_site"]) <= set(result.sites["candidate_id"])
    table = result.coverage_after.set_index("level").loc[["all"]].iloc[0]
    assert table["households_covered_before"] == cov_before
    assert table["households_covered_after"] == cov_after
    assert (
        result.coverage_after["households_covered_after"]
        >= result.coverage_after["households_covered_before"]
    ).all()

    # the site table adds up to the report
    sites = result.sites
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    assert sites["candidate_id"].is_unique
    gained = sites["households_gained"].to_numpy(float)
    assert (gained >= 0).all()
    assert gained.sum() == cov_after - cov_before
    cum = sites["cumulative_share_covered"].to_numpy(float)
    assert (np.diff(cum) >= 0).all()
    if len(sites):
        assert sites["cumulative_households_covered"].iat[-1] == cov_after
    assert r["sites"] == len(sites)
    if add is not None:
        assert len(sites) <= add
        # Maximal covering: the objective is the households gained over the baseline.
        assert math.isclose(r["objective"], cov_after - cov_before)
    if target is not None and r["households_eligible"]:
        assert cov_after >= math.ceil(target * r["households_eligible"] - 1e-9)

    # the certified gap
    assert 0.0 <= r["gap"] <= 1.0
    assert r["status"] in ("optimal", "feasible")
    if r["status"] == "optimal":
        assert r["gap"] == 0.0
    event(f"status {r['status']}")
    event("some household gained" if cov_after > cov_before else "nothing gained")


def _same_sites(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()


@SETTINGS
@given(districts(), st.sampled_from([0.5, 0.8, 0.95, 1.0]))
def test_site_keeps_every_household(d, target):
    hh = _households(d)
    weights = (
        hh["households"].to_numpy(np.int64)
        if "households" in hh.columns
        else np.ones(len(hh), dtype=np.int64)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            net = load_network(d["network"])
        except InputError:
            event("network refused")
            return
    fac = d["facilities"]
    for k in (1, 2, 3):
        result = _site(hh, fac, net, add=k)
        if result is None:
            event(f"add={k}: input error")
            continue
        _check(result, hh, weights, add=k)
        if k == 3:  # determinism: a second run on the same input, a freshly loaded network
            again = _site(hh, fac, load_network(d["network"]), add=k)
            _same_sites(result.sites, again.sites)
            assert again.report["objective"] == result.report["objective"]
    result = _site(hh, fac, net, target_share=target)
    if result is None:
        event("target: input error")
        return
    event("target: sited")
    _check(result, hh, weights, target=target)
    again = _site(hh, fac, net, target_share=target)
    _same_sites(result.sites, again.sites)
