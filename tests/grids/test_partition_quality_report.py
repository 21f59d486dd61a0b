"""The report carries the geometry figures of the grid lines (buildings and estates cut, share of
grid lines on features), per community and in total, and the CLI prints them."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely
from test_partition_features import UTM, X0, Y0, _city

from gridplan.cli import main
from gridplan.grids.api import partition

KEYS = ("buildings_cut", "estates_cut", "buildings_split", "boundary_on_features")


def _estates():
    return gpd.GeoDataFrame(
        {"estate_id": ["E1", "E2"]},
        geometry=[shapely.box(X0, Y0, X0 + 190, Y0 + 400), shapely.box(X0 + 240, Y0, X0 + 400, Y0 + 190)],
        crs=UTM,
    ).to_crs(4326)


def test_report_has_geometry_figures_with_features():
    households, comm, buildings, streets = _city(7, 20)
    res = partition(
        households,
        comm,
        buildings=buildings,
        estates=_estates(),
        streets=streets,
        min_households=150,
        max_households=400,
        n_jobs=1,
    )
    t = res.report["total"]
    assert t["buildings_cut"] == 0
    assert t["buildings_split"] == 0
    assert isinstance(t["estates_cut"], int)
    assert 0.0 < t["boundary_on_features"] <= 1.0
    c = res.report["communities"]["C1"]
    for k in KEYS:
        assert c[k] == t[k]
    json.dumps(res.report)


def test_report_figures_are_none_without_features():
    households, comm, _, _ = _city(7, 20)
    res = partition(households, comm, min_households=150, max_households=400, n_jobs=1)
    for k in KEYS:
        assert res.report["total"][k] is None
        assert res.report["communities"]["C1"][k] is None


def test_cli_summary_shows_geometry_figures(tmp_path, capsys):
    households, comm, buildings, streets = _city(7, 20)
    files = {}
    for name, gdf in (
        ("households", households),
        ("communities", comm),
        ("buildings", buildings),
        ("streets", streets),
    ):
        files[name] = tmp_path / f"{name}.geojson"
        gdf.to_file(files[name])
    rc = main(
        [
            "partition",
            "--households",
            str(files["households"]),
            "--communities",
            str(files["communities"]),
            "--buildings",
            str(files["buildings"]),
            "--streets",
            str(files["streets"]),
            "--min",
            "150",
            "--max",
            "400",
            "--jobs",
            "1",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "0 buildings cut" in out
    assert "of grid lines on streets" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["total"]["buildings_cut"] == 0
