"""grid_figures: the one computation of a grid's figures (households, population, buildings,
estates, area, compactness, status) and its rounding."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from gridplan.grids.figures import FIGURE_COLUMNS, grid_figures


def test_figures_of_two_grids():
    geoms = np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 100.123456, 50)], dtype=object)
    grid_of = np.array(["A", "A", "A", "B", "B", None, "Z"], dtype=object)
    hh = np.array([100, 150, 60, 20, 30, 5, 7])
    population = pd.Series([250.4, np.nan, "x", np.nan, None, 3.0, 9.0])
    building = np.array(["b1", "b1", None, None, None, "b9", "b9"], dtype=object)
    estate = np.array(["E1", None, "E2", None, None, "E1", "E1"], dtype=object)
    xy = np.array([[10, 10], [10, 10], [20.4, 30.2], [100.01, 10], [100.02, 10.3], [0, 0], [0, 0]])
    out = grid_figures(
        geoms,
        ["A", "B"],
        grid_of,
        hh,
        band=(200, 300),
        population=population,
        building=building,
        estate=estate,
        xy=xy,
    )
    assert list(out.columns) == FIGURE_COLUMNS
    assert out["grid_id"].tolist() == ["A", "B"]
    assert out["households"].tolist() == [310, 50]  # rows of other grids or none: not counted
    assert out["households"].dtype == np.int64
    # known populations summed and rounded, <NA> when the grid has none
    assert out["population"].dtype == "Int64"
    assert out["population"].iloc[0] == 250 and out["population"].isna().iloc[1]
    # b1 once, and the address of the row without a building id; B: both rows at one metre
    assert out["n_buildings"].tolist() == [2, 1]
    assert out["n_estates"].tolist() == [2, 0]
    assert out["area_m2"].tolist() == [10000.0, round(0.123456 * 50, 2)]
    assert out["compactness"].iloc[0] == round(math.pi / 4, 6)
    assert out["status"].tolist() == ["over", "under"]


def test_without_optional_columns_and_empty_grid():
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.Polygon()], dtype=object)
    out = grid_figures(geoms, ["A", "B"], ["A", "A"], [1, 2], band=(1, 2))
    assert out["population"].isna().all()
    assert out["n_buildings"].tolist() == [2, 0]  # rows without ids or location: one each
    assert out["n_estates"].tolist() == [0, 0]
    assert out["compactness"].tolist() == [round(math.pi / 4, 6), 0.0]
    assert out["status"].tolist() == ["over", "under"]
