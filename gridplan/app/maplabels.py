"""Grid labels on the web map: the community's short name, the grid's number and its
households, each shown from the zoom at which its grid is large enough on screen.

Grid numbers restart in every community ("07" exists in each), so a label carries the
community's name without its suffix (紫阳07 468户).
"""

from __future__ import annotations

from html import escape

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from gridplan.grids.numbering import split_grid_id
from gridplan.i18n import t
from gridplan.io.projection import to_wgs84
from gridplan.norms import MAP_LABEL_MIN_PX

__all__ = ["LABEL_CSS", "label_min_zoom", "label_rows", "add_labels"]

#: Suffixes dropped from a community name on a label (the grid number follows it).
_NAME_SUFFIXES = ("社区居委会", "居委会", "社区", "村委会", "村")


def _short_name(name) -> str:
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    name = str(name).strip()
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def label_min_zoom(grids: gpd.GeoDataFrame, min_px: float = MAP_LABEL_MIN_PX) -> np.ndarray:
    """Per grid, the web-map zoom from which its label fits: the polygon's size (square root of
    its area) spans at least ``min_px`` screen pixels, so that labels of small, dense grids do
    not pile up when the map shows a whole street.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons (any CRS).
    min_px : float
        Screen pixels the grid's size must cover.

    Returns
    -------
    ndarray of float
        Zoom levels, rounded up to the map's 0.25 zoom steps.
    """
    if len(grids) == 0:
        return np.empty(0)
    geom = to_wgs84(grids).geometry.values
    lat = np.radians(shapely.get_y(shapely.centroid(geom)))
    # Area from degrees with the local scale: ample for a label threshold, and it spares the
    # UTM lookup of a projection (a tenth of a second) on every map the app draws.
    area = shapely.area(geom) * (111_320.0**2) * np.cos(lat)
    size = np.sqrt(np.maximum(area, 1e-6))
    # Web-Mercator ground resolution: 156543.03 m per pixel at zoom 0 on the equator
    z = np.log2(156543.03 * np.cos(lat) * min_px / size)
    return np.ceil(z * 4) / 4


#: The labels' look (a permanent tooltip without its box), in the map page's header.
LABEL_CSS = (
    "<style>.gp-label{background:transparent;border:0;box-shadow:none;padding:0;"
    "font:11px sans-serif;color:#111;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 2px #fff;"
    "white-space:nowrap}.gp-label:before{display:none}</style>"
)


class _ZoomLabels(MacroElement):
    """All the labels of a map in one element, each group shown only from its zoom level on.

    Hand-written: folium has no per-layer minimum zoom, and a folium marker with a tooltip per
    label costs two Jinja templates per grid in Python (most of a click's server time on the
    sample's 77 grids); here the labels go to the page as one JSON list and Leaflet builds them.

    The labels belong to the map, or to a feature group that the app swaps on the live map
    (streamlit-folium's ``feature_group_to_add``): then the zoom handler starts when that group
    is added and stops when it is removed, so swapped groups leave no handler behind.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var parent = {{ this._parent.get_name() }};
            var groups = {{ this.groups|tojson }}.map(function(g) {
                var layer = L.featureGroup();
                g[1].forEach(function(x) {
                    L.circleMarker([x[0], x[1]], {radius: 0, weight: 0, opacity: 0, fill: false,
                                                  interactive: false})
                        .bindTooltip(x[2], {permanent: true, sticky: false, direction: "center",
                                            className: "gp-label", interactive: false})
                        .addTo(layer);
                });
                return [layer, g[0]];
            });
            function start(map) {
                function gpLabels() {
                    var z = map.getZoom();
                    groups.forEach(function(g) {
                        if (z >= g[1]) { if (!parent.hasLayer(g[0])) { parent.addLayer(g[0]); } }
                        else if (parent.hasLayer(g[0])) { parent.removeLayer(g[0]); }
                    });
                }
                map.on("zoomend", gpLabels);
                gpLabels();
                return gpLabels;
            }
            if (parent instanceof L.Map) { start(parent); return; }
            var handler = null, on = null;
            parent.on("add", function() { on = parent._map; handler = start(on); });
            parent.on("remove", function() {
                if (on && handler) { on.off("zoomend", handler); }
                groups.forEach(function(g) { parent.removeLayer(g[0]); });
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, groups: list):
        super().__init__()
        self._name = "ZoomLabels"
        self.groups = groups


def label_rows(g: gpd.GeoDataFrame, lang: str) -> list[list]:
    """Each grid's label: ``[zoom from which it shows, lat, lon, HTML, grid_id]``.

    Parameters
    ----------
    g : GeoDataFrame
        Grids (EPSG:4326) with ``grid_id``, ``households`` and optionally ``community_name``.
    lang : {"zh", "en"}

    Returns
    -------
    list of list
        In the grids' order; the zoom is that of :func:`label_min_zoom` (at least 0).
    """
    pts = shapely.point_on_surface(g.geometry.values)
    # the community's short name first: grid numbers restart in every community
    places = g["community_name"].map(_short_name).tolist() if "community_name" in g.columns else [""] * len(g)
    unit = t("unit_households", lang)
    rows = []
    xs, ys = shapely.get_x(pts), shapely.get_y(pts)
    for gid, h, x, y, z, place in zip(g["grid_id"], g["households"], xs, ys, label_min_zoom(g), places):
        _, number = split_grid_id(gid)
        short = str(gid) if number is None else f"{number:02d}"
        html = f"{escape(place)}<b>{escape(short)}</b> {int(h)}{escape(unit)}"
        rows.append([float(max(z, 0.0)), round(float(y), 7), round(float(x), 7), html, str(gid)])
    return rows


def add_labels(
    parent: folium.Map | folium.FeatureGroup, g: gpd.GeoDataFrame, selected: str | None, lang: str
) -> None:
    """Grid code and households on the map, each grid's from the zoom at which it fits.

    Parameters
    ----------
    parent : folium.Map or folium.FeatureGroup
        Where the labels go. A feature group's map must carry :data:`LABEL_CSS` in its header.
    g : GeoDataFrame
        Grids (EPSG:4326) with ``grid_id``, ``households`` and optionally ``community_name``.
    selected : str, optional
        The selected grid, whose label shows at every zoom.
    lang : {"zh", "en"}
    """
    # Labels are permanent tooltips of invisible circle markers: an L.marker with a DivIcon
    # would first load Leaflet's default marker image from a path that does not exist here.
    if isinstance(parent, folium.Map):
        parent.get_root().header.add_child(folium.Element(LABEL_CSS), name="gp_label_css")
    # One group per zoom step: Leaflet then adds or removes a few layers on zoom, not hundreds
    # of tooltips. Labels are not interactive, so a click on a label still reaches the map
    # (and selects the grid under it). No group is on the map at first: the zoom handler adds
    # the groups that fit, so the labels of small grids never flash up.
    groups: dict[float, list] = {}
    for z, lat, lon, html, gid in label_rows(g, lang):
        groups.setdefault(0.0 if gid == selected else z, []).append([lat, lon, html])
    parent.add_child(_ZoomLabels([[z, groups[z]] for z in sorted(groups)]))
