"""The planner's web map: folium maps of grids, households, coverage and sites, offline.

folium and streamlit-folium load Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, and on a
government intranet without internet the map does not render at all. The maps built here point
folium at the copies vendored under ``gridplan/assets/vendor`` (see ``scripts/vendor_assets.py``),
inlined as ``data:`` URIs: streamlit-folium renders the map inside its component iframe and
loads these links from there, and a data URI needs no server route, so the map draws with no
network at all. Images and the web font that the CSS refers to are inlined into the CSS too.

The basemap is the only external resource: its URL is a parameter (an intranet or Tianditu tile
server, ``GRIDPLAN_TILES``, or ``"none"``); without tiles the vector layers still draw on a plain
background.

No Streamlit here: the app calls :func:`plan_map` and hands the map to ``st_folium``.
"""

from __future__ import annotations

import base64
import functools
import math
import mimetypes
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from gridplan.app.basemaps import Basemap
from gridplan.app.labels import text
from gridplan.app.legend import COMMUNITY_LINE, add_legend
from gridplan.app.maplabels import add_labels, label_min_zoom
from gridplan.i18n import t, unit_text
from gridplan.io.projection import to_wgs84
from gridplan.norms import (
    DEFAULT_TILES_URL,
)
from gridplan.report.style import (
    FACILITY_COLOURS,
    ISOCHRONE_COLOURS,
    STATUS_COLOURS,
    UNREACHABLE_COLOUR,
    WALK_COLOURS,
)

__all__ = [
    "VENDOR",
    "offline_assets",
    "tiles_url",
    "plan_map",
    "external_urls",
    "label_min_zoom",
]

VENDOR = Path(__file__).resolve().parents[1] / "assets" / "vendor"


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _inline_css_urls(css: str, folder: Path) -> str:
    """Replace ``url(relative/file)`` in a stylesheet by data URIs of the vendored files."""

    def repl(m):
        ref = m.group(1).strip("'\"")
        if ref.startswith(("data:", "#", "http:", "https:")):
            return m.group(0)
        path = (folder / ref.split("?")[0].split("#")[0]).resolve()
        if not path.is_file() or VENDOR not in path.parents:
            return "url()"  # e.g. the .ttf fallback we do not ship: woff2 comes first anyway
        mime = mimetypes.guess_type(path.name)[0] or (
            "font/woff2" if path.suffix == ".woff2" else "application/octet-stream"
        )
        return f"url({_data_uri(path.read_bytes(), mime)})"

    return re.sub(r"url\(([^)]*)\)", repl, css)


@functools.lru_cache(maxsize=2)
def offline_assets(full: bool = False) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """folium ``default_js`` / ``default_css`` lists pointing at the vendored copies.

    Parameters
    ----------
    full : bool
        Also include jQuery, Bootstrap and Font Awesome (for popups and icon markers). The maps
        of :func:`plan_map` need Leaflet only, which keeps each map message small.

    Returns
    -------
    (js, css) : tuples of (name, data URI)
    """
    leaflet = VENDOR / "leaflet"
    js = [("leaflet", _data_uri((leaflet / "leaflet.js").read_bytes(), "text/javascript"))]
    css = [
        (
            "leaflet_css",
            _data_uri(
                _inline_css_urls((leaflet / "leaflet.css").read_text("utf-8"), leaflet).encode(), "text/css"
            ),
        )
    ]
    if full:
        js += [
            ("jquery", _data_uri((VENDOR / "jquery" / "jquery.min.js").read_bytes(), "text/javascript")),
            (
                "bootstrap",
                _data_uri((VENDOR / "bootstrap" / "bootstrap.bundle.min.js").read_bytes(), "text/javascript"),
            ),
        ]
        fa = VENDOR / "fontawesome" / "css"
        css += [
            (
                "bootstrap_css",
                _data_uri((VENDOR / "bootstrap" / "bootstrap.min.css").read_bytes(), "text/css"),
            ),
            (
                "fontawesome_css",
                _data_uri(
                    (
                        _inline_css_urls((fa / "fontawesome.min.css").read_text("utf-8"), fa)
                        + "\n"
                        + _inline_css_urls((fa / "solid.min.css").read_text("utf-8"), fa)
                    ).encode(),
                    "text/css",
                ),
            ),
        ]
    return tuple(js), tuple(css)


def tiles_url(setting: str | None = None) -> str | None:
    """The basemap tile URL: ``setting``, else ``$GRIDPLAN_TILES``, else OpenStreetMap.

    ``"none"`` (or an empty setting) means no basemap.
    """
    value = setting if setting is not None else os.environ.get("GRIDPLAN_TILES", DEFAULT_TILES_URL)
    value = (value or "").strip()
    return None if value.lower() in ("", "none", "off") else value


