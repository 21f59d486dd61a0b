"""The basemap chooser in a real headless Chromium: Tianditu asks its t0-t7 hosts for the vector
and annotation tiles with the planner's key, and credits Tianditu (requests outside localhost
are recorded and blocked, as on an intranet)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from _browser import (  # noqa: F401
    SHOTS,
    choose_in,
    click_until,
    idle,
    map_frame,
    offline_page,
    sample_partition,
    server,
    step,
    until,
    upload,
)

# a browser test that `make test` runs too (not slow; it skips when chromium is absent)
pytestmark = [pytest.mark.browser]
KEY = "0123456789abcdef"


def test_tianditu_option_asks_t0_to_t7_for_vector_and_labels_with_the_key(server):  # noqa: F811
    from playwright.sync_api import Error as playwright_error

    asked: list[str] = []
    with offline_page(server, outside=asked) as page:
        page.goto(server)
        map_frame(page)
        idle(page)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="底图")
        box.locator("input").click()
        page.get_by_role("option", name="天地图（矢量 + 注记）", exact=True).click()
        idle(page)
        map_frame(page)
        page.wait_for_timeout(500)
        asked.clear()  # the server starts on $GRIDPLAN_TILES (OpenStreetMap): from here on, Tianditu only
        field = page.get_by_label("天地图密钥（tk）")
        field.fill(KEY)
        field.press("Enter")
        idle(page)
        credit = ""
        for _ in range(120):  # the map is redrawn once the run with the key has finished
            idle(page)
            frame = map_frame(page)
            try:
                credit = frame.locator(".leaflet-control-attribution").inner_text(timeout=2000)
            except playwright_error:
                continue
            if "天地图" in credit:
                break
            page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "07_tianditu_zh.png"))
        assert "天地图" in credit and "OpenStreetMap" not in credit, credit
        for _ in range(40):  # Leaflet asks for the visible tiles: both layers', from several hosts
            tiles = [urlsplit(u) for u in asked if "tianditu" in u]
            if len({u.path for u in tiles}) > 1 and len({u.hostname for u in tiles}) > 1:
                break
            page.wait_for_timeout(250)
    tiles = [urlsplit(u) for u in asked if "tianditu" in u]
    assert tiles, asked[:5]
    hosts = {u.hostname for u in tiles}
    assert hosts <= {f"t{i}.tianditu.gov.cn" for i in range(8)}, hosts
    assert len(hosts) > 1  # spread over the subdomains, not one host
    assert {u.path for u in tiles} == {"/vec_w/wmts", "/cva_w/wmts"}
    for u in tiles:
        q = parse_qs(u.query)
        assert q["tk"] == [KEY] and q["LAYER"][0] in ("vec", "cva")
        assert re.fullmatch(r"\d+", q["TILEMATRIX"][0]) and re.fullmatch(r"\d+", q["TILECOL"][0])
    assert not [u for u in asked if "openstreetmap" in u or "tianditu" not in u and "localhost" not in u]


# `make test-ci` and `make test-browser` only: make test has no time left for it (issue #16's 5 min)
@pytest.mark.slow
def test_the_grid_box_and_the_panel_stay_together_across_a_language_switch(server):  # noqa: F811
    import shapely
    from playwright.sync_api import expect

    grids = sample_partition()[1].grids
    gid = grids["grid_id"].iloc[5]
    pt = shapely.point_on_surface(grids.geometry.iloc[5])
    with offline_page(server) as page:
        page.goto(server)
        map_frame(page)
        idle(page)
        # selected on the map, as a planner does (the box is set by the app, not by a click)
        click_until(page, pt.y, pt.x, page.get_by_role("heading", name=f"网格 {gid}"))
        for name, label, heading in (
            ("English", "Select a grid", f"Grid {gid}"),
            ("中文", "选择网格", f"网格 {gid}"),
        ):
            page.locator('[data-testid="stSidebar"]').get_by_text(name, exact=True).click()
            idle(page)
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
            expect(box.locator("input")).to_have_value(gid, timeout=20_000)


def _marker_points(frame, radius: int) -> list[tuple[float, float]]:
    """(lon, lat) of the map's circle markers of one radius (facilities 7, households 3)."""
    return [
        tuple(p)
        for p in frame.evaluate(
            "(r) => { const out = []; window.map.eachLayer(l => {"
            " if (l instanceof L.CircleMarker && l.options.radius === r) {"
            " const p = l.getLatLng(); out.push([p.lng, p.lat]); } }); return out; }",
            radius,
        )
    ]


