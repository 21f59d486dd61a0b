"""gridplan: community grids (网格) and the 15-minute service circle (15分钟服务圈).

The public API, for notebooks and other systems. Names load lazily so that a CLI command pulls in
only what it uses. The stage folders are named for what they make (``grids``, ``access``), not
for the functions (``partition``, ``coverage``), so that no subpackage import can rebind
``gp.partition`` or ``gp.coverage``.

The pipeline, one folder a stage: ``io`` (read, check, write) -> ``grids`` (partition) ->
``network`` + ``access`` (walking times, 15-minute coverage) -> ``siting`` -> ``plan`` (edits)
-> ``report`` (codes, exports, figures). ``parallel`` runs the same jobs on Dask; ``cli`` and
``app`` are thin entry points over ``workflows``.

>>> import gridplan as gp
>>> sample = gp.load_sample()                  # the bundled district, as GeoDataFrames
>>> result = gp.partition(sample["households"], sample["communities"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    # io
    "read_households": "gridplan.io.files",
    "read_communities": "gridplan.io.files",
    "read_facilities": "gridplan.io.files",
    "read_buildings": "gridplan.io.files",
    "read_estates": "gridplan.io.files",
    "read_barriers": "gridplan.io.files",
    "read_layer": "gridplan.io.files",
    "write": "gridplan.io.files",
    # validation
    "validate_inputs": "gridplan.io.validate",
    # coordinates
    "wgs84_to_gcj02": "gridplan.io.coords",
    "gcj02_to_wgs84": "gridplan.io.coords",
    "gcj02_to_bd09": "gridplan.io.coords",
    "bd09_to_gcj02": "gridplan.io.coords",
    "wgs84_to_bd09": "gridplan.io.coords",
    "bd09_to_wgs84": "gridplan.io.coords",
    # households from buildings
    "households_from_buildings": "gridplan.prepare.buildings",
    "buildings_from_osm": "gridplan.prepare.buildings",
    # grids
    "partition": "gridplan.grids.api",
    "PartitionResult": "gridplan.grids.api",
    # walking network and the 15-minute circle
    "load_network": "gridplan.network.load",
    "WalkNetwork": "gridplan.network.graph",
    "coverage": "gridplan.access.coverage",
    "CoverageResult": "gridplan.access.coverage",
    "write_coverage": "gridplan.access.coverage",
    "network_from_lines": "gridplan.network.graph",
    "isochrones": "gridplan.network.isochrones",
    # siting
    "site": "gridplan.siting.api",
    "SitingResult": "gridplan.siting.api",
    # plans and edits
    "Plan": "gridplan.plan.model",
    "PlanStore": "gridplan.plan.store",
    # codes, exports, figures, one network (一张网)
    "grid_codes": "gridplan.report.codes",
    "carry_codes": "gridplan.report.codes",
    "export_layers": "gridplan.report.export",
    "write_geopackage": "gridplan.report.export",
    "write_excel": "gridplan.report.export",
    "plot_grids": "gridplan.report.figures",
    "plot_coverage": "gridplan.report.figures",
    "ReconcileResult": "gridplan.report.reconcile",
    # sample district
    "make_sample": "gridplan.datasets.sample",
    "load_sample": "gridplan.datasets.sample",
    "write_sample": "gridplan.datasets.sample",
    # norms
    "Norms": "gridplan.norms",
    "DEFAULT_NORMS": "gridplan.norms",
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
