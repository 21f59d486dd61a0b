"""`make demo`'s summary: the grid-line figures it prints are those of the grids it wrote,
measured again here from the written files."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from gridplan.datasets.sample import load_sample
from gridplan.geometry.quality import geometry_quality


@pytest.mark.slow
def test_the_demo_summary_says_how_the_grid_lines_fit(tmp_path):
    from gridplan.demo import run_demo

    run_demo(tmp_path, quiet=True)
    shown = {r["figure"]: r["value"] for r in json.loads((tmp_path / "summary.json").read_text("utf-8"))}
    report = json.loads((tmp_path / "grids" / "report.json").read_text("utf-8"))["total"]
    assert shown["buildings / estates cut by grid lines"] == "0 / 0"
    assert shown["grid lines on streets, walls, outlines"] == f"{report['boundary_on_features']:.1%}"
    # the written grids against the sample's footprints, measured outside the partition
    s = load_sample()
    grids = gpd.read_file(tmp_path / "grids" / "grids.geojson")
    crs = grids.estimate_utm_crs()
    hh = gpd.read_file(tmp_path / "grids" / "households.geojson")
    split = hh.loc[hh["grid_parts"].notna(), "building_id"].astype(str).tolist() if "grid_parts" in hh else []
    q = geometry_quality(
        grids.to_crs(crs),
        s["communities"].to_crs(crs),
        buildings=s["buildings"].to_crs(crs),
        split_buildings=split,
    )
    assert q["buildings_cut"] == 0, q["buildings_cut_ids"]
