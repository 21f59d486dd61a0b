"""The checks every stage's entry point applies to frames handed in by the API.

Files read by :mod:`gridplan.io.files` are already checked and conformed; these functions guard
the GeoDataFrames that analysts build themselves. They are the only copy of each rule: the grid
stage, the coverage stage, siting and plan edits all call them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.io.fields import count_column
from gridplan.io.problems import Problem
from gridplan.norms import FACILITY_KINDS

__all__ = ["check_points", "household_counts", "facility_frame"]


def check_points(gdf: gpd.GeoDataFrame, file: str) -> None:
    """Refuse anything but a GeoDataFrame with a CRS and a point in every row.

    Parameters
    ----------
    gdf : GeoDataFrame
    file : str
        The layer's name in messages (``"households"``, ``"facilities"``).

    Raises
    ------
    InputError
        Not a GeoDataFrame, no CRS, or rows without a point geometry (rows listed).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"{file} must be a GeoDataFrame of points",
            file=file,
            fix=f"read them with gridplan.read_{file}",
            message_zh=f"{file} 必须是点要素的 GeoDataFrame",
        )
    if gdf.crs is None:
        raise InputError(
            "the layer has no CRS",
            file=file,
            fix=f"read it with gridplan.read_{file}, which sets one",
            message_zh="图层没有坐标参考系",
        )
    geom = gdf.geometry.values
    bad = shapely.is_missing(geom) | shapely.is_empty(geom) | (shapely.get_type_id(geom) != 0)
    if bad.any():
        raise InputError(
            "rows without a point geometry",
            file=file,
            rows=np.flatnonzero(bad).tolist(),
            fix="give every row a point (lon/lat)",
            message_zh="部分记录没有点坐标",
            fix_zh="为每条记录提供经纬度",
        )


def household_counts(frame: pd.DataFrame, file: str = "households") -> np.ndarray:
    """Households per row: the ``households`` column, or 1 per row without it.

    Parameters
    ----------
    frame : DataFrame
    file : str
        The layer's name in messages.

    Returns
    -------
    ndarray of int64
        Aligned to ``frame``'s rows.

    Raises
    ------
    InputError
        A count that is not a whole number >= 1: missing, text, 2.5, 0, negative, or a
        boolean (``True`` is not a count).
    """
    if "households" not in frame.columns:
        return np.ones(len(frame), dtype=np.int64)
    # the reader's own rule (gridplan.io.fields), so a frame and a file are judged alike
    problems: list[Problem] = []

    def add(severity, code, message, *, column=None, rows=(), fix="", message_zh="", fix_zh=""):
        problems.append(Problem(severity, code, file, column, list(rows), message, fix, message_zh, fix_zh))

    counts = pd.DataFrame({"households": frame["households"].to_numpy(dtype=object)})
    counts.attrs = dict(getattr(frame, "attrs", {}))
    count_column(counts, "households", add, required=True, minimum=1, unit_word="户")
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(
            "households must be a whole number >= 1 (" + "; ".join(p.message for p in errors) + ")",
            file=file,
            column="households",
            rows=sorted({r for p in errors for r in p.rows}),
            fix="correct these rows, or drop the column to count one household per row",
            message_zh="户数必须是不小于 1 的整数",
            fix_zh="请更正这些行，或删除该列（每行按 1 户计）",
        )
    return counts["households"].to_numpy(dtype=np.int64)


def facility_frame(facilities: gpd.GeoDataFrame, kinds=FACILITY_KINDS) -> gpd.GeoDataFrame:
    """Facilities with string ``facility_id`` (unique, never empty) and a known ``kind``.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points with ``facility_id`` and ``kind``.
    kinds : sequence of str
        The kinds the caller asks for; each must be a known facility kind.

    Returns
    -------
    GeoDataFrame
        A copy, same index and rows.

    Raises
    ------
    InputError
        A required column missing, empty or duplicated ids, an unknown kind.
    """
    check_points(facilities, "facilities")
    for col in ("facility_id", "kind"):
        if col not in facilities.columns:
            raise InputError(
                "required column missing",
                file="facilities",
                column=col,
                fix=f"add it, or map it with --map {col}=YOUR_COLUMN",
                message_zh="缺少必需的列",
            )
    no_id = facilities["facility_id"].isna()
    if no_id.any():
        raise InputError(
            "facility_id is empty",
            file="facilities",
            column="facility_id",
            rows=np.flatnonzero(no_id.to_numpy()).tolist(),
            fix="give every facility its own id",
            message_zh="facility_id 为空",
        )
    fid = facilities["facility_id"].astype(str)
    dup = fid.duplicated(keep=False)
    if dup.any():
        names = ", ".join(sorted(set(fid[dup]))[:5])
        raise InputError(
            f"facility_id values are not unique ({names})",
            file="facilities",
            column="facility_id",
            rows=np.flatnonzero(dup.to_numpy()).tolist(),
            fix="give every facility its own id",
            message_zh=f"facility_id 有重复（{names}）",
        )
    kind = facilities["kind"].astype(str)
    unknown = ~kind.isin(FACILITY_KINDS)
    if unknown.any():
        raise InputError(
            f"kind must be one of {', '.join(FACILITY_KINDS)}",
            file="facilities",
            column="kind",
            rows=np.flatnonzero(unknown.to_numpy()).tolist(),
            fix="correct the kind of these rows",
            message_zh="设施类型不正确",
        )
    bad_kinds = sorted(set(kinds) - set(FACILITY_KINDS))
    if bad_kinds:
        raise InputError(
            f"unknown facility kinds {bad_kinds}",
            fix=f"choose from {', '.join(FACILITY_KINDS)}",
            message_zh=f"未知的设施类型 {bad_kinds}",
        )
    out = facilities.copy()
    out["facility_id"] = fid
    out["kind"] = kind
    return out
