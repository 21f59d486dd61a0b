"""Grids of exactly the minimum or the maximum are in the band (300 and 500 are allowed).

Random communities almost never need a grid of exactly 300 households, so an off-by-one in the
band test (``w < lo`` read as ``w <= lo``) survived the property tests; these cases need one.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _partition_checks import check_invariants

from gridplan.grids.api import partition
from gridplan.grids.search import violation, whole_grids_possible

UTM = "EPSG:32649"
X0, Y0 = 300_000.0, 3_390_000.0
LO, HI = 300, 500


def test_violation_at_the_band_edges():
    w = np.array([0, 1, LO - 1, LO, LO + 1, HI - 1, HI, HI + 1])
    assert violation(w, LO, HI).tolist() == [0, LO - 1, 1, 0, 0, 0, 0, 1]
    assert whole_grids_possible(2 * LO, LO, HI) and whole_grids_possible(2 * HI, LO, HI)
    assert not whole_grids_possible(HI + 1, LO, HI)


@pytest.mark.parametrize("sizes", [(LO, LO), (HI, HI), (LO, HI), (LO, LO, LO)])
def test_only_split_has_grids_at_the_edges(sizes):
    # one building per grid-to-be, in a row: the only split puts each in a grid of its own
    n = len(sizes)
    community = shapely.box(X0, Y0, X0 + 300 * n, Y0 + 200)
    xy = [(X0 + 150 + 300 * k, Y0 + 100) for k in range(n)]
    households = gpd.GeoDataFrame(
        {"households": list(sizes), "building_id": [f"B{k}" for k in range(n)]},
        geometry=shapely.points(np.asarray(xy)),
        crs=UTM,
    ).to_crs(4326)
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["测试社区"]}, geometry=[community], crs=UTM
    ).to_crs(4326)
    res = partition(households, communities, seed=0, n_jobs=1)
    check_invariants(res, households, communities, LO, HI)
    assert sorted(res.grids["households"]) == sorted(sizes)
    assert (res.grids["status"] == "ok").all(), res.grids[["households", "reason"]]
