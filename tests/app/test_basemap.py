"""The web map's basemap chooser, legend, community outlines and labels (no browser)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import map_labels

from gridplan.app.basemaps import TIANDITU_SUBDOMAINS, basemap_layers, default_basemap, tianditu_url
from gridplan.app.legend import COMMUNITY_LINE, legend_html
from gridplan.app.webmap import external_urls, plan_map

TILE_CALL = re.compile(r"L\.tileLayer\(\s*(\"[^\"]*\")\s*,\s*(\{.*?\})\s*\)", re.S)


def _tile_layers(fmap) -> list[tuple[str, dict]]:
    """(URL template, options) of every L.tileLayer of the rendered map."""
    html = fmap.get_root().render()
    out = []
    for url, opts in TILE_CALL.findall(html):
        opts = re.sub(r",\s*([\]}])", r"\1", opts)  # folium leaves trailing commas
        out.append((json.loads(url), json.loads(opts)))
    return out


def _expand(template: str, s: str, z=12, x=3337, y=1660) -> str:
    """The URL Leaflet asks for: its template filled the way L.TileLayer.getTileUrl does."""
    return template.replace("{s}", s).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


@pytest.fixture(scope="module")
def sample():
    from gridplan.datasets.sample import load_sample
    from gridplan.workflows import plan_grids

    s = load_sample()
    return s, plan_grids(s, n_jobs=1).grids


def test_tianditu_builds_vector_and_annotation_urls_on_t0_to_t7(sample):
    s, grids = sample
    key = "a1b2c3 d4"
    m = plan_map(grids, tiles=basemap_layers("tianditu", key=key, lang="zh"))
    layers = _tile_layers(m)
    assert len(layers) == 2
    for (template, opts), layer in zip(layers, ("vec", "cva")):
        assert opts["subdomains"] == [f"t{i}" for i in range(8)] == list(TIANDITU_SUBDOMAINS)
        assert opts["attribution"] == "© 天地图" and "OpenStreetMap" not in opts["attribution"]
        assert opts["maxZoom"] == 18
        for sub in opts["subdomains"]:
            url = urlsplit(_expand(template, sub))
            assert url.scheme == "https" and url.hostname == f"{sub}.tianditu.gov.cn"
            assert url.path == f"/{layer}_w/wmts"
            q = parse_qs(url.query)
            assert q["LAYER"] == [layer] and q["TILEMATRIXSET"] == ["w"] and q["REQUEST"] == ["GetTile"]
            assert q["TILEMATRIX"] == ["12"] and q["TILECOL"] == ["3337"] and q["TILEROW"] == ["1660"]
            assert q["tk"] == [key]  # URL-encoded in the template, the key itself on the server
    en = _tile_layers(plan_map(grids, tiles=basemap_layers("tianditu", key=key, lang="en")))
    assert en[0][1]["attribution"] == "© Tianditu"
    assert tianditu_url("vec", "k").count("{s}") == 1


def test_none_is_the_default_and_a_missing_url_or_key_means_no_tiles(sample, monkeypatch):
    _, grids = sample
    monkeypatch.delenv("GRIDPLAN_TILES", raising=False)
    assert default_basemap() == ("none", "")
    assert basemap_layers("none") == [] and basemap_layers("tianditu", key=" ") == []
    assert basemap_layers("xyz", url="") == []
    assert _tile_layers(plan_map(grids, tiles=basemap_layers("none"))) == []
    monkeypatch.setenv("GRIDPLAN_TILES", "http://10.0.0.5/t/{z}/{x}/{y}.png")
    assert default_basemap() == ("xyz", "http://10.0.0.5/t/{z}/{x}/{y}.png")
    choice, url = default_basemap()
    m = plan_map(grids, tiles=basemap_layers(choice, url=url, lang="zh"))
    [(template, opts)] = _tile_layers(m)
    assert template == url and "OpenStreetMap" not in opts["attribution"]
    assert external_urls(m) == []


def test_legend_names_grid_status_and_centre_kinds(sample):
    s, grids = sample
    html = legend_html("zh", kinds=["station", "community_centre"], sites=True, communities=True)
    for word in (
        "网格状态",
        "达标",
        "不足",
        "超标",
        "社区边界",
        "服务设施",
        "社区党群服务中心",
        "党群服务站",
        "推荐新址",
    ):
        assert word in html, word
    assert "街道党群服务中心" not in html  # only the kinds on the map
    assert "Grid status" in legend_html("en") and "网格" not in legend_html("en")
    rendered = plan_map(grids, facilities=s["facilities"]).get_root().render()
    assert "gp-legend" in rendered and "\\u7f51\\u683c\\u72b6\\u6001" in rendered  # 网格状态


def test_community_boundaries_are_heavier_than_grid_lines_and_not_clickable(sample):
    s, grids = sample
    html = plan_map(grids, communities=s["communities"]).get_root().render()
    assert COMMUNITY_LINE["weight"] >= 2 * 1.2
    assert f'"weight": {COMMUNITY_LINE["weight"]}' in html.replace("'", '"') or "3.5" in html
    assert '"interactive": false' in html


def test_grid_labels_do_not_repeat_across_communities(sample):
    _, grids = sample
    html = plan_map(grids).get_root().render()
    labels = [label for _, label in map_labels(html)]
    assert len(labels) == len(grids), len(labels)
    assert len(set(labels)) == len(labels), sorted(lab for lab in labels if labels.count(lab) > 1)[:4]
    assert any(lab.startswith("紫阳<b>07</b>") for lab in labels), labels[:3]
