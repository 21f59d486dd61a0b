"""Realistic variations of real files (tests/data/real_variants/make_variants.py), each run through
``gridplan.cli.main`` in-process.

- "works": the same result as the clean file: the same grids (``partition``: every household
  row in the same grid, every grid with the same households and outline) or the same walking
  time (``coverage``: walk_min within 0.01 m of walking); households conserved.
- "warns": the same, and the warning says what was guessed or looks wrong (the implausible count
  is kept as given, so only its warning and the conservation are checked).
- "error": exit code 2, a message naming the file, the column or rows and the fix, no traceback,
  nothing written.

Made from ../shared/realdata at test time; skipped when it is absent. One clean run per command.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import REALDATA, load_script

from gridplan.cli import main
from gridplan.norms import WALK_SPEED_KMH

variants = load_script("tests/data/real_variants/make_variants.py")
CASES = {c.name: c for c in variants.CASES}
#: 0.01 m of walking, in minutes, plus the 4-decimal rounding of walk_min in the output.
WALK_TOLERANCE_MIN = 0.01 / (WALK_SPEED_KMH * 1000 / 60) + 1e-4


def run(argv: list) -> tuple[int, str]:
    """Exit code and everything the command said (stdout, stderr and its warnings)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("always")
        rc = main([str(a) for a in argv])
    said = "\n".join([out.getvalue(), err.getvalue()] + [str(w.message) for w in caught])
    return rc, said


def command(case, base, files: dict, args: list, out: Path) -> list:
    """The command line of ``case``: its files in place of the clean ones."""
    name = case.command
    if name == "coverage":
        layers = {"households": base.files["hh"], "facilities": base.files["fac"], **files}
        tail = ["--network", base.network, "--no-isochrones"]
    elif name == "validate":
        layers, tail = files, []
    else:
        key = "yc_" if name == "yc_partition" else ""
        layers = {"households": base.files[f"{key}hh"], "communities": base.files[f"{key}comm"], **files}
        name, tail = "partition", ["--jobs", "1"]
    argv = [name]
    for kind, path in layers.items():
        argv += [f"--{kind}", path]
    return argv + tail + ["--out", out] + args


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (only in the developers' workplace)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's note on laundered Shapefile field names
        return variants.make_base(tmp_path_factory.mktemp("real_variants"), REALDATA)


@pytest.fixture(scope="module")
def clean(base, tmp_path_factory):
    """One clean run per command, made when a case first needs it."""
    runs: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in runs:
            out = tmp_path_factory.mktemp(f"clean_{kind}")
            probe = variants.Case("clean", kind, "works", "", lambda b, d: ({}, []))
            rc, said = run(command(probe, base, {}, [], out))
            assert rc == 0, said
            runs[kind] = out
        return runs[kind]

    return get


def _same_grids(got: Path, want: Path) -> None:
    g = gpd.read_file(got / "grids.geojson").sort_values("grid_id", ignore_index=True)
    w = gpd.read_file(want / "grids.geojson").sort_values("grid_id", ignore_index=True)
    # a file with more communities (a whole city's): theirs hold no household
    more = ~g["community_id"].isin(set(w["community_id"]))
    assert (g.loc[more, "households"] == 0).all()
    g = g[~more].reset_index(drop=True)
    assert g["grid_id"].tolist() == w["grid_id"].tolist()
    assert g["households"].tolist() == w["households"].tolist()
    assert g["community_id"].tolist() == w["community_id"].tolist()
    # outlines equal to 1e-6 degrees (10 cm): inputs read back from metres differ by less
    far = shapely.hausdorff_distance(g.geometry.values, w.geometry.values)
    assert (far < 1e-6).all(), np.max(far)
    gh = gpd.read_file(got / "households.geojson")
    wh = gpd.read_file(want / "households.geojson")
    assert gh["grid_id"].tolist() == wh["grid_id"].tolist()
    assert gh["households"].tolist() == wh["households"].tolist()


def _same_walks(got: Path, want: Path, added: tuple) -> None:
    g = gpd.read_file(got / "households.geojson")
    w = gpd.read_file(want / "households.geojson")
    extra = g.iloc[list(added)]
    assert extra["off_network"].all() and extra["walk_min"].isna().all()
    g = g.drop(index=list(added)).reset_index(drop=True)
    assert g["households"].tolist() == w["households"].tolist()
    assert np.allclose(g["walk_min"], w["walk_min"], atol=WALK_TOLERANCE_MIN, rtol=0, equal_nan=True), (
        (g["walk_min"] - w["walk_min"]).abs().max()
    )
    assert g["covered"].tolist() == w["covered"].tolist()
    assert g["nearest_facility_id"].tolist() == w["nearest_facility_id"].tolist()
    report = json.loads((got / "report.json").read_text("utf-8"))
    assert report["households"] == int(w["households"].sum() + extra["households"].sum())


def _conserved(out: Path, want_total: int) -> None:
    grids = gpd.read_file(out / "grids.geojson")
    assert int(grids["households"].sum()) == want_total
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["total"]["households"] == want_total


@pytest.mark.parametrize("name", list(CASES))
def test_variant(name, base, clean, tmp_path):
    case = CASES[name]
    folder = tmp_path / "in"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's note on laundered Shapefile field names
        files, args = case.build(base, folder)
    out = tmp_path / "out"
    rc, said = run(command(case, base, files, args, out))
    assert "Traceback" not in said, said
    for text in case.texts:
        assert text in said, (text, said)
    if case.outcome == "error":
        assert rc == 2, said
        assert "Fix:" in said or "解决办法" in said, said
        assert not out.exists() or not any(out.iterdir())
        return
    assert rc == 0, said
    if case.command == "validate":
        assert (out / "problems.csv").exists()
    elif case.command == "coverage":
        _same_walks(out, clean("coverage"), case.added)
    elif name == "implausible_total_row":
        hh = variants.lonlat_table(base.households)
        _conserved(out, int(hh["households"].sum()) - int(hh.loc[7, "households"]) + 38_000)
    else:
        want = clean(case.command)
        _same_grids(out, want)
        _conserved(out, int(gpd.read_file(want / "grids.geojson")["households"].sum()))


def test_corpus_size_and_outcomes():
    outcomes = [c.outcome for c in variants.CASES]
    assert len(outcomes) >= 40
    assert {"works", "warns", "error"} == set(outcomes)
    assert len({c.name for c in variants.CASES}) == len(outcomes)


def test_amap_centres_converted_to_wgs84_match_the_published_conversion(realdata):
    """The Yichang centres scraped from Amap, read with coords=gcj02, land within 3 m of the
    source project's own WGS-84 conversion."""
    from pyproj import Geod

    from gridplan import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = io.read_facilities(
            realdata / "yichang" / "yichang_party_mass_centres_gcj02.geojson",
            columns={"facility_id": "poi_id"},
            coords="gcj02",
        )
        ref = io.read_facilities(
            realdata / "yichang" / "yichang_party_mass_centres_wgs84.geojson",
            columns={"facility_id": "poi_id"},
        )
    assert got["facility_id"].tolist() == ref["facility_id"].tolist()
    dist = Geod(ellps="WGS84").inv(got.geometry.x, got.geometry.y, ref.geometry.x, ref.geometry.y)[2]
    assert dist.max() < 3.0
