"""Coverage reads its service circle from ``norms`` unless the caller says otherwise, and the
households check and coverage share one test for web-map (GCJ-02/BD-09) coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from generators import network as netgen

from gridplan.access.coverage import coverage
from gridplan.io.coords import detect_web_offset
from gridplan.network import network_from_lines
from gridplan.norms import COORDS_SUSPECT_MIN_ROWS, COORDS_SUSPECT_SHARE, DEFAULT_NORMS

LATTICE = netgen.lattice_network(16, 12, seed=11, drop=0.1, parallel=0.1)
NET = network_from_lines(LATTICE)
HH = netgen.random_points(LATTICE, 400, seed=5)
FAC = netgen.random_facilities(LATTICE, 2, seed=6)


def _run(**kw):
    return coverage(HH, FAC, NET, isochrones=False, **kw)


def test_norms_walk_minutes_sets_the_circle():
    ten = _run(norms=DEFAULT_NORMS.with_(walk_minutes=10))
    explicit = _run(minutes=10)
    default = _run()
    assert ten.report["minutes"] == 10.0
    assert ten.report["cutoff_m"] == explicit.report["cutoff_m"] == round(10 * 4000 / 60, 3)
    assert ten.households["covered"].tolist() == explicit.households["covered"].tolist()
    assert ten.summary.equals(explicit.summary)
    # the 10-minute circle really is smaller here: fewer households covered than in 15 minutes
    assert ten.report["households_covered"] < default.report["households_covered"]


def test_norms_speed_and_snap_and_explicit_arguments_win():
    slow = _run(norms=DEFAULT_NORMS.with_(walk_speed_kmh=3.0))
    assert slow.report["speed_kmh"] == 3.0 and slow.report["cutoff_m"] == 750.0
    snap = _run(norms=DEFAULT_NORMS.with_(max_snap_m=5.0))
    assert snap.report["max_snap_m"] == 5.0
    assert snap.report["off_network_rows"] >= _run().report["off_network_rows"]
    # an explicit argument beats the norm
    both = _run(
        minutes=15,
        speed_kmh=4.0,
        max_snap_m=300.0,
        norms=DEFAULT_NORMS.with_(walk_minutes=10, walk_speed_kmh=3.0, max_snap_m=5.0),
    )
    assert both.households["covered"].tolist() == _run().households["covered"].tolist()
    assert (both.report["minutes"], both.report["speed_kmh"], both.report["max_snap_m"]) == (15.0, 4.0, 300.0)


def test_every_norms_field_is_read_somewhere():
    # A Norms field nothing reads is a setting that silently does nothing.
    import dataclasses
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (root / "gridplan").rglob("*.py") if p.name != "norms.py"
    )
    norms_src = (root / "gridplan" / "norms.py").read_text(encoding="utf-8")
    for f in dataclasses.fields(DEFAULT_NORMS):
        used = f".{f.name}" in sources or f"self.{f.name}" in norms_src
        assert used, f"Norms.{f.name} is never read"


def _square_points(n, seed):
    rng = np.random.default_rng(seed)
    return gpd.GeoSeries(
        shapely.points(rng.uniform(114.30, 114.31, n), rng.uniform(30.50, 30.51, n)), crs=4326
    )


def test_web_offset_detector_thresholds():
    pts = _square_points(200, 1)
    nobody = np.zeros(200, dtype=bool)

    def fixed(lon, lat):
        return np.zeros(len(lon), dtype=bool)

    assert detect_web_offset(pts, nobody, fixed) is None
    few = nobody.copy()
    few[: COORDS_SUSPECT_MIN_ROWS - 1] = True  # under the minimum count
    assert detect_web_offset(pts, few, fixed) is None
    under = nobody.copy()
    under[: int(COORDS_SUSPECT_SHARE * 200) - 1] = True  # under the minimum share
    assert detect_web_offset(pts, under, fixed) is None
    many = nobody.copy()
    many[:60] = True
    guess = detect_web_offset(pts, many, fixed)
    assert guess is not None and guess.system == "gcj02" and guess.fixed_share == 1.0

    # a conversion that leaves them misplaced explains nothing
    def unchanged(lon, lat):
        return many.copy()

    assert detect_web_offset(pts, many, unchanged) is None


def test_validate_and_coverage_agree_on_web_offset():
    # Every household is a GCJ-02 point read as WGS-84, but the community reaches a little past
    # the houses, so only about a quarter fall outside it as read: validate's own old rule (more
    # than half outside) missed that while coverage warned. One detector now decides for both.
    import warnings

    from gridplan.errors import GridplanWarning
    from gridplan.io.coords import wgs84_to_gcj02
    from gridplan.io.validate import validate_inputs

    x0, y0, x1, y1 = HH.total_bounds
    comm = gpd.GeoDataFrame(
        {"community_id": ["C"], "name": ["c"]},
        geometry=[shapely.box(x0 - 1, y0 - 200, x1 + 200, y1 + 1)],
        crs=HH.crs,
    ).to_crs(4326)
    xy = shapely.get_coordinates(HH.to_crs(4326).geometry.values.to_numpy())
    gx, gy = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    shifted = gpd.GeoDataFrame(HH.drop(columns="geometry"), geometry=shapely.points(gx, gy), crs=4326)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = coverage(shifted, FAC, NET, isochrones=False, communities=comm)
    outside = r.report["households_outside_communities"] / r.report["households"]
    assert 0.1 < outside < 0.5, outside
    assert any("--coords gcj02" in str(w.message) for w in rec if issubclass(w.category, GridplanWarning))
    codes = [p.code for p in validate_inputs(households=shifted, communities=comm).problems]
    assert "looks_gcj02" in codes
