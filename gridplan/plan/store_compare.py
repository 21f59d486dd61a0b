"""Two proposals side by side: figures in one table, and the grids that differ on a map.

Read from the stored pieces of the two versions (grids, unit map, households), without building
the plans, so that comparing is as quick as reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.errors import InputError
from gridplan.grids.figures import band_status
from gridplan.io.checks import household_counts
from gridplan.norms import DEFAULT_NORMS
from gridplan.plan.common import grid_sort_key
from gridplan.plan.store_pieces import frame_array, read_frame

__all__ = ["Comparison", "compare", "FIGURES"]

#: Rows of :attr:`Comparison.table`, in order.
FIGURES = (
    "grids",
    "grids_in_band",
    "share_in_band",
    "mean_compactness",
    "households",
    "households_moved",
    "share_covered",
    "grid_workers_needed",
)


@dataclass
class Comparison:
    """What :func:`compare` returns.

    Attributes
    ----------
    table : DataFrame
        One row per figure of :data:`FIGURES` (index ``figure``), one column per proposal
        (labelled ``name@version``). ``households_moved`` (households whose grid differs between
        the two) is the same in both columns; ``share_covered`` is NaN for a version saved
        without coverage.
    grids : GeoDataFrame
        The grids of either proposal that the other has not drawn the same (missing, or another
        outline): ``proposal``, ``grid_id``, ``community_id``, ``households``, ``status``,
        ``compactness`` and the polygon, EPSG:4326.
    """

    table: pd.DataFrame
    grids: gpd.GeoDataFrame


@dataclass
class _Side:
    label: str
    manifest: dict
    grids: gpd.GeoDataFrame
    household_grid: np.ndarray
    weights: np.ndarray
    covered: np.ndarray | None


def _side(store, spec) -> _Side:
    name, version = (spec, None) if isinstance(spec, str) else spec
    manifest = store.manifest(name, version)
    state = manifest["states"][manifest["state"]]
    tables = manifest["unit_tables"][manifest["tables"]]
    keys = [state["grids"], state["unit_grid"], tables["household_unit"], manifest["households"]]
    if manifest.get("coverage"):
        keys.append(manifest["coverage"])
    data = store.pieces(keys)
    unit_grid = frame_array(read_frame(data[state["unit_grid"]]), object)
    hh_unit = frame_array(read_frame(data[tables["household_unit"]]), np.int64)
    household_grid = np.full(len(hh_unit), None, dtype=object)
    inside = hh_unit >= 0
    household_grid[inside] = unit_grid[hh_unit[inside]]
    households = read_frame(data[manifest["households"]])
    covered = None
    if manifest.get("coverage"):
        covered = frame_array(read_frame(data[manifest["coverage"]]), bool)
    number = version if version is not None else store.versions(name)["version"].max()
    return _Side(
        f"{name}@{number}",
        manifest,
        read_frame(data[state["grids"]]),
        household_grid,
        household_counts(households, "households"),
        covered,
    )


def _figures(side: _Side, moved: int) -> dict:
    g = side.grids
    hh = g["households"].to_numpy()
    in_band = int(
        (band_status(hh, side.manifest["min_households"], side.manifest["max_households"]) == "ok").sum()
    )
    share_covered = np.nan
    if side.covered is not None:
        total = side.weights.sum()
        share_covered = round(float(side.weights[side.covered].sum() / total), 4) if total else np.nan
    return {
        "grids": len(g),
        "grids_in_band": in_band,
        "share_in_band": round(in_band / len(g), 4) if len(g) else np.nan,
        "mean_compactness": round(float(g["compactness"].mean()), 4),
        "households": int(hh.sum()),
        "households_moved": moved,
        "share_covered": share_covered,
        "grid_workers_needed": len(g) * DEFAULT_NORMS.grid_workers_per_grid,
    }


def compare(store, a, b) -> Comparison:
    """Compare two proposals of a :class:`~gridplan.plan.store.PlanStore`.

    Parameters
    ----------
    store : PlanStore
    a, b : str or (str, int)
        A proposal name (its latest version) or ``(name, version)``.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        The two were made from different household data (households cannot be matched).
    """
    left, right = _side(store, a), _side(store, b)
    if left.manifest["households"] != right.manifest["households"]:
        raise InputError(
            f"{left.label} and {right.label} were made from different household data",
            fix="compare proposals of the same district and data",
            message_zh=f"方案 {left.label} 与 {right.label} 的户数据不同，无法比较",
            fix_zh="请比较同一片区、同一数据的方案",
        )
    differs = left.household_grid != right.household_grid
    moved = int(left.weights[differs].sum())
    # object columns: counts stay whole numbers beside the shares
    table = pd.DataFrame(
        {
            left.label: pd.Series(_figures(left, moved), dtype=object),
            right.label: pd.Series(_figures(right, moved), dtype=object),
        },
        index=list(FIGURES),
    )
    table.index.name = "figure"
    return Comparison(table, _differing(left, right))


def _differing(left: _Side, right: _Side) -> gpd.GeoDataFrame:
    """Grids of each side that the other side has not drawn the same (by id and outline)."""
    parts = []
    cols = ["grid_id", "community_id", "households", "status", "compactness", "geometry"]
    for this, other in ((left, right), (right, left)):
        mine = this.grids
        theirs = other.grids.reindex(mine.index)
        same = theirs.geometry.notna().to_numpy() & np.array(
            [
                a.equals_exact(b, 0.0) if b is not None else False
                for a, b in zip(mine.geometry, theirs.geometry)
            ]
        )
        diff = mine.loc[~same].reset_index(drop=True)
        diff = diff[[c for c in cols if c in diff.columns]].copy()
        diff.insert(0, "proposal", this.label)
        parts.append(diff)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=left.grids.crs)
    order = sorted(
        range(len(out)),
        key=lambda i: (out["proposal"].iat[i] != left.label, grid_sort_key(out["grid_id"].iat[i])),
    )
    return out.iloc[order].reset_index(drop=True).to_crs(4326)
