"""The Lagrangian-guided search of maximal covering against facts computed independently.

Every Lagrangian value is held against the LP relaxation written out with ``linprog`` in
tests/_cover_ref.py (L(lam) >= LP >= optimum for every lam in [0, w]) and against brute force.
The restricted-MILP path (more than 100 candidates, a time limit of at least 4 s) is held
against the optimum of the full MILP written out here with ``scipy.optimize.milp`` on the
unreduced matrix: the certified gap can never be smaller than the true gap.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from _cover_ref import brute_max, check_max_claim, covered, lp_max
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from gridplan.siting import solvers as S
from gridplan.siting.greedy import _swap_search
from gridplan.siting.lagrange import _Dual, _lagrangian


def _city(seed, n=1500, side=14, spacing=100.0, radius=320.0):
    """Households in clusters, candidates on a lattice, coverage within ``radius`` (as the bench,
    about 1/60 of its size)."""
    rng = np.random.default_rng(seed)
    extent = side * spacing
    centres = rng.uniform(0, extent, (25, 2))
    pts = np.clip(centres[rng.integers(0, 25, n)] + rng.normal(0, 120.0, (n, 2)), 0, extent)
    xs = (np.arange(side) + 0.5) * spacing
    cands = np.column_stack([np.repeat(xs, side), np.tile(xs, side)])
    D = cKDTree(pts).sparse_distance_matrix(cKDTree(cands), radius, output_type="coo_matrix")
    A = sp.csr_array((np.ones(D.nnz, dtype=bool), (D.row, D.col)), shape=D.shape)
    return A, rng.integers(1, 6, n).astype(float)


def _exact_max(A, w, k) -> float:
    """Optimum of maximal covering: max w.y, y_i <= sum_j a_ij x_j, sum x <= k, x binary."""
    A = sp.csr_array(A, dtype=float)
    n, m = A.shape
    rows = sp.hstack([-A, sp.eye_array(n)], format="csr")
    budget = sp.csr_array(np.r_[np.ones(m), np.zeros(n)][None, :])
    res = milp(
        np.r_[np.zeros(m), -w],
        integrality=np.r_[np.ones(m), np.zeros(n)],
        bounds=Bounds(0, 1),
        constraints=[LinearConstraint(rows, -np.inf, 0), LinearConstraint(budget, 0, k)],
        options={"mip_rel_gap": 0.0, "time_limit": 300},
    )
    assert res.status == 0, res.message
    return -float(res.fun)


def test_every_lagrangian_value_bounds_the_lp_and_the_optimum():
    rng = np.random.default_rng(5)
    for _ in range(25):
        n, m, k = int(rng.integers(5, 40)), int(rng.integers(3, 11)), int(rng.integers(1, 4))
        A = sp.csr_array(rng.random((n, m)) < rng.uniform(0.1, 0.5))
        w = rng.integers(1, 30, n).astype(float)
        lp, best = lp_max(A, w, k), brute_max(A, w, k)
        dual = _Dual(A, w, k, w)
        for lam in (np.zeros(n), w, rng.uniform(0, 1, n) * w, S.greedy_max_cover(A, w, k=k).lam):
            value, _, _ = dual.value(lam)
            assert value >= lp - 1e-6 * max(1.0, lp) and lp >= best - 1e-6
        bound, lam = _lagrangian(A, w, k, best - 1.0, w, deadline=float("inf"), integral=True)
        assert bound >= lp - 1e-6 * max(1.0, lp)
        assert dual.value(lam)[0] == pytest.approx(bound)


@pytest.mark.parametrize("seed", range(3))
def test_restricted_milp_claims_against_the_exact_milp(seed):
    A, w = _city(seed)
    k = 6
    assert A.shape[1] > S._RESTRICTED_MIN  # the restricted MILP sees only some columns
    r = S.max_cover(A, w, k, time_limit=8.0)
    assert "restricted_milp_status" in r.details
    opt = _exact_max(A, w, k)
    check_max_claim(A, w, k, r, optimum=opt)
    assert r.bound >= opt - 1e-6
    # the certified gap is never smaller than the true one
    assert r.gap >= (opt - r.objective) / opt - 1e-12
    assert r.details["lagrangian_bound"] >= lp_max(A, w, k) - 1e-6 * opt


def test_restricted_search_same_input_same_answer():
    A, w = _city(11)
    a = S.max_cover(A, w, 6, time_limit=30.0)
    b = S.max_cover(A.copy(), w.copy(), 6, time_limit=30.0)
    assert "restricted_milp_status" in a.details
    assert a.sites.tolist() == b.sites.tolist() and a.gains.tolist() == b.gains.tolist()
    for field in ("objective", "bound", "gap", "status", "method"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.details == b.details


def test_swap_search_counts_its_passes():
    A, w = _city(3)
    g = S.greedy_max_cover(A, w, k=6)
    start = float(g.gains.sum())
    same, value = _swap_search(A, w, g.order, start, float("inf"), max_passes=0)
    assert same.tolist() == g.order.tolist() and value == start
    one, value = _swap_search(A, w, g.order, start, float("inf"), max_passes=1)
    assert np.setdiff1d(one, g.order).size <= 1
    assert value == covered(A, w, one) >= start
