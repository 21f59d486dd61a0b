"""engine="dask" gives the same files as the local engine, byte for byte.

One LocalCluster of 2 worker processes (1 thread each) serves the whole module. The inputs are a
small city from tests/generators/city.py (4 communities, about 600 buildings, a 10,000-segment walking
network), cut into several coverage tiles so that tiles, halos and the re-search of households
beyond the halo are all exercised.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan import io
from gridplan.errors import InputError
from gridplan.parallel import engine

pytestmark = pytest.mark.slow


def _citygen():
    from generators import city

    return city


@pytest.fixture(scope="module")
def city():
    return _citygen().make_city(12_000, seed=3)


@pytest.fixture(scope="module")
def client():
    with engine.dask_client() as c:
        yield c


@pytest.fixture(scope="module")
def net(city):
    from gridplan.network import load_network

    return load_network(city["network"])


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _write_partition(res, folder: Path) -> None:
    folder.mkdir()
    io.write(res.grids, folder / "grids.geojson")
    io.write(res.assignment, folder / "households.geojson")
    io.write(res.units, folder / "units.geojson")
    report = json.loads(json.dumps(res.report))
    report["total"].pop("run_seconds", None)  # wall time: the one field that differs per run
    (folder / "report.json").write_text(json.dumps(report, sort_keys=True, indent=1))


def test_partition_dask_files_identical(city, client, tmp_path):
    kw = dict(buildings=city["buildings"], estates=city["estates"], barriers=city["barriers"], seed=0)
    local = engine.partition(city["households"], city["communities"], engine="local", n_jobs=1, **kw)
    dask = engine.partition(city["households"], city["communities"], engine="dask", scheduler=client, **kw)
    _write_partition(local, tmp_path / "local")
    _write_partition(dask, tmp_path / "dask")
    a, b = _files(tmp_path / "local"), _files(tmp_path / "dask")
    assert sorted(a) == ["grids.geojson", "households.geojson", "report.json", "units.geojson"]
    for name in a:
        assert a[name] == b[name], name
    # a real partition happened: every household row assigned, totals kept
    assert local.assignment["grid_id"].notna().all()
    assert int(local.grids["households"].sum()) == int(city["households"]["households"].sum())
    assert local.grids["community_id"].nunique() == len(city["communities"])


def test_coverage_dask_files_identical(city, net, client, tmp_path):
    from gridplan.access.coverage import write_coverage

    kw = dict(communities=city["communities"], kinds=("street_centre", "community_centre"), thresholds=(15,))
    local = engine.coverage(city["households"], city["facilities"], net, engine="local", **kw)
    # small tiles and a halo shorter than many walks: several tiles, and households beyond the
    # halo are searched again on the whole network
    dask = engine.coverage(
        city["households"],
        city["facilities"],
        net,
        engine="dask",
        scheduler=client,
        tile_m=500.0,
        halo_m=250.0,
        **kw,
    )
    write_coverage(local, tmp_path / "local")
    write_coverage(dask, tmp_path / "dask")
    a, b = _files(tmp_path / "local"), _files(tmp_path / "dask")
    assert {"households.geojson", "isochrones.geojson", "report.json"} <= set(a)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name
    assert len(local.isochrones) > 0
    walk = local.households["walk_min"].to_numpy(dtype=float)
    assert np.nanmax(walk) * 4000 / 60 > 250.0  # some walks longer than the halo were re-searched


@pytest.fixture(scope="module")
def snapped(city, net):
    """Households and facilities snapped once, the unlimited search and the NetworkX graph."""
    from gridplan.network import WalkNetwork

    hh = net.snap(city["households"], max_snap_m=300.0)
    fac = net.snap(city["facilities"], max_snap_m=300.0)
    return {"hh": hh, "fac": fac, "free": WalkNetwork.nearest(net, fac, hh), "graph": net.to_graph()}


def _expected_tiles(hh, tile: float) -> int:
    """Squares of the grid of side ``tile`` (lines at multiples of it) that hold a snapped
    household: only tiles with targets are made."""
    pts = hh.geometry.to_numpy()
    xy = shapely.get_coordinates(pts[~shapely.is_missing(pts)])
    return len(np.unique(np.floor(xy / tile), axis=0))


def _reference_distance(g, row, f) -> float:
    """Walking distance household -> facility by NetworkX from both ends of both edges."""
    import networkx as nx

    d_u = nx.single_source_dijkstra_path_length(g, int(row["u"]), weight="length")
    d_v = nx.single_source_dijkstra_path_length(g, int(row["v"]), weight="length")
    ref = (
        min(
            d_u.get(int(f["u"]), np.inf) + f["offset_m"],
            d_u.get(int(f["v"]), np.inf) + f["length_m"] - f["offset_m"],
        )
        + row["offset_m"]
    )
    ref = min(
        ref,
        min(
            d_v.get(int(f["u"]), np.inf) + f["offset_m"],
            d_v.get(int(f["v"]), np.inf) + f["length_m"] - f["offset_m"],
        )
        + row["length_m"]
        - row["offset_m"],
    )
    if row["edge"] == f["edge"]:
        ref = min(ref, abs(row["offset_m"] - f["offset_m"]))
    return ref + row["snap_m"] + f["snap_m"]


@settings(
    max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tile=st.floats(200.0, 2000.0),
    halo=st.floats(50.0, 600.0),
    limit=st.sampled_from([math.inf, 300.0, 900.0]),
)
def test_tiled_nearest_equals_whole_network(net, client, snapped, tile, halo, limit):
    """Any tile size, halo and search limit: the tiled search returns the whole network's."""
    from gridplan.network import WalkNetwork

    hh, fac = snapped["hh"], snapped["fac"]
    whole = WalkNetwork.nearest(net, fac, hh, limit_m=limit)
    dnet = engine.DaskWalkNetwork.wrap(net, client, tile_m=tile, halo_m=halo)
    tiled = dnet.nearest(fac, hh, limit_m=limit)
    pd.testing.assert_frame_equal(whole, tiled, check_exact=True)
    # the households were cut into the tiles of the extent, with the halo asked for
    rep = dnet.report_tiles
    assert rep["tiles"] == _expected_tiles(hh, tile)
    assert rep["tile_m"] == tile and rep["halo_m"] == min(halo, limit)
    if tile < 500.0:
        assert rep["tiles"] > 4  # the test city is about 1.1 km square
    # exactly the households whose walk is longer than the halo are searched again
    free = snapped["free"]
    beyond = (hh["edge"].to_numpy() >= 0) & ~(
        free["dist_m"].to_numpy() - hh["snap_m"].to_numpy() <= min(halo, limit)
    )
    assert rep["searched_again"] == int(beyond.sum())
    # and the distances agree with an independent search (networkx) for a few households
    rng = np.random.default_rng(int(tile))
    for i in rng.choice(len(hh), 3, replace=False):
        row = hh.iloc[i]
        if row["edge"] < 0 or not np.isfinite(tiled["dist_m"].iat[i]):
            continue
        f = fac.iloc[int(tiled["source"].iat[i])]
        ref = _reference_distance(snapped["graph"], row, f)
        assert tiled["dist_m"].iat[i] == pytest.approx(ref, abs=1e-6)


