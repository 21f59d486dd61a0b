"""The map export in a real headless Chromium: the planner opens step 5 of the app on the sample,
builds the map PNG and downloads it; the file is a PNG whose legend shows the three
status colours (taken from the legend's artists of a reference map, see tests/_figures.py)."""

from __future__ import annotations

import pytest
from _browser import (
    SHOTS,
    idle,
    offline_page,
    server,  # noqa: F401  (the fixture)
    until,
)
from _figures import missing_status_colours
from _lattice import lattice
from PIL import Image

# a browser test that `make test` runs too (not slow; it skips when chromium is absent)
pytestmark = [pytest.mark.browser]


def test_map_png_download_has_the_legend(server, tmp_path):  # noqa: F811
    from gridplan.report.figures import plot_grids

    with offline_page(server, downloads=True) as page:
        page.goto(f"{server}/export")  # step 5's own address (the grids map is not drawn first)
        idle(page)
        build = page.get_by_role("button", name="生成 grids_map.png")
        download = page.get_by_role("button", name="下载地图（PNG）")
        until(page, build.click, download, timeout_ms=90_000, what="building the map PNG")
        with page.expect_download() as dl:
            download.click()
        assert dl.value.suggested_filename == "grids_map.png"
        path = tmp_path / "grids_map.png"
        dl.value.save_as(path)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "map_export_zh.png"))
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.width == 9 * 150 and img.height >= 4 * 150
    # the swatches of any grid map's legend have the same colours and size
    d = lattice()
    reference = plot_grids(d["grids"], communities=d["communities"])
    assert missing_status_colours(path, reference) == {}