def external_urls(fmap: folium.Map) -> list[str]:
    """``http(s)`` script and stylesheet links of a rendered map (empty when fully offline)."""
    html = fmap.get_root().render()
    return sorted(set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)))


def _bucket_colour(minutes: np.ndarray) -> np.ndarray:
    out = np.full(len(minutes), UNREACHABLE_COLOUR, dtype=object)
    ok = np.isfinite(minutes)
    bounds = np.array([b for b, _ in WALK_COLOURS])
    idx = np.searchsorted(bounds, minutes[ok], side="left")
    out[ok] = np.array([c for _, c in WALK_COLOURS], dtype=object)[idx]
    return out


def _slim(gdf: gpd.GeoDataFrame, columns: list[str], decimals: int = 6) -> gpd.GeoDataFrame:
    """Only ``columns`` (JSON-friendly), coordinates rounded: a smaller map message."""
    cols = [c for c in columns if c in gdf.columns]
    out = gpd.GeoDataFrame(
        gdf[cols].copy(),
        geometry=shapely.set_precision(to_wgs84(gdf).geometry.values, 10.0**-decimals),
        crs=4326,
    )
    for c in cols:
        s = out[c]
        if pd.api.types.is_float_dtype(s):
            out[c] = s.round(2).astype(object).where(s.notna(), None)
        elif not pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[c] = (
                s.astype(object)
                .where(s.notna(), None)
                .map(lambda v: v if v is None or isinstance(v, (str, int, float, bool)) else str(v))
            )
        else:
            out[c] = s.astype(object)
    return out


def _zoom_for(minx, miny, maxx, maxy, *, width: int = 520, height: int = 560) -> float:
    """Web-Mercator zoom that shows the bounds in a map of about ``width`` x ``height`` pixels.

    Computed here rather than with Leaflet's fitBounds, which measures the container while the
    app's iframe is still being laid out and then zooms out too far.
    """
    lat = math.radians((miny + maxy) / 2)
    span_x = max(maxx - minx, 1e-6)
    span_y = max((maxy - miny) / max(math.cos(lat), 1e-6), 1e-6)
    z = math.log2(min(width * 360 / (256 * span_x), height * 360 / (256 * span_y)))
    return float(min(18.0, max(3.0, math.floor((z - 0.15) * 4) / 4)))  # zoomSnap 0.25


