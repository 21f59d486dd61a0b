"""Proposals (方案) in a real headless Chromium: an edit survives F5 with its undo, and two
proposals are compared on the proposals page (requests outside localhost are blocked, as on
an intranet). The server's plan store is a temporary folder of its own (tests/_browser.py)."""

from __future__ import annotations

import re
import time

import pytest
from _browser import (  # noqa: F401
    SHOTS,
    choose,
    edit,
    idle,
    map_frame,
    offline_page,
    sample_plan,
    server,
    step,
    until,
)

# a browser test that `make test` runs too (not slow; it skips when chromium is absent)
pytestmark = [pytest.mark.browser]


def _grid_count(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="网格数").first
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().strip())


def _expect_grid_count(page, value: int) -> None:
    """Wait for the figure: the sidebar (drawn first) shows the new version before the page's
    figures are redrawn in the same run."""
    from playwright.sync_api import expect

    metric = page.locator('[data-testid="stMetric"]').filter(has_text="网格数").first
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(str(value), timeout=30_000)


def _splittable_grid() -> str:
    n_units = sample_plan().units["grid_id"].value_counts()
    return str(n_units[n_units >= 4].index.sort_values()[0])


def _split(page, gid: str, then) -> None:
    """Split grid ``gid`` in the grid panel, until ``then`` shows."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="选择网格")

    def pick():
        box.locator("input").click()
        box.locator("input").fill(gid)  # the list of every grid is long: typed, as a planner does
        page.get_by_role("option", name=gid, exact=True).click(timeout=10_000)

    button = page.get_by_role("button", name="拆分为两个网格")
    until(page, pick, button, what=f"choosing grid {gid}")
    edit(page, button, then)
    idle(page)


def test_f5_keeps_the_proposal_and_undo_and_two_proposals_compare(server):  # noqa: F811
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    gid = _splittable_grid()
    outside: list[str] = []
    with offline_page(server, outside=outside, timeout_ms=90_000) as page:
        page.goto(server)
        map_frame(page)
        idle(page)
        n = _grid_count(page)
        _split(page, gid, page.get_by_text(re.compile(r"当前方案（第 1 版）")))
        _expect_grid_count(page, n + 1)
        assert "proposal=" in page.url, page.url

        t0 = time.time()
        page.reload()  # F5
        map_frame(page)
        idle(page)
        print(f"F5 to the reopened proposal's map: {time.time() - t0:.1f} s")
        _expect_grid_count(page, n + 1)
        undo = page.get_by_role("button", name="撤销", exact=True)
        expect(undo).to_be_enabled()
        until(
            page,
            undo.click,
            page.get_by_text(re.compile(r"当前方案（第 2 版）")),
            timeout_ms=45_000,
            what="撤销",
        )
        _expect_grid_count(page, n)
        page.screenshot(path=str(SHOTS / "proposals_01_after_f5_undo.png"))

        # a second proposal: the split again, saved under another name
        _split(page, gid, page.get_by_text(re.compile(r"当前方案（第 3 版）")))
        first_name = page.evaluate("() => new URLSearchParams(location.search).get('proposal')")
        step(page, "6 方案")
        page.get_by_label("新方案名称").fill("乙方案")
        save = page.get_by_role("button", name="另存为新方案")
        until(
            page, save.click, page.get_by_text("已另存为方案“乙方案”"), timeout_ms=45_000, what="另存为新方案"
        )
        step(page, "2 网格")  # 乙方案 goes on without the split
        # the address names the proposal on every page, so that F5 anywhere reopens it
        expect(page).to_have_url(re.compile(r"proposal=%E4%B9%99%E6%96%B9%E6%A1%88"), timeout=20_000)
        until(
            page,
            page.get_by_role("button", name="撤销", exact=True).click,
            page.get_by_text(re.compile(r"当前方案（第 2 版）")),
            timeout_ms=45_000,
            what="撤销",
        )
        _expect_grid_count(page, n)
        step(page, "6 方案")
        choose(page, "方案 A", first_name)
        choose(page, "方案 B", "乙方案")
        table = page.locator('[data-testid="stDataFrame"]').last
        until(
            page,
            page.get_by_role("button", name="对比", exact=True).click,
            table.filter(has_text="乙方案@2"),
            timeout_ms=30_000,
            what="对比",
        )
        expect(table).to_contain_text(f"{first_name}@3")
        expect(table).to_contain_text("所属网格不同的住户数")
        cells = table.locator('[role="gridcell"]').all_inner_texts()
        assert str(n) in cells and str(n + 1) in cells, cells[:12]
        page.screenshot(path=str(SHOTS / "proposals_02_compare.png"), full_page=True)
    assert not [u for u in outside if "localhost" not in u and "openstreetmap" not in u], outside[:5]