def test_the_gcj02_option_of_one_uploaded_file_moves_only_that_file(server, sample_dir):  # noqa: F811
    import geopandas as gpd
    import numpy as np
    from playwright.sync_api import Error as playwright_error
    from playwright.sync_api import expect

    from gridplan.io.projection import local_crs

    files = {
        "户点（必需）": sample_dir / "households" / "households.geojson",
        "社区边界（必需）": sample_dir / "boundaries" / "communities.geojson",
        "党群服务中心/站点": sample_dir / "facilities" / "facilities.geojson",
        "步行路网": sample_dir / "network" / "walk.geojson",  # the sites map needs one
    }
    fac = gpd.read_file(files["党群服务中心/站点"])
    with offline_page(server) as page:
        page.goto(f"{server}/data")  # the data step's own address (the grids map is not drawn first)
        idle(page)
        page.get_by_text("上传自己的数据", exact=True).click()
        idle(page)
        for label, path in files.items():
            upload(page, label, str(path))
        boxes = page.locator('[data-testid="stSelectbox"]').filter(has_text="坐标系")
        expect(boxes).to_have_count(3)
        # the facilities' datum, in upload order
        choose_in(page, boxes.nth(2), "GCJ-02（高德、腾讯）")
        # the read is done when its status line says so (the sample's check passed too, so the
        # check's outcome alone would not tell); the sidebar, drawn before the data step, names
        # the uploaded data from the next run on
        until(
            page,
            page.get_by_role("button", name="读取并检查").click,
            page.get_by_text(re.compile(r"^正在读取 4 个文件.*完成")),
            timeout_ms=60_000,
            what="读取并检查",
        )
        expect(page.get_by_text(re.compile("^数据检查通过"))).to_be_visible()
        step(page, "4 选址")
        expect(page.get_by_text("当前数据：上传的数据")).to_be_visible()
        # the markers of the map's last render (streamlit-folium may still be redrawing it)
        fac_shown: list = []
        hh_shown: list = []
        for _ in range(40):
            try:
                frame = map_frame(page)
                fac_shown, hh_shown = _marker_points(frame, 7), _marker_points(frame, 3)
            except playwright_error:  # the frame was replaced meanwhile
                continue
            if len(fac_shown) == len(fac) and len(hh_shown) > 100:
                break
            page.wait_for_timeout(250)

    def metres(a, b):
        ga = gpd.GeoSeries(gpd.points_from_xy(*np.array(a).T), crs=4326)
        gb = gpd.GeoSeries(gpd.points_from_xy(*np.array(b).T), crs=4326)
        crs = local_crs(ga)
        pa, pb = ga.to_crs(crs), gb.to_crs(crs)
        return np.array([pb.distance(q).min() for q in pa])

    hh = gpd.read_file(files["户点（必需）"])
    assert len(fac_shown) == len(fac) and len(hh_shown) > 100
    # every household is drawn where its (WGS-84) file puts it; every facility about 500 m away
    assert metres(hh_shown[:200], list(zip(hh.geometry.x, hh.geometry.y))).max() < 0.5
    # markers are drawn in the file's order: each facility against its own row
    shown = gpd.GeoSeries(gpd.points_from_xy(*np.array(fac_shown).T), crs=4326)
    crs = local_crs(shown)
    moved = shown.to_crs(crs).distance(fac.geometry.to_crs(crs), align=False).to_numpy()
    assert moved.min() > 200 and moved.max() < 1000, moved
