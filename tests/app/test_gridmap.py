"""The grids map's payloads and its component's bookkeeping (no browser; see
test_app_browser_gridmap.py for the component in Chromium)."""

from __future__ import annotations

import json
import re

import pytest
import shapely

from gridplan.app.gridmap import FOCUS_MIN_PX, basemap_spec, grid_payload, home_view, unit_payload
from gridplan.app.mapview import FRONTEND, LEAFLET_COMPONENT, MAP_COMPONENT, to_send
from gridplan.app.webmap import VENDOR, _slim
from gridplan.io.projection import to_wgs84
from gridplan.report.style import STATUS_COLOURS


@pytest.fixture(scope="module")
def plan():
    from gridplan.datasets.sample import load_sample
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    return Plan.from_partition(plan_grids(s, n_jobs=1), s["households"], s["communities"])


def _payload(plan, lang="zh"):
    out = grid_payload(
        to_wgs84(plan.grids), communities=to_wgs84(plan.communities), micro_grids=plan.micro_grids, lang=lang
    )
    return out.data() | {"version": out.version}


def test_grid_layers_carry_status_colours_the_selected_look_and_a_content_version(plan):
    p = _payload(plan)
    grids = p["grids"]
    assert grids["id"] == "grid_id" and len(grids["features"]) == len(plan.grids)
    for f in grids["features"]:
        props = f["properties"]
        normal, chosen = (grids["styles"][i] for i in props["_s"])
        assert normal["fillColor"] == chosen["fillColor"] == STATUS_COLOURS[props["status"]]
        assert (normal["weight"], chosen["weight"], chosen["color"]) == (1.2, 4, "#1f3b73")
    assert [a for _, a in grids["tooltip"]] == ["网格编号", "户数", "状态"]
    # each polygon (written by shapely) is its grid's, at the folium maps' precision
    slim = _slim(to_wgs84(plan.grids), ["grid_id"])
    assert [f["properties"]["grid_id"] for f in grids["features"]] == slim["grid_id"].tolist()
    for f, geom in zip(grids["features"], slim.geometry, strict=True):
        assert shapely.geometry.shape(f["geometry"]).equals_exact(geom, 0)
    assert p["communities"]["interactive"] is False and grids["interactive"] is True
    assert len(p["labels"]) == len(plan.grids) and {r[4] for r in p["labels"]} == set(plan.grids["grid_id"])
    assert "不足" in p["legend"] and p["css"].startswith("<style>")
    # the same layers, the same version; another language or an edit, another one
    assert _payload(plan)["version"] == p["version"]
    en = _payload(plan, "en")
    assert en["version"] != p["version"] and [a for _, a in en["grids"]["tooltip"]][:2] == [
        "Grid",
        "Households",
    ]
    uid, to = next((u, t) for u in plan.units["unit_id"] for t in plan.move_targets(u))
    plan.move_unit(uid, to)
    try:
        assert _payload(plan)["version"] != p["version"]
    finally:
        plan.undo()
    assert _payload(plan)["version"] == p["version"]


def test_units_of_the_selected_grid_only(plan):
    gid = plan.grids["grid_id"].iloc[3]
    made = unit_payload(plan.units_metric, gid)
    u = made.data()["layer"]
    ids = set(plan.units.loc[plan.units["grid_id"] == gid, "unit_id"].astype(str))
    assert {f["properties"]["unit_id"] for f in u["features"]} == ids
    normal, chosen = u["styles"][0], u["styles"][1]
    assert normal["fillOpacity"] < chosen["fillOpacity"]
    assert made.data()["grid"] == gid and unit_payload(plan.units_metric, gid).version == made.version
    assert unit_payload(plan.units_metric, "no such grid") is None


def test_basemap_and_first_view(plan):
    from gridplan.app.basemaps import basemap_layers

    [vec, cva] = basemap_spec(basemap_layers("tianditu", key="k", lang="zh"), "zh")
    assert vec["subdomains"] == [f"t{i}" for i in range(8)] and vec["attribution"] == "© 天地图"
    assert "cva_w" in cva["url"] and basemap_spec(None, "zh") == []
    lat, lon, zoom = home_view(plan.communities)
    minx, miny, maxx, maxy = to_wgs84(plan.communities).total_bounds
    assert miny < lat < maxy and minx < lon < maxx and 12 <= zoom <= 17
    assert FOCUS_MIN_PX > 0


def test_the_frame_loads_the_vendored_leaflet_from_the_app():
    html = (FRONTEND / "index.html").read_text("utf-8")
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert f"../{LEAFLET_COMPONENT}/leaflet.js" in refs and f"../{LEAFLET_COMPONENT}/leaflet.css" in refs
    assert all(not r.startswith(("http:", "https:", "//")) for r in refs)
    assert (VENDOR / "leaflet" / "leaflet.js").is_file() and (FRONTEND / "gridmap.js").is_file()
    assert MAP_COMPONENT == "gridplan.app.mapview.gridmap"


def test_layers_are_sent_only_when_the_frame_does_not_hold_them():
    sent = {"data": None, "units": None, "n": None}
    assert to_send(None, sent, "v1", None) == (True, False)  # the first render
    sent = {"data": "v1", "units": None, "n": None}
    assert to_send(None, sent, "v1", None) == (False, False)  # a rerun: the frame holds v1
    assert to_send(None, sent, "v1", "u1") == (False, True)  # a grid selected: its units
    assert to_send(None, sent, "v2", None) == (True, False)  # an edit
    click = {"n": 7, "held": {"data": "v1", "units": None}, "last_clicked": {"lat": 1, "lng": 2, "n": 7}}
    assert to_send(click, sent, "v1", None) == (False, False)  # a click: nothing more
    # a new frame (the page left and opened again) asks with what it holds: nothing
    ask = {"n": 9, "held": {"data": None, "units": None}, "last_clicked": None}
    assert to_send(ask, {"data": "v1", "units": "u1", "n": 7}, "v1", "u1") == (True, True)
    # ... and the same message, once answered, asks for nothing more
    assert to_send(ask, {"data": "v1", "units": "u1", "n": 9}, "v1", "u1") == (False, False)
    # the value dropped with the widget (the page was left): the frame is new
    assert to_send(None, {"data": "v1", "units": None, "n": 9}, "v1", None) == (True, False)


def test_units_are_the_layer_webmap_draws(plan):
    """The units sent on a click are written by hand (folium is slow for it): features, styles and
    tooltip equal those of webmap's units layer, for every grid and both languages."""
    import folium

    from gridplan.app.gridmap import _PICKED, _layer_spec, _layers
    from gridplan.app.webmap import _add_units
    from gridplan.i18n import unit_text

    units = plan.units_metric
    for lang in ("zh", "en"):
        for gid in plan.grids["grid_id"]:
            group = folium.FeatureGroup()
            _add_units(group, units, gid, _PICKED, lang, unit_text)
            want = json.loads(json.dumps(_layer_spec(_layers(group)[-1], "unit_id")))
            got = unit_payload(units, gid, lang=lang).data()["layer"]
            assert {k: v for k, v in got.items() if k != "features"} == {
                k: v for k, v in want.items() if k != "features"
            }
            assert [(f["properties"], f["geometry"]) for f in got["features"]] == [
                (f["properties"], f["geometry"]) for f in want["features"]
            ], (lang, gid)
