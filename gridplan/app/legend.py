"""The web map's legend: grid status colours, locked grids, community boundaries, centre kinds
and recommended sites, in the map's language.

Written by hand as a small Leaflet control: folium has no legend element (branca's colormaps
are continuous scales, not categories).
"""

from __future__ import annotations

import functools
from html import escape

import folium
from branca.element import MacroElement
from jinja2 import Template

from gridplan.app.labels import text
from gridplan.report.style import FACILITY_COLOURS, STATUS_COLOURS

__all__ = ["COMMUNITY_LINE", "legend_html", "add_legend"]

#: How community boundaries are drawn: heavier and darker than grid lines (weight 1.2).
COMMUNITY_LINE = {"color": "#000000", "weight": 3.5, "opacity": 0.9}


def _swatch(fill: str, *, line: str = "#333333", dash: bool = False, round_: bool = False) -> str:
    style = (
        f"display:inline-block;width:14px;height:{14 if not round_ else 12}px;margin-right:6px;"
        f"vertical-align:middle;background:{fill};border:{2 if dash else 1}px "
        f"{'dashed' if dash else 'solid'} {line};{'border-radius:50%;' if round_ else ''}"
    )
    return f'<span style="{style}"></span>'


def _line() -> str:
    c = COMMUNITY_LINE
    return (
        '<span style="display:inline-block;width:18px;margin-right:6px;vertical-align:middle;'
        f'border-top:{c["weight"]}px solid {c["color"]}"></span>'
    )


def legend_html(lang: str = "zh", *, kinds=(), sites: bool = False, communities: bool = False) -> str:
    """The legend's HTML (made once per language and content: every map rerun asks for it).

    Parameters
    ----------
    lang : {"zh", "en"}
    kinds : iterable of str
        The facility kinds on the map (one swatch each, in :data:`FACILITY_COLOURS` order).
    sites : bool
        Recommended sites are on the map.
    communities : bool
        Community boundaries are on the map.
    """
    return _legend_html(lang, tuple(kinds), bool(sites), bool(communities))


@functools.lru_cache(maxsize=32)
def _legend_html(lang: str, kinds: tuple, sites: bool, communities: bool) -> str:
    rows = [f"<b>{escape(text('legend_status', lang))}</b>"]
    rows += [
        _swatch(colour) + escape(text(f"status_{status}", lang)) for status, colour in STATUS_COLOURS.items()
    ]
    rows.append(_swatch("transparent", dash=True) + escape(text("legend_locked", lang)))
    if communities:
        rows.append(_line() + escape(text("legend_community", lang)))
    shown = [k for k in FACILITY_COLOURS if k in set(kinds)]
    if shown or sites:
        rows.append(f"<b>{escape(text('legend_centres', lang))}</b>")
    rows += [
        _swatch(FACILITY_COLOURS[k], line="#ffffff", round_=True) + escape(text(f"kind_{k}", lang))
        for k in shown
    ]
    if sites:
        rows.append(_swatch("#ffd700", line="#000000", round_=True) + escape(text("legend_site", lang)))
    return (
        '<div class="gp-legend" style="background:rgba(255,255,255,.9);padding:6px 8px;'
        'font:12px sans-serif;line-height:18px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        + "<br>".join(rows)
        + "</div>"
    )


class _Legend(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.html = html


def add_legend(fmap: folium.Map, lang: str = "zh", **what) -> None:
    """Put :func:`legend_html` on ``fmap`` (bottom right)."""
    fmap.add_child(_Legend(legend_html(lang, **what)))
