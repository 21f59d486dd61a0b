"""gridplan's own Streamlit map component for the grids page: the grid layers stay in the browser.

A static bidirectional component (``frontend/index.html`` and ``frontend/gridmap.js``, plain
JavaScript speaking Streamlit's component protocol, no build step) on the vendored Leaflet.
streamlit-folium re-sends and re-parses the whole grid layer on every rerun and waits 250 ms
before it reports a click; here the layers (:func:`gridplan.app.gridmap.grid_payload`) go to the
browser only when it does not hold their version, and a click is reported at once.

What the browser holds is known two ways: the versions this session last sent, and the versions
the frame reports in its value (``held``) with every click or when it lacks the layers of a
render (a new frame after the page was left, a message lost to an interrupted run).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

from gridplan.app.gridmap import FOCUS_MIN_PX, Payload
from gridplan.app.webmap import VENDOR

__all__ = ["FRONTEND", "MAP_COMPONENT", "LEAFLET_COMPONENT", "to_send", "grid_map"]

FRONTEND = Path(__file__).resolve().parent / "frontend"
_map = components.declare_component("gridmap", path=str(FRONTEND))
# Streamlit serves only the folder of a declared component (symbolic links out of it are
# refused), so the vendored Leaflet is declared as a component of its own and the map's page
# loads it from ../gridplan.app.mapview.leaflet/: one copy of Leaflet, served by the app itself.
_leaflet = components.declare_component("leaflet", path=str(VENDOR / "leaflet"))
#: The components' names: their files are served under ``/component/<name>/``.
MAP_COMPONENT = _map.name
LEAFLET_COMPONENT = _leaflet.name


def to_send(value: dict | None, sent: dict, version: str, units_version: str | None) -> tuple[bool, bool]:
    """Whether the grid layers and the units must go to the browser with this render.

    Parameters
    ----------
    value : dict or None
        The component's value: the frame's last message (``n``, ``held`` versions).
    sent : dict
        What this session sent last: ``data`` and ``units`` versions, and the ``n`` of the
        frame's message it had seen then.
    version, units_version : str
        The versions to show (``units_version`` None: no units).

    Returns
    -------
    (bool, bool)
        Send the layers; send the units.
    """
    n = value.get("n") if isinstance(value, dict) else None
    # a message not seen before says what the frame holds now
    held = (value.get("held") or {}) if isinstance(value, dict) and n != sent["n"] else None
    # the value is gone when Streamlit dropped the widget (the page was left): a new frame
    fresh = value is None and sent["n"] is not None
    send_data = fresh or sent["data"] != version or (held is not None and held.get("data") != version)
    send_units = units_version is not None and (
        fresh or sent["units"] != units_version or (held is not None and held.get("units") != units_version)
    )
    return send_data, send_units


def grid_map(
    data: Payload,
    units: Payload | None,
    *,
    selected_grid: str | None,
    selected_unit: Any,
    focus: int | None,
    tiles: list[dict],
    home: list[float],
    key: str,
    memory: MutableMapping,
    height: int = 560,
) -> dict | None:
    """Draw the grids map; the layers are sent only when the browser does not hold them.

    Parameters
    ----------
    data : Payload
        :func:`gridplan.app.gridmap.grid_payload`.
    units : Payload, optional
        :func:`gridplan.app.gridmap.unit_payload` of the selected grid.
    selected_grid, selected_unit : optional
        The selection, drawn in its selected style (the selected grid's label at every zoom).
    focus : int, optional
        Given on the run that brings the selected grid into view (if it is out of view or too
        small), a number new to the frame; None on other runs.
    tiles : list of dict
        :func:`gridplan.app.gridmap.basemap_spec`.
    home : list of float
        The first view, ``[lat, lon, zoom]`` (:func:`gridplan.app.gridmap.home_view`); a new
        one (another district) moves the map there.
    key : str
        The component's key; its value is kept under it in ``memory``.
    memory : MutableMapping
        The session state, where the versions sent are kept too.
    height : int
        Map height in pixels.

    Returns
    -------
    dict or None
        The component's value: ``last_clicked`` (``lat``, ``lng``, ``n``), ``n``, ``held``.
    """
    value = memory.get(key)
    sent = memory.setdefault(f"_{key}_sent", {"data": None, "units": None, "n": None})
    units_version = units.version if units else None
    send_data, send_units = to_send(value, sent, data.version, units_version)
    n = value.get("n") if isinstance(value, dict) else None
    sent.update(data=data.version, units=units_version, n=n)
    # the layers go as JSON text (parsed in the frame): Streamlit then writes a string, not
    # the nested objects again
    return _map(
        data=data.text if send_data else None,
        version=data.version,
        units=units.text if send_units else None,
        units_version=units_version,
        selected_grid=selected_grid,
        selected_unit=None if selected_unit is None else str(selected_unit),
        focus=focus,
        focus_min_px=FOCUS_MIN_PX,
        tiles=tiles,
        home=home,
        seen=n,
        height=height,
        key=key,
        default=None,
    )
