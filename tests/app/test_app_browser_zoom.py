"""The grids map keeps the planner's view in a real headless Chromium: after a click on a grid (and on
an estate of it) and after an edit the map has the same zoom and centre (the Leaflet map is not
rebuilt)."""

from __future__ import annotations

import re

import pytest
from _browser import choice, choose, click_until, edit, idle, map_frame, offline_page, server  # noqa: F401

# a browser test that `make test` runs too (not slow; it skips when chromium is absent)
pytestmark = [pytest.mark.browser]

_VIEW = "() => { const c = window.map.getCenter(); return [window.map.getZoom(), c.lat, c.lng]; }"


def _view(page):
    return map_frame(page).evaluate(_VIEW)


def _same_map(page) -> bool:
    """The Leaflet map is still the one marked by the test (not re-created by a rerun)."""
    return map_frame(page).evaluate("() => window.__gp_mark === 1")


def test_the_map_keeps_its_zoom_after_a_click_and_an_edit(server, choice):  # noqa: F811
    # one session for both (the edit needs the clicks before it): each view is checked in turn
    lat, lon = choice["grid_pt"]
    with offline_page(server) as page:
        page.goto(server)
        frame = map_frame(page)
        idle(page)
        # the planner zooms in on the grid, by a step the app never chooses itself
        start = frame.evaluate(
            "([lat, lon]) => { window.map.setView([lat, lon], window.map.getZoom() + 1.75,"
            " {animate: false}); window.__gp_mark = 1; return window.map.getZoom(); }",
            [lat, lon],
        )
        page.wait_for_timeout(600)  # the component reports the move (debounced 250 ms)
        before = _view(page)
        assert before[0] == start
        click_until(page, lat, lon, page.get_by_role("heading", name=f"网格 {choice['grid']}"))
        idle(page)
        after_click = _view(page)
        assert _same_map(page)
        assert after_click[0] == before[0]
        assert after_click[1:] == pytest.approx(before[1:], abs=1e-9)
        # a second click, on one of its estates, selects it: the view stays too
        click_until(
            page, *choice["unit_pt"], page.locator('[data-testid="stSelectbox"]').filter(has_text="移到网格")
        )
        idle(page)
        assert _same_map(page) and _view(page) == after_click
        # the estate moved to another grid: the grids are redrawn in the same map, the view stays
        choose(page, "移到网格", choice["to"])
        moved = page.get_by_test_id("stAlertContentSuccess").get_by_text(
            re.compile(rf"^已将 .* 移到 {re.escape(choice['to'])}$")
        )
        edit(page, page.get_by_role("button", name="移动", exact=True), moved)
        idle(page)
        after_edit = _view(page)
        assert _same_map(page)
        assert after_edit[0] == before[0]
        assert after_edit[1:] == pytest.approx(before[1:], abs=1e-9)
