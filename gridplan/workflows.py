"""The read -> validate -> plan sequences that the command line, the demo and the web map share.

Each entry point (``gridplan.cli``, ``gridplan.demo``, ``gridplan.app``) is a thin layer over
these functions, so that a layer is read, checked and planned the same way wherever it comes
from (the service-layer pattern of *Architecture Patterns with Python*).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

from gridplan.grids.api import PartitionResult, partition
from gridplan.io import files as io
from gridplan.io.validate import ValidationResult, validate_inputs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

__all__ = ["CONTRACT_LAYERS", "read_contract_layers", "checked_layers", "plan_grids"]

#: The contract layers in the order they are read and checked.
CONTRACT_LAYERS = ("households", "communities", "facilities", "buildings", "estates", "barriers")


def read_contract_layers(
    paths: Mapping[str, str | Path | None],
    *,
    columns: Mapping[str, dict] | None = None,
    coords: Mapping[str, str] | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Read the given contract layers with the one reader (:func:`gridplan.io.files.read_layer`).

    Parameters
    ----------
    paths : mapping
        Layer kind -> file; kinds that are absent or ``None`` are skipped.
    columns : mapping, optional
        Layer kind -> its field -> column mapping.
    coords : mapping, optional
        Layer kind -> datum of its longitude/latitude (default WGS-84).

    Returns
    -------
    dict
        Layer kind -> GeoDataFrame, for the layers given.
    """
    columns, coords = dict(columns or {}), dict(coords or {})
    return {
        kind: io.read_layer(
            paths[kind], kind, columns=columns.get(kind) or None, coords=coords.get(kind, "wgs84")
        )
        for kind in CONTRACT_LAYERS
        if paths.get(kind)
    }


def checked_layers(
    layers: Mapping[str, gpd.GeoDataFrame], *, names: Mapping[str, str] | None = None
) -> tuple[dict[str, gpd.GeoDataFrame], ValidationResult]:
    """Check the layers alone and against each other; return the cleaned layers and the result.

    The cleaned frames (repaired geometries, households joined to communities) replace the
    layers read; a layer the check could not clean keeps its input frame, and the result's
    problems say why.
    """
    result = validate_inputs(**dict(layers), names=dict(names or {}))
    frames = {**layers, **{k: v for k, v in result.frames.items() if v is not None}}
    return frames, result


def plan_grids(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
    micro_max: int | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = False,
    streets: gpd.GeoDataFrame | None = None,
) -> PartitionResult:
    """Partition the households of the layers (:func:`gridplan.partition`) with every optional
    layer that is present: buildings, estates, barriers and the street lines (``streets``, or
    the layer of that name, or else the ``network`` layer: the walking network's lines are the
    streets grid lines follow)."""
    if streets is None:
        streets = layers.get("streets")
    if streets is None and layers.get("network") is not None:
        streets = layers["network"][["geometry"]]
    return partition(
        layers["households"],
        layers["communities"],
        buildings=layers.get("buildings"),
        estates=layers.get("estates"),
        barriers=layers.get("barriers"),
        streets=streets,
        min_households=min_households,
        max_households=max_households,
        micro_max=micro_max or None,
        seed=seed,
        n_jobs=n_jobs,
        progress=progress,
    )
