"""The grids map of the app in two parts: a base map that stays in the browser, and the grid
layers that change with a selection or an edit.

streamlit-folium re-creates the whole Leaflet map (back to its first view) whenever the map's
script changes, but swaps a ``feature_group_to_add`` on the live map. So the base map carries
only what a click or an edit does not change (basemap, scale bar, legend, the label style, the
first view of the district), and :func:`grid_layer` carries the grids, the selected grid's
units, micro-grids, community outlines and labels. The planner's zoom and pan then survive every
rerun; :class:`_FocusSelected` zooms to a selected grid only when it is out of view or too small
to see.

No Streamlit here (see :mod:`gridplan.app.pages.grids`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from gridplan.app.basemaps import Basemap
from gridplan.app.legend import add_legend
from gridplan.app.maplabels import LABEL_CSS, add_labels
from gridplan.app.webmap import (
    _add_communities,
    _add_grids,
    _add_micro_grids,
    _add_units,
    _base_map,
    _present,
)
from gridplan.i18n import unit_text
from gridplan.io.projection import to_wgs84

__all__ = ["static_base", "grid_layer"]


class _FocusSelected(MacroElement):
    """When its layer is put on the map: fit the map to the selected grid if that grid is out of
    view or spans fewer than ``min_px`` pixels; otherwise leave the planner's view alone
    (hand-written: Leaflet has no "fit only if needed")."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var layer = {{ this._parent.get_name() }};
            var b = L.latLngBounds({{ this.bounds|tojson }});
            layer.on("add", function() {
                var map = layer._map;
                var a = map.latLngToContainerPoint(b.getSouthWest());
                var c = map.latLngToContainerPoint(b.getNorthEast());
                if (!map.getBounds().intersects(b) || a.distanceTo(c) < {{ this.min_px }}) {
                    map.fitBounds(b, {padding: [60, 60], maxZoom: 17, animate: false});
                }
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, bounds, min_px: float = 16.0):
        super().__init__()
        self._name = "FocusSelected"
        self.bounds = bounds
        self.min_px = min_px


def static_base(
    extent: gpd.GeoDataFrame,
    *,
    tiles: str | Sequence[Basemap] | None,
    lang: str,
    height: int = 560,
) -> folium.Map:
    """The part of the grids map that no click or edit changes.

    Parameters
    ----------
    extent : GeoDataFrame
        What the first view shows (the community polygons: edits do not move them, so the map's
        script, and with it the live map, stays the same across edits).
    tiles : str or sequence of Basemap, optional
        The basemap (see :func:`gridplan.app.webmap.plan_map`).
    lang : {"zh", "en"}
        Language of the legend and the attribution.
    height : int
        Map height in pixels.

    Returns
    -------
    folium.Map
    """
    fmap = _base_map(to_wgs84(extent), tiles=tiles, lang=lang, height=height)
    fmap.get_root().header.add_child(folium.Element(LABEL_CSS), name="gp_label_css")
    add_legend(fmap, lang, kinds=[], sites=False, communities=True)
    return fmap


def grid_layer(
    grids: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    units: gpd.GeoDataFrame | None = None,
    micro_grids: gpd.GeoDataFrame | None = None,
    selected_grid: str | None = None,
    selected_unit=None,
    lang: str = "zh",
    unit_label: Callable[[object, str], str] = unit_text,
    labels: bool = True,
    focus: bool = True,
) -> folium.FeatureGroup:
    """The changing layers of the grids map, as one feature group for ``feature_group_to_add``.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids with ``grid_id``, ``households``, ``status`` (optional ``locked``), EPSG:4326.
    communities, units, micro_grids : GeoDataFrame, optional
        As in :func:`gridplan.app.webmap.plan_map`.
    selected_grid, selected_unit : optional
        Highlighted grid and unit; the map zooms to the grid when it is out of view.
    lang : {"zh", "en"}
    unit_label : callable
        ``unit_label(unit_id, lang)``.
    labels : bool
        Grid labels (up to 400 grids).
    focus : bool
        Bring the selected grid into view if it is out of view or too small to see (when the
        selection has just changed: an edit or a click elsewhere leaves the planner's view).

    Returns
    -------
    folium.FeatureGroup
    """
    group = folium.FeatureGroup(name="grids", control=False)
    _add_grids(group, grids, selected_grid, lang)
    if _present(communities):
        _add_communities(group, communities, lang)
    if _present(micro_grids):
        _add_micro_grids(group, micro_grids, lang)
    if _present(units) and selected_grid is not None:
        _add_units(group, units, selected_grid, selected_unit, lang, unit_label)
    if labels and 0 < len(grids) <= 400:
        add_labels(group, grids, selected_grid, lang)
    if focus and selected_grid is not None:
        chosen = grids[grids["grid_id"] == selected_grid]
        if len(chosen):
            minx, miny, maxx, maxy = chosen.total_bounds
            group.add_child(_FocusSelected([[float(miny), float(minx)], [float(maxy), float(maxx)]]))
    return group
