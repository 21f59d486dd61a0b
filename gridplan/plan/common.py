"""Small value helpers shared by the plan's modules: grid code order, plain JSON values."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.errors import InputError
from gridplan.grids.numbering import split_grid_id

__all__ = ["grid_sort_key", "jsonable", "plain", "require_columns", "sort_grids", "sorted_ids"]


def grid_sort_key(grid_id: str) -> tuple:
    """Sort key of a grid code ``<community>-<NN>``: by community, then by number.

    Parameters
    ----------
    grid_id : str

    Returns
    -------
    tuple
        ``(prefix, number, code)``; a code without a numeric tail sorts after the numbered ones.
    """
    head, number = split_grid_id(grid_id)
    return (head, math.inf if number is None else number, str(grid_id))


def sort_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grid rows (indexed by grid id) in :func:`grid_sort_key` order.

    Parameters
    ----------
    grids : GeoDataFrame
        Indexed by grid id.

    Returns
    -------
    GeoDataFrame
    """
    order = sorted(grids.index, key=grid_sort_key)
    return grids.loc[order]


def sorted_ids(frame: pd.DataFrame, column: str) -> list:
    """Distinct non-null values of ``column`` sorted as text (empty when there is no column).

    Parameters
    ----------
    frame : DataFrame
    column : str

    Returns
    -------
    list
    """
    if column not in frame:
        return []
    values = frame[column].dropna().unique().tolist()
    return sorted(values, key=str)


def plain(value):
    """``value`` as a plain Python value: numpy scalars unwrapped, ``pd.NA`` as None.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
    """
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA:
        return None
    return value


def jsonable(obj):
    """``obj`` reduced to JSON types (numpy scalars, tuples, NaN -> None).

    Parameters
    ----------
    obj : object

    Returns
    -------
    object
        What ``json.loads(json.dumps(obj))`` gives, other values written as text.
    """
    return json.loads(json.dumps(obj, default=lambda o: plain(o) if isinstance(o, np.generic) else str(o)))


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Refuse ``frame`` when it lacks any of ``columns``.

    Parameters
    ----------
    frame : DataFrame
    columns : sequence of str
    what : str
        The frame's name in the message.

    Raises
    ------
    InputError
        Naming the missing columns.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(missing)}",
            column=missing[0],
            fix=f"give {what} the columns {', '.join(columns)}",
            message_zh=f"{what} 缺少列 {', '.join(missing)}",
        )
