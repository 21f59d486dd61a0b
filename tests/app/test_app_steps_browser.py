"""Every step of the app in a real headless Chromium, as a planner goes through them on the sample:
each page draws its own content (the data layers, the grids map, the coverage figures and map,
the recommended sites, the export buttons, the saved proposals) with no error and no traceback.

The screenshots go to out/screenshots/steps/; with ``GRIDPLAN_SCREENSHOT=1`` they are also copied
to docs/app/ for the README (taken with a CJK font installed, e.g. Debian's fonts-noto-cjk).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from _browser import ROOT, SHOTS, idle, map_frame, offline_page, server, step, until  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STEPS = SHOTS / "steps"


def _shot(page, name: str) -> None:
    STEPS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # tiles are blocked; let Leaflet settle the vector layers
    page.screenshot(path=str(STEPS / f"{name}.png"), full_page=False)


def _no_error(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_every_step_draws_its_content(server):  # noqa: F811
    from playwright.sync_api import expect

    with offline_page(server, timeout_ms=120_000) as page:
        page.goto(server)
        map_frame(page)
        idle(page)

        step(page, "1 数据")
        expect(page.get_by_role("heading", name="已载入图层")).to_be_visible()
        expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
        _no_error(page)
        _shot(page, "1_data")

        step(page, "2 网格")
        frame = map_frame(page)
        assert frame.locator("path.leaflet-interactive").count() > 50
        expect(page.locator('[data-testid="stMetric"]').filter(has_text="网格数")).to_be_visible()
        # a grid chosen in the box: its panel (figures, estates, the edits it allows) opens
        box = page.locator('[data-testid="stSelectbox"]').filter(has_text="选择网格").locator("input")
        gid = "420106001003-02"

        def pick():
            box.click()
            box.fill(gid)
            page.get_by_role("option", name=gid, exact=True).click(timeout=10_000)

        until(page, pick, page.get_by_role("heading", name=f"网格 {gid}"), what=f"choosing {gid}")
        map_frame(page)
        _no_error(page)
        _shot(page, "2_grids")

        step(page, "3 服务覆盖")
        share = page.locator('[data-testid="stMetric"]').filter(has_text="覆盖")
        until(page, page.get_by_role("button", name="计算步行覆盖").click, share.first, timeout_ms=90_000)
        value = share.first.locator('[data-testid="stMetricValue"]').inner_text()
        assert re.fullmatch(r"\d{1,3}\.\d%", value.strip()), value
        map_frame(page)
        expect(page.get_by_role("heading", name="面积与人员配置标准")).to_be_visible()
        _no_error(page)
        _shot(page, "3_coverage")

        step(page, "4 选址")
        table = page.get_by_role("heading", name="推荐结果")
        until(page, page.get_by_role("button", name="推荐选址").click, table, timeout_ms=120_000)
        map_frame(page)
        _no_error(page)
        _shot(page, "4_sites")

        step(page, "5 导出")
        expect(page.get_by_role("button", name=re.compile("grids.geojson"))).to_be_visible()
        _no_error(page)
        _shot(page, "5_export")

        step(page, "6 方案")
        expect(page.get_by_role("heading", name="已保存的方案")).to_be_visible()
        _no_error(page)
        _shot(page, "6_proposals")

    if os.environ.get("GRIDPLAN_SCREENSHOT"):
        docs = ROOT / "docs" / "app"
        docs.mkdir(parents=True, exist_ok=True)
        for png in sorted(STEPS.glob("*.png")):
            shutil.copyfile(png, docs / png.name)
