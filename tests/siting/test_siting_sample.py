"""Siting on the sample district, checked against gridplan.access.coverage run independently.

The claim of a siting run ("these sites cover N more households") must be what the coverage
analysis measures once the sites exist: the sites are added as facilities and coverage() is
re-run on the same network.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _cover_ref import check_recorded, recorded_solves

from gridplan.errors import GridplanWarning, InputError

MINUTES = 8.0  # short enough that the sample has real gaps to fill


@pytest.fixture(scope="module")
def sample(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.network import load_network

    d = load_sample()
    d["net"] = load_network(d["network"])
    return d


def _site_checked(*args, **kwargs):
    """site(), with the solver's claim checked against the LP relaxation (tests/_cover_ref.py)
    and the report carrying exactly that claim."""
    from gridplan.siting.api import site

    with recorded_solves() as calls:
        r = site(*args, **kwargs)
    assert check_recorded(calls) == 1
    sol = calls[0][3]
    for key in ("objective", "bound", "gap"):
        assert r.report[key] == pytest.approx(float(getattr(sol, key)), abs=1e-9), key
    assert r.report["status"] == sol.status
    return r


def _with_sites(facilities, sites, kind="community_centre"):
    new = sites.assign(facility_id=sites["candidate_id"], kind=kind)[["facility_id", "kind", "geometry"]]
    return pd.concat([facilities, new], ignore_index=True)


def test_claimed_gain_is_what_coverage_measures(sample):
    from gridplan.access.coverage import coverage

    r = _site_checked(sample["households"], sample["facilities"], sample["net"], add=3, minutes=MINUTES)
    assert len(r.sites) == 3 and r.sites.crs.to_epsg() == 4326
    before = coverage(
        sample["households"], sample["facilities"], sample["net"], minutes=MINUTES, isochrones=False
    )
    after = coverage(
        sample["households"],
        _with_sites(sample["facilities"], r.sites),
        sample["net"],
        minutes=MINUTES,
        isochrones=False,
    )
    assert r.report["households_covered_before"] == before.report["households_covered"]
    assert r.report["households_covered_after"] == after.report["households_covered"]
    gained = after.report["households_covered"] - before.report["households_covered"]
    assert gained == r.sites["households_gained"].sum() == r.report["objective"] > 0
    # household by household, and rank by rank
    assert np.array_equal(r.households["covered_after"].to_numpy(), after.households["covered"].to_numpy())
    for k in range(1, 4):
        part = coverage(
            sample["households"],
            _with_sites(sample["facilities"], r.sites.iloc[:k]),
            sample["net"],
            minutes=MINUTES,
            isochrones=False,
        )
        assert part.report["households_covered"] == r.sites["cumulative_households_covered"].iloc[k - 1]
    total = before.report["households"]
    assert r.sites["cumulative_share_covered"].iloc[-1] == pytest.approx(
        after.report["households_covered"] / total, abs=1e-6
    )


def test_target_share_uses_fewest_sites(sample):
    from gridplan.access.coverage import coverage

    r = _site_checked(
        sample["households"], sample["facilities"], sample["net"], target_share=0.9, minutes=MINUTES
    )
    assert r.report["status"] == "optimal"  # proven: no fewer sites reach the target
    after = coverage(
        sample["households"],
        _with_sites(sample["facilities"], r.sites),
        sample["net"],
        minutes=MINUTES,
        isochrones=False,
    )
    assert after.report["share_covered"] >= 0.9
    # by the proof, the first p-1 ranked sites must fall short
    short = coverage(
        sample["households"],
        _with_sites(sample["facilities"], r.sites.iloc[:-1]),
        sample["net"],
        minutes=MINUTES,
        isochrones=False,
    )
    assert short.report["share_covered"] < 0.9


def test_stations_go_to_grids_no_centre_covers(sample):
    from gridplan.access.coverage import coverage
    from gridplan.siting.api import site

    grids = sample["communities"].assign(grid_id=sample["communities"]["community_id"])
    centre_min = 4.0
    r = site(
        sample["households"],
        sample["facilities"],
        sample["net"],
        add=2,
        kind="station",
        grids=grids,
        centre_minutes=centre_min,
    )
    assert r.report["minutes"] == 10.0  # the station walk from standards
    # independent: grids with zero households within 4 minutes of a centre
    cov = coverage(
        sample["households"],
        sample["facilities"],
        sample["net"],
        grids=grids,
        minutes=centre_min,
        isochrones=False,
    )
    per_grid = (
        cov.households.assign(c=cov.households["households"] * cov.households["covered"])
        .groupby("grid_id")["c"]
        .sum()
    )
    zero = sorted(per_grid.index[per_grid == 0])
    assert zero and r.report["station_grids"] == zero
    eligible = cov.households["grid_id"].isin(zero).to_numpy()
    assert np.array_equal(r.households["eligible"].to_numpy(), eligible)
    # the gain, measured with every facility kind at the station walk, on the eligible rows
    kinds = ("street_centre", "community_centre", "station")
    after = coverage(
        sample["households"],
        _with_sites(sample["facilities"], r.sites, "station"),
        sample["net"],
        minutes=10.0,
        kinds=kinds,
        isochrones=False,
    )
    before = coverage(
        sample["households"], sample["facilities"], sample["net"], minutes=10.0, kinds=kinds, isochrones=False
    )
    w = sample["households"]["households"].to_numpy()
    gained = (w * (after.households["covered"].to_numpy() & eligible)).sum() - (
        w * (before.households["covered"].to_numpy() & eligible)
    ).sum()
    assert gained == r.report["objective"] == r.sites["households_gained"].sum()


def test_capacity_caps_what_each_site_serves(sample):
    from gridplan.siting.api import site

    r = _site_checked(
        sample["households"],
        sample["facilities"],
        sample["net"],
        add=2,
        minutes=MINUTES,
        capacity=True,
        new_site_area_m2=60.0,
    )  # 60 m2: 200 households
    assert (r.sites["capacity_households"] == 200).all()
    assert (r.sites["households_gained"] <= 200 + 1e-9).all()
    assert r.report["objective"] == pytest.approx(r.sites["households_gained"].sum())
    free = site(sample["households"], sample["facilities"], sample["net"], add=2, minutes=MINUTES)
    # served within capacity never exceeds plain coverage
    assert r.report["households_covered_before"] <= free.report["households_covered_before"]


def test_user_candidates_only(sample):
    from gridplan.siting.api import site

    pts = sample["households"].iloc[[0, 300, 600]].geometry
    far = gpd.GeoSeries.from_xy([pts.x.iloc[0] + 0.2], [pts.y.iloc[0]], crs=4326)  # ~19 km away
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["A", "B", "C", "FAR"], "name": ["空铺"] * 4},
        geometry=pd.concat([pts, far]).values,
        crs=4326,
    )
    with pytest.warns(GridplanWarning, match="FAR"):
        r = site(
            sample["households"],
            sample["facilities"],
            sample["net"],
            add=2,
            minutes=MINUTES,
            candidates=cands,
            network_nodes=False,
        )
    assert set(r.sites["candidate_id"]) <= {"A", "B", "C"}
    assert (r.sites["source"] == "user").all()
    assert r.report["candidates"]["off_network"] == ["FAR"]


def test_bad_requests_are_clear(sample):
    from gridplan.siting.api import site

    hh, fac, net = sample["households"], sample["facilities"], sample["net"]
    with pytest.raises(InputError, match="exactly one"):
        site(hh, fac, net, add=2, target_share=0.9)
    with pytest.raises(InputError, match="capacity"):
        site(hh, fac, net, target_share=0.9, capacity=True)
    bad = hh.copy()
    bad.loc[bad.index[5], "households"] = 0
    with pytest.raises(InputError) as err:
        site(bad, fac, net, add=1)
    assert err.value.column == "households" and err.value.rows == [5]
    with pytest.raises(InputError, match="cannot be reached"):
        site(hh, fac, net, target_share=1.0, minutes=3.0)


def test_cli_writes_the_same_bytes_twice(sample_dir, tmp_path):
    from gridplan.cli import main

    args = [
        "site",
        "--households",
        str(sample_dir / "households" / "households.geojson"),
        "--facilities",
        str(sample_dir / "facilities" / "facilities.geojson"),
        "--network",
        str(sample_dir / "network" / "walk.geojson"),
        "--add",
        "2",
        "--minutes",
        str(MINUTES),
        "-q",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridplanWarning)
        assert main(args + ["--out", str(tmp_path / "a")]) == 0
        assert main(args + ["--out", str(tmp_path / "b")]) == 0
    for name in ("sites.geojson", "coverage_after.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    ra, rb = (json.loads((tmp_path / d / "report.json").read_text("utf-8")) for d in "ab")
    ra.pop("times_s"), rb.pop("times_s")
    assert ra == rb and ra["sites"] == 2
    sites = gpd.read_file(tmp_path / "a" / "sites.geojson")
    assert list(sites["rank"]) == [1, 2]
    # bad input: exit code 2 and nothing written
    assert main(args[:-3] + ["--minutes", "-1", "-q", "--out", str(tmp_path / "c")]) == 2
    assert not (tmp_path / "c" / "sites.geojson").exists()


@pytest.mark.realdata
def test_real_osm_network_gain_matches_coverage(realdata):
    """Nanjing Xinjiekou (real OSM): households estimated from buildings, two existing centres,
    a 5-minute circle so that most households are uncovered."""
    from gridplan.access.coverage import coverage
    from gridplan.network import load_network
    from gridplan.prepare.buildings import buildings_from_osm, households_from_buildings
    from gridplan.siting.api import site

    pbf = realdata / "nanjing" / "nanjing_xinjiekou.osm.pbf"
    if not pbf.exists():
        pytest.skip(f"{pbf} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridplanWarning)
        hh = households_from_buildings(buildings_from_osm(pbf))
    hh = hh[hh["households"] >= 1].reset_index(drop=True)
    hh = hh.set_geometry(hh.geometry.representative_point())
    net = load_network(pbf)
    fac = gpd.GeoDataFrame(
        {"facility_id": ["A", "B"], "kind": "community_centre"},
        geometry=hh.geometry.iloc[[0, len(hh) // 2]].values,
        crs=hh.crs,
    )
    r = site(hh, fac, net, add=3, minutes=5.0)
    assert len(r.sites) == 3 and r.report["status"] in ("optimal", "feasible")
    after = coverage(hh, _with_sites(fac, r.sites), net, minutes=5.0, isochrones=False)
    assert after.report["households_covered"] == r.report["households_covered_after"]
    assert r.report["objective"] == r.sites["households_gained"].sum() > 0
