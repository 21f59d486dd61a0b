"""``household_counts``: the one check of a households column (whole numbers >= 1).

The readers reject a count of 0 on their own, so a ``household_counts`` that accepted 0 went
unnoticed; frames given straight to ``partition`` reach only this check.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan.errors import InputError
from gridplan.grids.api import partition
from gridplan.io.checks import household_counts


@pytest.mark.parametrize("bad", [0, -1, 2.5, None, "x", True])
def test_household_counts_rejects(bad):
    frame = pd.DataFrame({"households": pd.array([3, bad, 1], dtype=object)})
    with pytest.raises(InputError) as exc:
        household_counts(frame)
    assert exc.value.column == "households" and exc.value.rows == [1]


def test_household_counts_accepts_whole_numbers_from_one():
    got = household_counts(pd.DataFrame({"households": [1, 2, 500.0]}))
    assert got.tolist() == [1, 2, 500] and got.dtype == np.int64
    assert household_counts(pd.DataFrame({"x": [1, 2]})).tolist() == [1, 1]


def test_partition_rejects_a_zero_count():
    utm = "EPSG:32649"
    households = gpd.GeoDataFrame(
        {"households": [5, 0]},
        geometry=shapely.points([(300_050.0, 3_390_050.0), (300_060.0, 3_390_060.0)]),
        crs=utm,
    ).to_crs(4326)
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["测试社区"]},
        geometry=[shapely.box(300_000, 3_390_000, 300_200, 3_390_200)],
        crs=utm,
    ).to_crs(4326)
    with pytest.raises(InputError, match="whole number"):
        partition(households, communities, n_jobs=1)
