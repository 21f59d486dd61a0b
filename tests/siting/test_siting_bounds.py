"""The bounds and gaps the siting solvers claim, checked against facts computed independently.

Each claim (sites, objective, proven bound, gap, status) is held against the LP relaxation
written out in tests/_cover_ref.py with ``scipy.optimize.linprog``, against brute force on
instances of at most 12 candidates, and against covers known to the test. The time-limit tests
use one hard random instance (600 households x 120 candidates, 5,000 covered pairs, 8 sites):
HiGHS needs about 40 s to prove its optimum (8,469, the cover ``KNOWN_COVER`` below, found that
way once), so a solve stopped after 0.5 s can only be "feasible" with a gap above 0, and its
proven bound can never be below 8,469.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from _cover_ref import (
    brute_max,
    brute_min,
    check_capacitated_claim,
    check_max_claim,
    check_min_claim,
    covered,
    lp_max,
)
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.siting import capacitated as C
from gridplan.siting import solvers as S
from gridplan.siting.milp import _mclp_milp

K_HARD = 8
#: Eight columns of the hard instance covering 8,469 households, its proven optimum (HiGHS, 40 s).
KNOWN_COVER = [5, 31, 34, 39, 62, 66, 73, 92]


@pytest.fixture(scope="module")
def hard():
    rng = np.random.default_rng(0)
    A = sp.csr_array(rng.random((600, 120)) < 0.07)
    w = rng.integers(1, 50, 600).astype(float)
    return A, w


@pytest.fixture
def milp_always(monkeypatch):
    """Hand every instance to HiGHS whatever its size: the time-limit path is what is tested."""
    monkeypatch.setattr(S, "MILP_NNZ_PER_SECOND", 10**12)
    monkeypatch.setattr(C, "MILP_NNZ_PER_SECOND", 10**12)


def test_hard_instance_is_what_the_tests_assume(hard):
    A, w = hard
    assert A.nnz > 4000
    known = covered(A, w, KNOWN_COVER)
    assert known == 8469.0
    # the LP relaxation leaves a gap of about 10 %: no quick proof
    assert lp_max(A, w, K_HARD) > 1.08 * known


def test_time_limited_milp_reports_its_dual_bound_as_an_upper_bound(hard):
    """HiGHS's dual bound of the minimisation (-covered weight) is minus an upper bound: stopped
    by the time limit, the bound must still lie above every cover, the known one included."""
    A, w = hard
    res = _mclp_milp(A, w, K_HARD, 0.5, 1e-4)
    assert "time limit" in str(res["message"]).lower()
    assert res["bound"] is not None
    known = covered(A, w, KNOWN_COVER)
    assert res["bound"] >= known - 1e-6
    assert res["bound"] <= w.sum() + 1e-6
    if res["sites"] is not None:
        assert len(res["sites"]) <= K_HARD
        assert res["bound"] >= covered(A, w, res["sites"]) - 1e-6


def test_max_cover_stopped_by_the_time_limit_is_not_optimal(hard, milp_always):
    A, w = hard
    r = S.max_cover(A, w, K_HARD, time_limit=0.5)
    assert "time limit" in r.details["milp_status"].lower()
    assert r.status == "feasible" and r.gap > 0
    assert r.bound >= covered(A, w, KNOWN_COVER)
    check_max_claim(A, w, K_HARD, r, at_least=covered(A, w, KNOWN_COVER))


def test_max_cover_without_reduction_stopped_by_the_time_limit(hard, milp_always):
    A, w = hard
    r = S.max_cover(A, w, K_HARD, time_limit=0.5, reduce=False)
    assert r.status == "feasible" and r.gap > 0
    check_max_claim(A, w, K_HARD, r, at_least=covered(A, w, KNOWN_COVER))


def test_min_cover_stopped_by_the_time_limit_keeps_a_valid_lower_bound(hard, milp_always):
    """Covering 60 % of the weight: 8 sites cannot (the best 8 cover 8,469 < 8,807), the greedy's
    9 can, so the optimum is 9; a 0.5 s solve must not prove more than that."""
    A, w = hard
    need = float(np.floor(0.6 * w.sum()))
    assert covered(A, w, KNOWN_COVER) < need
    r = S.min_cover(A, w, need, time_limit=0.5)
    check_min_claim(A, w, need, r, optimum=9)
    # 80 % of the weight: far from any proof in half a second
    need = float(np.floor(0.8 * w.sum()))
    r = S.min_cover(A, w, need, time_limit=0.5)
    assert r.status == "feasible" and r.gap > 0
    check_min_claim(A, w, need, r)


def test_capacitated_stopped_by_the_time_limit_is_not_optimal(hard, milp_always):
    A, w = hard
    rng = np.random.default_rng(1)
    cap = rng.integers(600, 1400, A.shape[1]).astype(float)
    fixed = np.zeros(A.shape[1], dtype=bool)
    fixed[:3] = True
    r = S.max_cover_capacitated(A, w, cap, K_HARD, fixed=fixed, time_limit=0.5)
    assert "time limit" in r.details["milp_status"].lower()
    assert r.status == "feasible" and r.gap > 0
    check_capacitated_claim(A, w, cap, K_HARD, fixed, r)


# --- small and medium random instances: every claim against the LP and brute force ----------


def _random_instance(rng, n, m, density):
    A = rng.random((n, m)) < density
    w = rng.integers(1, 60, n).astype(float)
    return sp.csr_array(A), w


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(2, 12),
    n=st.integers(3, 40),
    density=st.floats(0.05, 0.5),
    k=st.integers(1, 4),
)
def test_small_claims_equal_brute_force(seed, m, n, density, k):
    A, w = _random_instance(np.random.default_rng(seed), n, m, density)
    best = brute_max(A, w, k)
    lp = lp_max(A, w, k)
    for kw in (
        {"time_limit": 10.0},
        {"time_limit": 10.0, "reduce": False},
        {"method": "greedy"},
        {"time_limit": 0.0},
    ):
        r = S.max_cover(A, w, k, **kw)
        check_max_claim(A, w, k, r, optimum=best, lp=lp)
        if "time_limit" in kw and kw["time_limit"] > 0:
            assert r.status == "optimal" and r.objective == best
    reach = covered(A, w, range(m))
    need = float(np.floor(reach * (seed % 97) / 96))
    p = brute_min(A, w, need)
    r = S.min_cover(A, w, need, time_limit=10.0)
    check_min_claim(A, w, need, r, optimum=p)
    assert r.status == "optimal"


@pytest.mark.parametrize("seed", range(3))
def test_medium_claims_against_the_lp_and_the_milp_path(seed, milp_always):
    """30-60 candidates, budgets of 3-8, the MILP given 0.5 s or nothing: whatever comes back,
    the claim stands against the LP relaxation, and its bound is at least the cover a 5 s solve
    finds (and, when that solve proves it, the optimum). Some of these stop at the time limit."""
    rng = np.random.default_rng(1000 + seed)
    for _ in range(3):
        m = int(rng.integers(30, 60))
        A, w = _random_instance(rng, int(rng.integers(120, 250)), m, float(rng.uniform(0.04, 0.1)))
        k = int(rng.integers(3, 9))
        lp = lp_max(A, w, k)
        ref = S.max_cover(A, w, k, time_limit=5.0)
        found = covered(A, w, ref.sites)
        check_max_claim(A, w, k, ref, lp=lp)
        for limit in (0.0, 0.5):
            r = S.max_cover(A, w, k, time_limit=limit)
            check_max_claim(
                A, w, k, r, at_least=found, optimum=found if ref.status == "optimal" else None, lp=lp
            )


def test_min_cover_without_milp_time_keeps_a_valid_lower_bound():
    """Greedy needs 3 sites where 2 suffice: C1 (weight 8) looks best, then C2 and C3, while
    A and B (7 each) cover everything. Without time for the MILP the claim is greedy's 3 sites
    with a lower bound of at most 2: never "optimal"."""
    # rows a1 a2 a3 b1 b2 b3; columns A, B, C1, C2, C3
    A = sp.csr_array(
        np.array(
            [
                [1, 0, 1, 0, 0],
                [1, 0, 0, 1, 0],
                [1, 0, 0, 0, 1],
                [0, 1, 1, 0, 0],
                [0, 1, 0, 1, 0],
                [0, 1, 0, 0, 1],
            ],
            dtype=bool,
        )
    )
    w = np.array([4.0, 2.0, 1.0, 4.0, 2.0, 1.0])
    assert brute_min(A, w, 14.0) == 2
    r = S.min_cover(A, w, 14.0, time_limit=0.0)
    assert r.objective == 3 and r.status == "feasible"
    check_min_claim(A, w, 14.0, r, optimum=2)
    r = S.min_cover(A, w, 14.0, time_limit=10.0)
    assert r.objective == 2 and r.status == "optimal"
    check_min_claim(A, w, 14.0, r, optimum=2)


@pytest.mark.parametrize("seed", range(3))
def test_min_cover_claims_without_milp_time_equal_brute_force(seed):
    rng = np.random.default_rng(300 + seed)
    for _ in range(25):
        A, w = _random_instance(
            rng, int(rng.integers(4, 30)), int(rng.integers(3, 10)), float(rng.uniform(0.1, 0.5))
        )
        need = float(np.floor(rng.uniform(0.3, 1.0) * covered(A, w, range(A.shape[1]))))
        r = S.min_cover(A, w, need, time_limit=0.0)
        check_min_claim(A, w, need, r, optimum=brute_min(A, w, need))


def test_fixing_keeps_every_column_of_a_solution_one_better_than_the_incumbent():
    """Reduced-cost fixing with the incumbent one below the optimum: every column of every
    optimal solution must stay. With near-optimal multipliers the Lagrangian bound is tight on
    these small instances, so a test that demands one more than "one better" removes them."""
    from gridplan.siting.lagrange import _fixing_keep, _lagrangian

    rng = np.random.default_rng(77)
    checked = 0
    for _ in range(60):
        A, w = _random_instance(
            rng, int(rng.integers(6, 26)), int(rng.integers(4, 10)), float(rng.uniform(0.15, 0.5))
        )
        red = S.reduce_cover(A, w, dominated=False)
        R, wr = red.A, red.w
        m = R.shape[1]
        k = int(rng.integers(1, 4))
        if m <= k:
            continue
        best = brute_max(R, wr, k)
        lower = best - 1.0
        g = S.greedy_max_cover(R, wr, k=k)
        _, lam = _lagrangian(R, wr, k, lower, g.lam, deadline=float("inf"), integral=True)
        keep = _fixing_keep(R, wr, k, lam, lower, integral=True)
        for c in itertools.combinations(range(m), k):
            if covered(R, wr, c) >= best:
                assert keep[list(c)].all(), (c, keep)
                checked += 1
    assert checked > 0
