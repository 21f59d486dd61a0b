"""gridplan: community grids (网格) and the 15-minute service circle (15分钟服务圈).

The public API, for notebooks and other systems. Most names load lazily so that a CLI command
pulls in only what it uses. ``partition`` and ``coverage`` are both a function and the module that
defines it; they are bound eagerly (see the end of this file) so that ``gp.partition`` is always
the function, whatever was imported before.

>>> import gridplan as gp
>>> hh = gp.read_households("data/households/households.geojson")      # doctest: +SKIP
>>> result = gp.partition(hh, gp.read_communities("data/boundaries/communities.geojson"))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    # io
    "read_households": "gridplan.io",
    "read_communities": "gridplan.io",
    "read_facilities": "gridplan.io",
    "read_buildings": "gridplan.io",
    "read_estates": "gridplan.io",
    "read_barriers": "gridplan.io",
    "read_layer": "gridplan.io",
    "write": "gridplan.io",
    # validation
    "validate_inputs": "gridplan.validate",
    # coordinates
    "wgs84_to_gcj02": "gridplan.coords",
    "gcj02_to_wgs84": "gridplan.coords",
    "gcj02_to_bd09": "gridplan.coords",
    "bd09_to_gcj02": "gridplan.coords",
    "wgs84_to_bd09": "gridplan.coords",
    "bd09_to_wgs84": "gridplan.coords",
    # households from buildings
    "households_from_buildings": "gridplan.buildings",
    "buildings_from_osm": "gridplan.buildings",
    # grids
    "partition": "gridplan.partition",
    "PartitionResult": "gridplan.partition",
    # walking network and the 15-minute circle
    "load_network": "gridplan.network",
    "WalkNetwork": "gridplan.network",
    "coverage": "gridplan.coverage",
    "CoverageResult": "gridplan.coverage",
    "write_coverage": "gridplan.coverage",
    "network_from_lines": "gridplan.network",
    "isochrones": "gridplan.isochrones",
    # siting
    "site": "gridplan.siting",
    "SitingResult": "gridplan.siting",
    # plans and edits
    "Plan": "gridplan.plan",
    # codes, exports, figures, one network (一张网)
    "grid_codes": "gridplan.codes",
    "carry_codes": "gridplan.codes",
    "export_layers": "gridplan.export",
    "write_geopackage": "gridplan.export",
    "write_excel": "gridplan.export",
    "plot_grids": "gridplan.figures",
    "plot_coverage": "gridplan.figures",
    "ReconcileResult": "gridplan.reconcile",
    # sample district
    "make_sample": "gridplan.sample",
    "load_sample": "gridplan.sample",
    "write_sample": "gridplan.sample",
    # norms
    "Norms": "gridplan.standards",
    "DEFAULT_NORMS": "gridplan.standards",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module 'gridplan' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__


# Importing a submodule binds its name on the package (``gridplan.coverage`` -> module). Binding
# the functions after that first import keeps ``gp.coverage(...)`` a call, in any import order.
from gridplan.coverage import CoverageResult, coverage  # noqa: E402
from gridplan.partition import PartitionResult, partition  # noqa: E402
