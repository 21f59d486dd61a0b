"""The grids page's own map component in a real headless Chromium: the grid layers go to the
browser once, a click selects a grid without the layers being sent again, the planner's zoom
stays, an edit sends them once more, and a frame made anew (after another step) asks for them.

The component counts in its frame the GeoJSON payloads it has loaded (``__gp_loads``), the grids
they carried (``__gp_grids``) and the render messages it has had (``__gp_renders``)."""

from __future__ import annotations

import re

import pytest
from _browser import choice, choose, click_until, edit, idle, map_frame, offline_page, server, step  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_COUNTS = "() => [window.__gp_loads, window.__gp_renders, window.__gp_grids]"
_VIEW = "() => { const c = window.map.getCenter(); return [window.map.getZoom(), c.lat, c.lng]; }"
#: the drawn style of a grid's polygon (not of its units): [weight, colour, fill opacity]
_GRID_STYLE = (
    "(gid) => { let s = null; window.map.eachLayer(l => { if (l.feature && l.feature.properties"
    " && l.feature.properties.grid_id === gid && !('unit_id' in l.feature.properties)) {"
    " s = [l.options.weight, l.options.color, l.options.fillOpacity]; } }); return s; }"
)


def test_a_click_selects_a_grid_without_sending_the_grid_layers_again(server, choice):  # noqa: F811
    outside: list[str] = []
    errors: list[str] = []
    lat, lon = choice["grid_pt"]
    with offline_page(server, outside=outside, errors=errors) as page:
        page.goto(server)
        frame = map_frame(page)
        idle(page)
        loads, renders, grids = frame.evaluate(_COUNTS)
        assert loads == 1 and grids == choice["n_grids"], (loads, grids)  # the grids, once
        assert frame.evaluate(_GRID_STYLE, choice["grid"])[0] < 4  # not selected yet
        # the planner zooms in, by a step the app never chooses itself
        frame.evaluate(
            "([lat, lon]) => { window.map.setView([lat, lon], window.map.getZoom() + 1.75,"
            " {animate: false}); window.__gp_mark = 1; }",
            [lat, lon],
        )
        before = frame.evaluate(_VIEW)
        click_until(page, lat, lon, page.get_by_role("heading", name=f"网格 {choice['grid']}"))
        idle(page)
        frame = map_frame(page)
        assert frame.evaluate("() => window.__gp_mark") == 1  # the same Leaflet map
        after = frame.evaluate(_COUNTS)
        assert after[1] > renders  # the app's answer came as a render ...
        assert after[0] == 1 and after[2] == grids  # ... without the grid layers
        assert frame.evaluate(_GRID_STYLE, choice["grid"]) == [4, "#1f3b73", 0.45]  # drawn selected
        view = frame.evaluate(_VIEW)
        assert view[0] == before[0] and view[1:] == pytest.approx(before[1:], abs=1e-9)
        # a second click, on one of its estates, selects it: still no layers sent
        click_until(
            page, *choice["unit_pt"], page.locator('[data-testid="stSelectbox"]').filter(has_text="移到网格")
        )
        idle(page)
        assert frame.evaluate(_COUNTS)[0] == 1 and frame.evaluate(_VIEW) == view
        # an edit changes the grids: sent once more, the view stays
        choose(page, "移到网格", choice["to"])
        moved = page.get_by_test_id("stAlertContentSuccess").get_by_text(
            re.compile(rf"^已将 .* 移到 {re.escape(choice['to'])}$")
        )
        edit(page, page.get_by_role("button", name="移动", exact=True), moved)
        idle(page)
        frame = map_frame(page)
        assert frame.evaluate("() => window.__gp_mark") == 1
        assert frame.evaluate(_COUNTS)[0] == 2
        assert frame.evaluate(_VIEW) == view
        # another step and back: a new frame, which asks for the layers and draws them
        step(page, "3 服务覆盖")
        step(page, "2 网格")
        frame = map_frame(page)
        assert frame.evaluate("() => window.__gp_mark") is None
        assert frame.evaluate(_COUNTS)[0] == 1
        assert frame.evaluate(_GRID_STYLE, choice["grid"])[0] == 4  # the selection is kept
    # nothing but the basemap's tiles (the server's $GRIDPLAN_TILES) was asked of the outside
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in outside), outside[:5]
    assert not [e for e in errors if "gridmap" in e or "Leaflet" in e], errors
