"""Who reaches whom: the households x sites coverage matrix and coverage by existing sites.

Both measure walking distance like :func:`gridplan.access.coverage.coverage` (exact edge
snapping, access legs walked) with the same tolerance at the threshold
(:data:`gridplan.norms.COVER_TOL_M`), so the gain a siting run claims is the gain a coverage run
measures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from gridplan.norms import COVER_TOL_M

__all__ = ["covered_within", "reach_matrix"]


def reach_matrix(
    network, households_snap: pd.DataFrame, sites_snap: pd.DataFrame, cutoff_m: float
) -> sparse.csr_array:
    """Boolean households x sites matrix: the site is within ``cutoff_m`` walking.

    The adapter to :meth:`gridplan.network.graph.WalkNetwork.reach_matrix` (batched multi-source
    Dijkstra, exact edge snapping, access legs walked).

    Parameters
    ----------
    network : WalkNetwork
    households_snap, sites_snap : DataFrame
        :meth:`~gridplan.network.graph.WalkNetwork.snap` of the households and of the sites.
    cutoff_m : float
        Walking distance of the service circle.

    Returns
    -------
    scipy.sparse.csr_array of bool
    """
    if len(households_snap) == 0 or len(sites_snap) == 0:
        return sparse.csr_array((len(households_snap), len(sites_snap)), dtype=bool)
    D = network.reach_matrix(sites_snap, households_snap, cutoff_m + COVER_TOL_M)
    D = sparse.csr_array(D)
    A = sparse.csr_array((D.data <= cutoff_m + COVER_TOL_M, D.indices, D.indptr), shape=D.shape)
    A.eliminate_zeros()
    return A


def covered_within(
    network, sites_snap: pd.DataFrame | None, households_snap: pd.DataFrame, cutoff_m: float
) -> np.ndarray:
    """Households within ``cutoff_m`` of any of the sites (one multi-source Dijkstra).

    Returns
    -------
    ndarray of bool
        All False when there is no site.
    """
    if sites_snap is None or len(sites_snap) == 0:
        return np.zeros(len(households_snap), dtype=bool)
    d = network.nearest(sites_snap, households_snap)["dist_m"].to_numpy()
    return np.isfinite(d) & (d <= cutoff_m + COVER_TOL_M)