class _MetricScale(MacroElement):
    """A metric-only scale bar and no "Leaflet" prefix in the attribution: planners measure in
    metres, and the Chinese map should carry no English (folium's ``control_scale`` adds feet)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


def plan_map(
    grids: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    units: gpd.GeoDataFrame | None = None,
    micro_grids: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    selected_grid: str | None = None,
    selected_unit=None,
    lang: str = "zh",
    unit_label: Callable[[object, str], str] = unit_text,
    tiles: str | Sequence[Basemap] | None = None,
    labels: bool = True,
    max_households_points: int = 20000,
    height: int = 560,
) -> folium.Map:
    """A folium map of a plan that renders with no internet.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids with ``grid_id``, ``households``, ``status`` (optional ``locked``).
    communities : GeoDataFrame, optional
        Community polygons, outlined heavier than the grids (not clickable: a click selects the
        grid under it).
    units : GeoDataFrame, optional
        Partition units (``unit_id``, ``grid_id``): drawn for the selected grid and its neighbours
        so that a unit can be picked.
    micro_grids : GeoDataFrame, optional
        Micro-grids (``micro_grid_id``, ``households``), drawn as dashed outlines.
    households : GeoDataFrame, optional
        Household points; coloured by ``walk_min`` when present.
    isochrones, gaps, facilities, sites : GeoDataFrame, optional
        Coverage layers (``minutes`` per isochrone; ``households`` per gap) and centres.
    selected_grid, selected_unit : optional
        Highlighted grid and unit.
    lang : {"zh", "en"}
        Language of tooltips and the legend.
    unit_label : callable
        ``unit_label(unit_id, lang)``: a unit in words (the app names estates by their names).
    tiles : str or sequence of Basemap, optional
        Basemap: tile layers (:func:`gridplan.app.basemaps.basemap_layers`), a URL template
        (:func:`tiles_url`), or None for none.
    labels : bool
        Grid code and households as labels on the map, each shown from the zoom at which the
        grid is large enough on screen (:func:`label_min_zoom`); the selected grid's always.
    max_households_points : int
        Above this many points the households layer is thinned (every n-th point) to keep the
        map fast; the tables stay complete.
    height : int
        Map height in pixels (standalone HTML).

    Returns
    -------
    folium.Map
    """
    g = to_wgs84(grids)
    fmap = _base_map(g, tiles=tiles, lang=lang, height=height)
    # Layers in drawing order: areas under the grids, the grids, then finer outlines and points
    # on top, so that every layer stays visible and clickable.
    if _present(isochrones):
        _add_isochrones(fmap, isochrones, lang)
    _add_grids(fmap, g, selected_grid, lang)
    if _present(communities):
        _add_communities(fmap, communities, lang)
    if _present(micro_grids):
        _add_micro_grids(fmap, micro_grids, lang)
    if _present(units) and selected_grid is not None:
        _add_units(fmap, units, selected_grid, selected_unit, lang, unit_label)
    if _present(households):
        _add_households(fmap, households, lang, max_households_points)
    if _present(gaps):
        _add_gaps(fmap, gaps, lang)
    if _present(facilities):
        _add_facilities(fmap, facilities, lang)
    if _present(sites):
        _add_sites(fmap, sites, lang)
    if labels and 0 < len(g) <= 400:
        add_labels(fmap, g, selected_grid, lang)
    kinds = facilities["kind"].dropna().unique().tolist() if _present(facilities) else []
    add_legend(fmap, lang, kinds=kinds, sites=_present(sites), communities=_present(communities))
    return fmap


def _present(layer: gpd.GeoDataFrame | None) -> bool:
    return layer is not None and len(layer) > 0


def _tooltip(fields: list[str], lang: str) -> folium.GeoJsonTooltip:
    """A tooltip of data fields under their ``col_*`` labels."""
    return folium.GeoJsonTooltip(fields, aliases=[t(f"col_{c}", lang) for c in fields])


def _tile_layers(tiles, lang: str) -> list[Basemap]:
    if not tiles:
        return []
    if isinstance(tiles, str):
        # a bare URL: OpenStreetMap's (the default of tiles_url) or an intranet server's
        osm = "openstreetmap" in tiles
        attr = t("map_attribution_osm", lang) if osm else text("map_attribution_xyz", lang)
        return [Basemap(tiles, attr, t("map_basemap", lang))]
    return list(tiles)


def _base_map(g: gpd.GeoDataFrame, *, tiles, lang: str, height: int) -> folium.Map:
    """An empty map around the grids with the vendored assets, the basemap and a metric scale."""
    minx, miny, maxx, maxy = g.total_bounds if len(g) else (114.0, 30.0, 114.1, 30.1)
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=None,
        zoom_start=_zoom_for(minx, miny, maxx, maxy, height=height),
        zoom_control=True,
        control_scale=False,
        prefer_canvas=False,
        height=height,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    js, css = offline_assets(False)
    fmap.default_js = list(js)
    fmap.default_css = list(css)
    for layer in _tile_layers(tiles, lang):
        folium.TileLayer(
            tiles=layer.url,
            attr=layer.attribution,
            name=layer.name,
            max_zoom=layer.max_zoom,
            subdomains=list(layer.subdomains) or "abc",
            control=False,
        ).add_to(fmap)
    fmap.add_child(_MetricScale())
    return fmap


def _add_isochrones(fmap: folium.Map, isochrones: gpd.GeoDataFrame, lang: str) -> None:
    # largest first, so that the smaller (darker) rings are drawn on top
    iso = _slim(isochrones.sort_values("minutes", ascending=False), ["facility_id", "minutes"])

    def style(f):
        colour = ISOCHRONE_COLOURS.get(int(f["properties"]["minutes"]), "#74c476")
        return {"fillColor": colour, "color": colour, "weight": 1, "fillOpacity": 0.12}

    folium.GeoJson(
        iso,
        name=t("map_isochrones", lang),
        style_function=style,
        tooltip=_tooltip(["facility_id", "minutes"], lang),
    ).add_to(fmap)


def _add_grids(fmap: folium.Map, g: gpd.GeoDataFrame, selected: str | None, lang: str) -> None:
    status_label = {k: t(f"status_{k}", lang) for k in STATUS_COLOURS}
    gg = _slim(g, ["grid_id", "households", "status", "locked", "community_name"])
    gg["status_label"] = gg["status"].map(status_label)

    def grid_style(f):
        p = f["properties"]
        chosen = p["grid_id"] == selected
        return {
            "fillColor": STATUS_COLOURS.get(p["status"], "#888888"),
            "color": "#1f3b73" if chosen else "#333333",
            "weight": 4 if chosen else (2.5 if p.get("locked") else 1.2),
            "dashArray": "6 4" if p.get("locked") else None,
            "fillOpacity": 0.45 if chosen else 0.3,
        }

    folium.GeoJson(
        gg,
        name=t("map_grids", lang),
        style_function=grid_style,
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.5},
        tooltip=folium.GeoJsonTooltip(
            ["grid_id", "households", "status_label"],
            aliases=[t("col_grid_id", lang), t("col_households", lang), t("col_status", lang)],
        ),
    ).add_to(fmap)


def _add_communities(fmap: folium.Map, communities: gpd.GeoDataFrame, lang: str) -> None:
    cc = _slim(communities, ["community_id", "name"])
    folium.GeoJson(
        cc,
        name=text("map_communities", lang),
        style_function=lambda f: {"fill": False, **COMMUNITY_LINE},
        interactive=False,
        control=False,
    ).add_to(fmap)


def _add_micro_grids(fmap: folium.Map, micro_grids: gpd.GeoDataFrame, lang: str) -> None:
    mg = _slim(micro_grids, ["micro_grid_id", "grid_id", "households"])
    folium.GeoJson(
        mg,
        name=t("map_micro_grids", lang),
        style_function=lambda f: {"fill": False, "color": "#555555", "weight": 0.8, "dashArray": "2 3"},
        tooltip=_tooltip(["micro_grid_id", "households"], lang),
    ).add_to(fmap)


def _add_units(
    fmap: folium.Map, units: gpd.GeoDataFrame, selected: str, selected_unit, lang: str, unit_label
) -> None:
    """The units of the selected grid, the chosen one filled: a unit is picked on the map."""
    # the selected grid's units only are projected: all of a city's on every click cost seconds
    u = to_wgs84(units[units["grid_id"] == selected])
    uu = _slim(u, ["unit_id", "grid_id", "households"])
    uu["unit_id"] = uu["unit_id"].astype(str)
    uu["unit_label"] = [unit_label(x, lang) for x in uu["unit_id"]]
    chosen = None if selected_unit is None else str(selected_unit)
    folium.GeoJson(
        uu,
        name=t("map_units", lang),
        style_function=lambda f: {
            "fillColor": "#1f3b73",
            "color": "#1f3b73",
            "weight": 1,
            "fillOpacity": 0.45 if f["properties"]["unit_id"] == chosen else 0.05,
        },
        tooltip=folium.GeoJsonTooltip(
            ["unit_label", "households"], aliases=[t("col_unit_id", lang), t("col_households", lang)]
        ),
    ).add_to(fmap)


def _add_households(fmap: folium.Map, households: gpd.GeoDataFrame, lang: str, max_points: int) -> None:
    hh = households
    if len(hh) > max_points:
        hh = hh.iloc[:: int(np.ceil(len(hh) / max_points))]
    hp = _slim(hh, ["households", "walk_min", "grid_id"])
    if "walk_min" in hh:
        hp["colour"] = _bucket_colour(
            pd.to_numeric(hh["walk_min"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        )
    else:
        hp["colour"] = "#555555"
    fields = [c for c in ("households", "walk_min", "grid_id") if c in hp.columns]
    folium.GeoJson(
        hp,
        name=t("map_households", lang),
        marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
        style_function=lambda f: {"fillColor": f["properties"]["colour"]},
        tooltip=_tooltip(fields, lang),
    ).add_to(fmap)


def _add_gaps(fmap: folium.Map, gaps: gpd.GeoDataFrame, lang: str) -> None:
    gp = _slim(gaps, ["gap_id", "households", "rank"])
    fields = [c for c in ("rank", "households") if c in gp.columns]
    folium.GeoJson(
        gp,
        name=t("map_gaps", lang),
        style_function=lambda f: {
            "fillColor": "#d73027",
            "color": "#d73027",
            "weight": 2,
            "dashArray": "4 3",
            "fillOpacity": 0.2,
        },
        tooltip=_tooltip(fields, lang) if fields else None,
    ).add_to(fmap)


def _add_facilities(fmap: folium.Map, facilities: gpd.GeoDataFrame, lang: str) -> None:
    fp = _slim(facilities, ["facility_id", "name", "kind"])
    fp["kind_label"] = fp["kind"].map(lambda k: t(f"kind_{k}", lang) if k else "")
    folium.GeoJson(
        fp,
        name=t("map_facilities", lang),
        marker=folium.CircleMarker(radius=7, weight=2, color="#ffffff", fill=True, fill_opacity=1.0),
        style_function=lambda f: {"fillColor": FACILITY_COLOURS.get(f["properties"]["kind"], "#2171b5")},
        tooltip=folium.GeoJsonTooltip(
            ["name", "kind_label"], aliases=[t("col_name", lang), t("col_kind", lang)]
        ),
    ).add_to(fmap)


def _add_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, lang: str) -> None:
    sp = _slim(sites, ["rank", "households_gained"])
    folium.GeoJson(
        sp,
        name=t("map_sites", lang),
        marker=folium.CircleMarker(radius=9, weight=3, color="#000000", fill=True, fill_opacity=1.0),
        style_function=lambda f: {"fillColor": "#ffd700"},
        tooltip=_tooltip([c for c in ("rank", "households_gained") if c in sp], lang),
    ).add_to(fmap)