def test_unknown_engine_is_an_input_error(city):
    with pytest.raises(InputError, match="unknown engine"):
        engine.partition(city["households"], city["communities"], engine="spark")


def test_cli_engine_dask_writes_the_same_files(sample_dir, tmp_path):
    """`gridplan partition|coverage --engine dask` on the sample: the same files as local."""
    from gridplan.cli import main

    common = ["--households", str(sample_dir / "households" / "households.geojson")]
    part = [
        "partition",
        *common,
        "--communities",
        str(sample_dir / "boundaries" / "communities.geojson"),
        "--estates",
        str(sample_dir / "estates" / "estates.geojson"),
        "-q",
    ]
    for which in ("local", "dask"):
        assert main([*part, "--engine", which, "--out", str(tmp_path / f"p_{which}")]) == 0
        cov = [
            "coverage",
            "--households",
            str(tmp_path / f"p_{which}" / "households.geojson"),
            "--facilities",
            str(sample_dir / "facilities" / "facilities.geojson"),
            "--network",
            str(sample_dir / "network" / "walk.geojson"),
            "-q",
        ]
        assert main([*cov, "--engine", which, "--out", str(tmp_path / f"c_{which}")]) == 0
    for kind in ("p", "c"):
        a, b = tmp_path / f"{kind}_local", tmp_path / f"{kind}_dask"
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir()) and names
        for name in names:
            if name == "report.json":
                # wall-clock times differ between any two runs; everything else must not
                ra, rb = (json.loads((d / name).read_text(encoding="utf-8")) for d in (a, b))
                assert _untimed(ra) == _untimed(rb), name
            else:
                assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _untimed(d: dict) -> dict:
    """A report without its wall-clock entries (keys naming time or seconds), at every level."""
    return {
        k: _untimed(v) if isinstance(v, dict) else v
        for k, v in d.items()
        if "time" not in k and "seconds" not in k
    }
