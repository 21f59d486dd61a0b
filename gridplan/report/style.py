"""Colours shared by the report figures (PNG) and the web map, so a grid has one colour.

Grid status follows a traffic light (in band / under / over); walking times a diverging
ColorBrewer ramp (RdYlGn), so the 15-minute line reads the same on paper and on screen.
"""

from __future__ import annotations

__all__ = [
    "STATUS_COLOURS",
    "WALK_COLOURS",
    "UNREACHABLE_COLOUR",
    "FACILITY_COLOURS",
    "ISOCHRONE_COLOURS",
    "COVERED_COLOUR",
    "UNCOVERED_COLOUR",
    "BOUNDARY_COLOUR",
]

#: Fill colours of grids by status: in band, under, over.
STATUS_COLOURS = {"ok": "#2e9d5b", "under": "#f0a030", "over": "#d64541"}
#: Household colours by walking time to the nearest centre (upper bound in minutes).
WALK_COLOURS = [(5, "#1a9850"), (10, "#91cf60"), (15, "#fee08b"), (30, "#fc8d59"), (float("inf"), "#d73027")]
UNREACHABLE_COLOUR = "#7b3294"
FACILITY_COLOURS = {"street_centre": "#08306b", "community_centre": "#2171b5", "station": "#6baed6"}
ISOCHRONE_COLOURS = {5: "#006d2c", 10: "#31a354", 15: "#74c476"}
#: Households inside / outside the service circle on the coverage figure.
COVERED_COLOUR = "#2171b5"
UNCOVERED_COLOUR = "#d64541"
BOUNDARY_COLOUR = "#333333"
