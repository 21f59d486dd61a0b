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


def test_area_figures_add_up_the_communities_counting_a_building_once():
    # two square communities side by side; C1 holds two grids, C2 one. Footprint A straddles the
    # community line (cut, seen from both communities), B is cut by C1's inner grid line, C is
    # whole: the area counts 2 cut buildings, and its share of lines on features is the
    # communities' metres added up
    import geopandas as gpd
    import numpy as np
    import shapely

    from gridplan.geometry.quality import boundary_lengths
    from gridplan.grids.quality_report import partition_quality

    crs = "EPSG:32649"
    c1, c2 = shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)
    comm = gpd.GeoDataFrame({"community_id": ["C1", "C2"]}, geometry=[c1, c2], crs=crs)
    grids = gpd.GeoDataFrame(
        {"grid_id": ["C1-01", "C1-02", "C2-01"], "community_id": ["C1", "C1", "C2"]},
        geometry=[shapely.box(0, 0, 50, 100), shapely.box(50, 0, 100, 100), c2],
        crs=crs,
    )
    fp = gpd.GeoDataFrame(
        {"building_id": ["A", "B", "C"]},
        geometry=[shapely.box(95, 40, 105, 50), shapely.box(45, 10, 55, 20), shapely.box(120, 20, 130, 30)],
        crs=crs,
    )
    street = gpd.GeoDataFrame(geometry=[shapely.LineString([(52, 0), (52, 60)])], crs=crs)
    total, per = partition_quality(
        grids,
        comm,
        crs,
        buildings=fp,
        estates=None,
        streets=street,
        barriers=None,
        estate=None,
        grid_of=np.array([]),
        split=[],
    )
    assert per["C1"]["buildings_cut"] == 2 and per["C2"]["buildings_cut"] == 1
    assert total["buildings_cut"] == 2 and total["buildings_cut_ids"] == ["A", "B"]
    on, length = boundary_lengths(grids.geometry, comm.geometry, [street.geometry, fp.geometry])
    assert 99.0 <= length <= 100.0  # C1's inner line, less half a metre at each community edge
    assert total["boundary_on_features"] == round(on / length, 4) == per["C1"]["boundary_on_features"]
