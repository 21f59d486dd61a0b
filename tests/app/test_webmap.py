"""The web map works offline: every script and stylesheet is a vendored copy inlined as data URI."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import load_script, map_labels

from gridplan.app import webmap
from gridplan.app.webmap import external_urls, offline_assets, plan_map, tiles_url
from gridplan.norms import MAP_LABEL_MIN_PX
from gridplan.report import style

ROOT = Path(__file__).resolve().parents[2]


def _grids():
    polys = [shapely.box(114.30 + 0.002 * i, 30.55, 114.302 + 0.002 * i, 30.552) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "grid_id": ["C1-01", "C1-02", "C1-03"],
            "households": [250, 400, 620],
            "status": ["under", "ok", "over"],
            "locked": [False, True, False],
            "community_name": ["紫阳社区"] * 3,
        },
        geometry=polys,
        crs=4326,
    )


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def test_vendored_files_match_their_manifest():
    mod = load_script("scripts/vendor_assets.py")
    assert mod.check() == []
    total = sum(p.stat().st_size for p in webmap.VENDOR.rglob("*") if p.is_file())
    assert total < 1_200_000  # only minified files and one web font


def test_map_has_no_external_script_or_stylesheet():
    hh = gpd.GeoDataFrame(
        {"households": [3, 4], "walk_min": [4.0, np.nan], "grid_id": ["C1-01"] * 2},
        geometry=gpd.points_from_xy([114.301, 114.303], [30.551, 30.551]),
        crs=4326,
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["F1"], "name": ["中心"], "kind": ["community_centre"]},
        geometry=gpd.points_from_xy([114.302], [30.5515]),
        crs=4326,
    )
    m = plan_map(_grids(), households=hh, facilities=fac, selected_grid="C1-02", tiles=None)
    assert external_urls(m) == []
    html = m.get_root().render()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "data:text/javascript;base64," in html and "data:text/css;base64," in html
    # what streamlit-folium sends to its iframe: default_js/default_css of every element
    links = [
        url for el in _walk(m) for _, url in getattr(el, "default_js", []) + getattr(el, "default_css", [])
    ]
    assert links and all(u.startswith("data:") for u in links)
    # no branca colormap (streamlit-folium would add d3 from a CDN for it)
    import branca.colormap

    assert not any(isinstance(el, branca.colormap.ColorMap) for el in _walk(m))


def test_inlined_leaflet_is_the_vendored_release():
    js, css = offline_assets()
    leaflet = base64.b64decode(js[0][1].split(",", 1)[1])
    assert leaflet == (webmap.VENDOR / "leaflet" / "leaflet.js").read_bytes()
    assert b"Leaflet 1.9.4" in leaflet[:300]
    sheet = base64.b64decode(css[0][1].split(",", 1)[1]).decode()
    assert "url(images/" not in sheet and "url(data:image/png;base64," in sheet
    js_full, css_full = offline_assets(full=True)
    names = [n for n, _ in js_full + css_full]
    assert {"jquery", "bootstrap", "bootstrap_css", "fontawesome_css"} <= set(names)
    fa = base64.b64decode(dict(css_full)["fontawesome_css"].split(",", 1)[1]).decode()
    assert "data:font/woff2;base64," in fa and "../webfonts" not in fa


def test_tiles_setting_and_environment(monkeypatch):
    monkeypatch.delenv("GRIDPLAN_TILES", raising=False)
    assert tiles_url().startswith("https://tile.openstreetmap.org/")
    monkeypatch.setenv("GRIDPLAN_TILES", "http://10.0.0.5/tiles/{z}/{x}/{y}.png")
    assert tiles_url() == "http://10.0.0.5/tiles/{z}/{x}/{y}.png"
    assert tiles_url("none") is None and tiles_url("") is None
    m = plan_map(_grids(), tiles=tiles_url())
    html = m.get_root().render()
    assert "http://10.0.0.5/tiles/{z}/{x}/{y}.png" in html
    assert external_urls(m) == []  # tiles are images fetched by Leaflet, not page assets
    assert "L.tileLayer" not in plan_map(_grids(), tiles=None).get_root().render()


def test_colours_and_labels_follow_the_data():
    m = plan_map(_grids(), tiles=None, lang="en")
    html = m.get_root().render()
    for colour in style.STATUS_COLOURS.values():
        assert colour in html
    assert "620 hh" in html and "in band" not in html.split("<script")[0]
    zh = plan_map(_grids(), tiles=None, lang="zh").get_root().render()
    assert "620户" in zh or "620\\u6237" in zh
    colours = webmap._bucket_colour(np.array([1.0, 7.0, 14.9, 20.0, 45.0, np.nan]))
    assert list(colours) == [c for _, c in webmap.WALK_COLOURS] + [webmap.UNREACHABLE_COLOUR]


def test_map_of_a_real_plan(sample_dir):
    from gridplan.datasets.sample import load_sample
    from gridplan.grids.api import partition
    from gridplan.plan.model import Plan

    s = load_sample(sample_dir)
    r = partition(s["households"], s["communities"], n_jobs=1)
    plan = Plan.from_partition(r, s["households"], s["communities"])
    gid = plan.grids["grid_id"].iloc[0]
    m = plan_map(
        plan.grids,
        units=plan.units,
        households=plan.assignment,
        selected_grid=gid,
        facilities=s["facilities"],
        tiles=None,
    )
    html = m.get_root().render()
    assert external_urls(m) == []
    # every grid is drawn: its id appears in the GeoJSON of the grid layer
    assert all(g in html for g in plan.grids["grid_id"])
    assert isinstance(m, folium.Map)


def test_micro_grids_are_drawn():
    g = _grids()
    micro = gpd.GeoDataFrame(
        {"micro_grid_id": ["C1-01-01", "C1-01-02"], "grid_id": ["C1-01"] * 2, "households": [120, 130]},
        geometry=[shapely.box(114.30, 30.55, 114.301, 30.552), shapely.box(114.301, 30.55, 114.302, 30.552)],
        crs=4326,
    )
    html = plan_map(g, micro_grids=micro, tiles=None).get_root().render()
    assert "C1-01-02" in html and external_urls(plan_map(g, micro_grids=micro, tiles=None)) == []


def test_labels_only_from_the_zoom_where_the_grid_is_large_enough():
    # a large grid (1 km) and a small one (100 m) side by side
    big = shapely.box(114.30, 30.55, 114.3104, 30.559)
    small = shapely.box(114.3104, 30.55, 114.3114, 30.5509)
    g = gpd.GeoDataFrame(
        {"grid_id": ["C1-01", "C1-02"], "households": [400, 350], "status": ["ok", "ok"]},
        geometry=[big, small],
        crs=4326,
    )
    z = webmap.label_min_zoom(g)
    # independent: ground resolution of Web Mercator from the projected (UTM) area
    area = g.to_crs(g.estimate_utm_crs()).area.to_numpy()
    expect = np.log2(156543.03 * np.cos(np.radians(30.5545)) * MAP_LABEL_MIN_PX / np.sqrt(area))
    assert np.all(z >= expect - 1e-6) and np.all(z < expect + 0.25 + 1e-3)
    assert z[1] == pytest.approx(z[0] + 3.25, abs=0.25)  # 10x smaller side: ~3.3 zoom levels later
    html = plan_map(g, tiles=None).get_root().render()
    # each label shows from its own zoom on, in the group the zoom handler adds at that zoom
    labels = map_labels(html)
    assert sorted(z for z, _ in labels) == sorted(z.tolist())
    assert 'map.on("zoomend", gpLabels)' in html
    # labels never catch the click that selects a grid: the tooltips and their invisible
    # anchors are not interactive (Leaflet passes the click on to the grid below)
    assert html.count("permanent: true") == 1 and html.count("interactive: false") == 2
    assert "weight: 0" in html
    css = (webmap.VENDOR / "leaflet" / "leaflet.css").read_text("utf-8")
    assert re.search(r"\.leaflet-tooltip \{[^}]*pointer-events: none", css)
    # the selected grid is labelled at any zoom
    sel = plan_map(g, tiles=None, selected_grid="C1-02").get_root().render()
    assert sorted(z for z, _ in map_labels(sel)) == [0.0, float(z[0])]
    assert external_urls(plan_map(g, tiles=None)) == []
