"""The basemaps a planner can choose: none (works offline), an intranet XYZ tile server, or
Tianditu (天地图) vector tiles with their annotation layer.

Tianditu serves Web-Mercator tiles as WMTS ``GetTile`` requests on the hosts ``t0`` to ``t7``
(``vec_w`` the vector map, ``cva_w`` its Chinese labels, both needed for a readable map) and
requires a key (``tk``) and its own credit on the map. No Streamlit here: the app's sidebar
makes the choice, :func:`gridplan.app.webmap.plan_map` draws the layers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

from gridplan.app.labels import text

__all__ = [
    "BASEMAPS",
    "TIANDITU_SUBDOMAINS",
    "Basemap",
    "tianditu_url",
    "basemap_layers",
    "default_basemap",
]

#: The chooser's options, in the order shown; the first is the default.
BASEMAPS = ("none", "xyz", "tianditu")
#: Tianditu's tile hosts (``{s}`` in its URLs).
TIANDITU_SUBDOMAINS = tuple(f"t{i}" for i in range(8))
#: Tianditu's highest zoom level for the Web-Mercator (``_w``) layers.
TIANDITU_MAX_ZOOM = 18


@dataclass(frozen=True)
class Basemap:
    """One tile layer of a basemap.

    Attributes
    ----------
    url : str
        Leaflet URL template (``{z}``, ``{x}``, ``{y}``, and ``{s}`` when ``subdomains``).
    attribution : str
        The credit the tile provider asks for, in the map's language.
    name : str
        The layer's name in the map's language.
    subdomains : tuple of str
        What ``{s}`` takes (empty: the URL has no ``{s}``).
    max_zoom : int
    """

    url: str
    attribution: str
    name: str
    subdomains: tuple[str, ...] = ()
    max_zoom: int = 19


def tianditu_url(layer: str, key: str) -> str:
    """The tile URL template of a Tianditu Web-Mercator layer.

    Parameters
    ----------
    layer : {"vec", "cva", "img", "cia", "ter", "cta"}
        ``vec`` vector map, ``cva`` its annotation (labels); the others: imagery, terrain and
        their annotations.
    key : str
        The planner's Tianditu key (``tk``), URL-encoded here.

    Returns
    -------
    str
    """
    return (
        f"https://{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={quote(key.strip(), safe='')}"
    )


def basemap_layers(choice: str, *, url: str = "", key: str = "", lang: str = "zh") -> list[Basemap]:
    """The tile layers of a basemap choice, bottom first.

    Parameters
    ----------
    choice : {"none", "xyz", "tianditu"}
    url : str
        The intranet tile server's URL template (``xyz``).
    key : str
        The Tianditu key (``tianditu``).
    lang : {"zh", "en"}
        Language of the credits and layer names.

    Returns
    -------
    list of Basemap
        Empty for ``none``, and when the URL or key a choice needs is missing: the map then
        draws on a plain background rather than asking for tiles that cannot come.
    """
    if choice == "xyz" and url.strip():
        # OpenStreetMap's own servers ask for their credit; an intranet server is named as such
        osm = "openstreetmap.org" in url
        credit = text("map_attribution_osm" if osm else "map_attribution_xyz", lang)
        return [Basemap(url.strip(), credit, text("map_basemap", lang))]
    if choice == "tianditu" and key.strip():
        credit = text("map_attribution_tianditu", lang)
        return [
            Basemap(
                tianditu_url(layer, key),
                credit,
                text(name, lang),
                TIANDITU_SUBDOMAINS,
                TIANDITU_MAX_ZOOM,
            )
            for layer, name in (("vec", "map_basemap"), ("cva", "map_basemap_labels"))
        ]
    return []


def default_basemap() -> tuple[str, str]:
    """The chooser's start: (choice, URL). An intranet server named in ``$GRIDPLAN_TILES``, else
    none: public tiles fail on an intranet, and the vector layers draw without any."""
    env = (os.environ.get("GRIDPLAN_TILES") or "").strip()
    if env and env.lower() not in ("none", "off"):
        return "xyz", env
    return "none", ""
