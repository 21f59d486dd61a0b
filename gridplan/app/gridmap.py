"""What the grids map of the app draws, as JSON for its browser component
(:mod:`gridplan.app.mapview`).

The grid layers (grids, community outlines, micro-grids, labels, legend) go to the browser once
per content: :func:`grid_payload` carries a ``version`` (a hash of its content), and the page
sends the layers again only when the browser does not hold that version. A click, a selection or
a focus then costs a message of a few hundred bytes, and the browser restyles the selected grid
itself. The selected grid's units are small and go on their own (:func:`unit_payload`).

The layers are made by the same code as the folium maps (:mod:`gridplan.app.webmap`: data
columns, styles, tooltips) and read back from the folium layer objects, so that the colours by
band status, the line styles and the tooltips have one definition for both.

No Streamlit here (see :mod:`gridplan.app.pages.grids`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import shapely

from gridplan.app.basemaps import Basemap
from gridplan.app.legend import legend_html
from gridplan.app.maplabels import LABEL_CSS, label_rows
from gridplan.app.webmap import (
    _add_communities,
    _add_grids,
    _add_micro_grids,
    _add_units,
    _present,
    _slim,
    _tile_layers,
    _zoom_for,
)
from gridplan.i18n import unit_text
from gridplan.io.projection import to_wgs84

__all__ = ["FOCUS_MIN_PX", "Payload", "grid_payload", "unit_payload", "basemap_spec", "home_view"]

#: A selection brings its grid into view when the grid is out of view or spans fewer screen
#: pixels than this (otherwise the planner's view stays).
FOCUS_MIN_PX = 16.0
#: Most grids that get labels (above, the labels would cover the map at every zoom).
MAX_LABELLED = 400
#: An id no grid or unit has: the webmap style functions, asked for a feature under this id,
#: give the feature's selected look (they compare the feature's id with the selected one).
_PICKED = "\x00picked"


@dataclass(frozen=True)
class Payload:
    """Map layers as the JSON text the component parses, and the version of that content."""

    text: str
    version: str

    @classmethod
    def of(cls, parts: dict[str, str]) -> Payload:
        """A JSON object of ``parts`` (name -> JSON text), versioned by a hash of its text: the
        same layers give the same version."""
        text = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in parts.items()) + "}"
        return cls(text, hashlib.sha1(text.encode("utf-8")).hexdigest()[:16])

    def data(self) -> dict:
        """The content as Python objects."""
        return json.loads(self.text)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _layer_spec(layer: folium.GeoJson, id_field: str | None = None, features: list | None = None) -> dict:
    """A folium GeoJson layer as the component draws it: its features (or ``features``, styled
    by the layer's style functions), each with the indices of its normal and its selected style
    in ``styles`` (property ``_s``), the hover style, the tooltip's fields and labels, and
    whether it takes clicks."""
    styles: list[dict] = []
    index: dict[str, int] = {}

    def number(style: dict) -> int:
        key = json.dumps(style, sort_keys=True)
        if key not in index:
            index[key] = len(styles)
            styles.append(style)
        return index[key]

    features = layer.data["features"] if features is None else features
    for f in features:
        p = f["properties"]
        normal = layer.style_function(f)
        chosen = layer.style_function({**f, "properties": {**p, id_field: _PICKED}}) if id_field else normal
        p["_s"] = [number(normal), number(chosen)]
    tooltip = next((c for c in layer._children.values() if isinstance(c, folium.GeoJsonTooltip)), None)
    return {
        "features": features,
        "styles": styles,
        "id": id_field,
        "highlight": layer.highlight_function(features[0]) if layer.highlight and features else None,
        "tooltip": [list(x) for x in zip(tooltip.fields, tooltip.aliases)] if tooltip else None,
        "interactive": layer.options.get("interactive", True) is not False,
    }


def _layers(group: folium.FeatureGroup) -> list[folium.GeoJson]:
    return [c for c in group._children.values() if isinstance(c, folium.GeoJson)]


def _spec_text(spec: dict, geometries=None) -> str:
    """A layer spec as JSON text; ``geometries``: GeoJSON texts that replace its features'."""
    head = _dumps({k: v for k, v in spec.items() if k != "features"})
    if geometries is None:
        features = _dumps(spec["features"])
    else:
        features = (
            "["
            + ",".join(
                '{"type":"Feature","properties":' + _dumps(f["properties"]) + ',"geometry":' + g + "}"
                for f, g in zip(spec["features"], geometries, strict=True)
            )
            + "]"
        )
    return head[:-1] + ',"features":' + features + "}"


def _layer_text(add: Callable, gdf: gpd.GeoDataFrame, id_field: str | None, *args) -> str:
    """The layer that ``add`` (a :mod:`gridplan.app.webmap` layer function, ``add(parent, gdf,
    *args)``, one feature per row) makes of ``gdf``, as the component's JSON text.

    The properties and styles come from ``add`` itself, run with a point standing in for each
    polygon: folium turns a layer into GeoJSON dicts twice over (most of a second for a city's
    grids), so the polygons are written by shapely's GeoJSON writer instead, at the precision
    of :func:`gridplan.app.webmap._slim`."""
    geometries = shapely.to_geojson(_slim(gdf[[gdf.geometry.name]], []).geometry.values)
    points = gpd.GeoSeries(shapely.points(np.zeros((len(gdf), 2))), index=gdf.index, crs=gdf.crs)
    group = folium.FeatureGroup()
    add(group, gdf.set_geometry(points), *args)
    return _spec_text(_layer_spec(_layers(group)[-1], id_field), geometries)


def grid_payload(
    grids: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    micro_grids: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    labels: bool = True,
) -> Payload:
    """The grid layers of the grids map, for the browser to keep.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids with ``grid_id``, ``households``, ``status`` (optional ``locked``), EPSG:4326.
    communities, micro_grids : GeoDataFrame, optional
        As in :func:`gridplan.app.webmap.plan_map`.
    lang : {"zh", "en"}
        Language of the tooltips, labels and legend.
    labels : bool
        Grid labels (up to :data:`MAX_LABELLED` grids).

    Returns
    -------
    Payload
        An object of ``grids``, ``communities``, ``micro_grids`` (layer specs: ``features``,
        ``styles``, ``id``, ``highlight``, ``tooltip``, ``interactive``; or null), ``labels``
        (``[zoom, lat, lon, html, grid_id]`` rows), ``legend`` and ``css`` (HTML).
    """
    parts = {"grids": _layer_text(_add_grids, grids, "grid_id", _PICKED, lang)}
    parts["communities"] = (
        _layer_text(_add_communities, communities, None, lang) if _present(communities) else "null"
    )
    parts["micro_grids"] = (
        _layer_text(_add_micro_grids, micro_grids, None, lang) if _present(micro_grids) else "null"
    )
    parts["labels"] = _dumps(label_rows(grids, lang) if labels and 0 < len(grids) <= MAX_LABELLED else [])
    parts["legend"] = _dumps(legend_html(lang, kinds=[], sites=False, communities=True))
    parts["css"] = _dumps(LABEL_CSS)
    return Payload.of(parts)


def unit_payload(
    units: gpd.GeoDataFrame,
    selected_grid: str,
    *,
    lang: str = "zh",
    unit_label: Callable[[object, str], str] = unit_text,
) -> Payload | None:
    """The selected grid's units (a second click in the grid picks one), or None when it has none.

    Parameters
    ----------
    units : GeoDataFrame
        Partition units (``unit_id``, ``grid_id``, ``households``).
    selected_grid : str
    lang : {"zh", "en"}
    unit_label : callable
        ``unit_label(unit_id, lang)``.

    Returns
    -------
    Payload or None
        An object of ``grid`` and ``layer`` (a layer spec, its features' ``unit_id`` as text).
    """
    mine = units[units["grid_id"].to_numpy() == selected_grid]
    if mine.empty:
        return None
    # Made on every click on a grid: a folium layer of a few units costs tens of milliseconds
    # of pandas and GeoJSON conversions, so the features are written here with the properties
    # of webmap._add_units (a test holds the two equal), and the styles and tooltip come from
    # its layer of one stand-in unit.
    ids = [str(u) for u in mine["unit_id"]]
    features = [
        {
            "type": "Feature",
            "properties": {
                "unit_id": u,
                "grid_id": g,
                "households": int(h),
                "unit_label": unit_label(u, lang),
            },
            "geometry": None,
        }
        for u, g, h in zip(ids, mine["grid_id"], mine["households"], strict=True)
    ]
    geometries = shapely.to_geojson(_slim(mine[[mine.geometry.name]], []).geometry.values)
    spec = _layer_spec(_unit_layer(lang), "unit_id", features)
    return Payload.of({"grid": _dumps(selected_grid), "layer": _spec_text(spec, geometries)})


@functools.lru_cache(maxsize=4)
def _unit_layer(lang: str) -> folium.GeoJson:
    """The layer :func:`gridplan.app.webmap._add_units` makes of one stand-in unit: the units'
    styles and tooltip, defined there (a feature's look depends on its id only)."""
    stand_in = gpd.GeoDataFrame(
        {"unit_id": ["u"], "grid_id": ["g"], "households": [0]}, geometry=[shapely.Point(0, 0)], crs=4326
    )
    group = folium.FeatureGroup()
    _add_units(group, stand_in, "g", _PICKED, lang, lambda u, code: "")
    return _layers(group)[-1]


def basemap_spec(tiles: str | Sequence[Basemap] | None, lang: str) -> list[dict]:
    """The basemap's tile layers, bottom first (see :func:`gridplan.app.webmap.plan_map`).

    Returns
    -------
    list of dict
        ``url``, ``attribution``, ``subdomains`` (a list; empty: ``abc``) and ``max_zoom``.
    """
    return [
        {"url": b.url, "attribution": b.attribution, "subdomains": list(b.subdomains), "max_zoom": b.max_zoom}
        for b in _tile_layers(tiles, lang)
    ]


def home_view(extent: gpd.GeoDataFrame, *, height: int = 560) -> list[float]:
    """The first view of the map, ``[lat, lon, zoom]``, showing ``extent`` (the communities).

    The zoom is computed here (:func:`gridplan.app.webmap._zoom_for`), not by Leaflet's
    fitBounds, which measures the frame while it is still being laid out.
    """
    g = to_wgs84(extent)
    minx, miny, maxx, maxy = g.total_bounds if len(g) else (114.0, 30.0, 114.1, 30.1)
    return [
        float((miny + maxy) / 2),
        float((minx + maxx) / 2),
        _zoom_for(minx, miny, maxx, maxy, height=height),
    ]
