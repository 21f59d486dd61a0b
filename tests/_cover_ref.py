"""Independent references for the covering solvers' claims: LP relaxations, brute force, checks.

Nothing here calls gridplan's model builders: the LP relaxations are written out again from the
coverage matrix with ``scipy.optimize.linprog``, the brute force enumerates
``itertools.combinations``, covered weights are dense numpy. A claim is what a solver returns:
sites, objective, a proven bound, a gap and a status. The checks hold for any correct solver and
fail for one that reports a bound on the wrong side of what is known to be achievable (a dual
bound with its sign flipped makes a time-limited MILP claim "optimal, gap 0").
"""

from __future__ import annotations

import copy
import itertools
import math
from contextlib import contextmanager

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

TOL = 1e-6


def dense(A) -> np.ndarray:
    return sp.csr_array(A).toarray().astype(bool) if sp.issparse(A) else np.asarray(A, dtype=bool)


def covered(A, w, cols) -> float:
    """Weight of the rows at least one of ``cols`` reaches (dense numpy)."""
    A, cols = dense(A), list(np.asarray(cols, dtype=np.int64))
    return float(np.asarray(w, dtype=float)[A[:, cols].any(axis=1)].sum()) if cols else 0.0


def brute_max(A, w, k) -> float:
    """Best weight ``k`` columns cover: every combination."""
    A = dense(A)
    m = A.shape[1]
    return max(covered(A, w, c) for c in itertools.combinations(range(m), min(int(k), m)))


def brute_min(A, w, need) -> int | None:
    """Fewest columns covering ``need``, or None when all of them do not."""
    A = dense(A)
    m = A.shape[1]
    for p in range(m + 1):
        if any(covered(A, w, c) >= need - TOL for c in itertools.combinations(range(m), p)):
            return p
    return None


def _cover_lp(A, w, n_x_cost, k=None, need=None):
    """LP over [x (m), y (n)]: y_i <= sum_j a_ij x_j, 0 <= x, y <= 1, plus the budget or target.

    Maximal covering (k given): maximise w.y with sum x <= k. Partial covering (need given):
    minimise sum x with w.y >= need.
    """
    A = sp.csr_array(dense(A).astype(float))
    n, m = A.shape
    w = np.asarray(w, dtype=float)
    if n == 0 or m == 0:  # no household or no candidate: nothing can be covered
        if k is not None:
            return 0.0
        return 0.0 if need <= 0 else math.inf
    rows = sp.hstack([-A, sp.eye_array(n)], format="csr")
    if k is not None:
        budget = sp.csr_array(np.r_[np.ones(m), np.zeros(n)][None, :])
        res = linprog(
            np.r_[np.zeros(m), -w],
            A_ub=sp.vstack([rows, budget], format="csr"),
            b_ub=np.r_[np.zeros(n), k],
            bounds=(0, 1),
            method="highs",
        )
        assert res.status == 0, res.message
        return -float(res.fun)
    target = sp.csr_array(np.r_[np.zeros(m), -w][None, :])
    res = linprog(
        np.r_[n_x_cost * np.ones(m), np.zeros(n)],
        A_ub=sp.vstack([rows, target], format="csr"),
        b_ub=np.r_[np.zeros(n), -need],
        bounds=(0, 1),
        method="highs",
    )
    return float(res.fun) if res.status == 0 else math.inf


def lp_max(A, w, k) -> float:
    """LP relaxation of maximal covering: an upper bound on every k-site cover."""
    return _cover_lp(A, w, 0.0, k=k)


def lp_min(A, w, need) -> float:
    """LP relaxation of partial covering: a lower bound on the number of sites (inf if none)."""
    return _cover_lp(A, w, 1.0, need=need)


def lp_capacitated(A, w, cap, k, fixed) -> float:
    """LP relaxation of capacitated covering over [x (m), z (pairs)]: z_p is the share of row
    i(p) that column j(p) serves; each row served at most once, z_p <= x_j, w.z of a column at
    most its capacity (unless unlimited), fixed columns open, at most k others."""
    Ad = dense(A)
    n, m = Ad.shape
    w = np.asarray(w, dtype=float)
    cap = np.asarray(cap, dtype=float)
    fixed = np.asarray(fixed, dtype=bool)
    pi, pj = np.nonzero(Ad)
    P = pi.size
    if P == 0:
        return 0.0
    q = np.arange(P)
    once = sp.csr_array((np.ones(P), (pi, m + q)), shape=(n, m + P))
    link = sp.csr_array((np.r_[np.ones(P), -np.ones(P)], (np.r_[q, q], np.r_[m + q, pj])), shape=(P, m + P))
    fin = np.flatnonzero(np.isfinite(cap))
    slot = np.full(m, -1)
    slot[fin] = np.arange(fin.size)
    on = np.isfinite(cap[pj])
    capr = sp.csr_array(
        (np.r_[w[pi][on], -cap[fin]], (np.r_[slot[pj][on], np.arange(fin.size)], np.r_[m + q[on], fin])),
        shape=(fin.size, m + P),
    )
    budget = sp.csr_array(np.r_[(~fixed).astype(float), np.zeros(P)][None, :])
    bounds = np.c_[np.r_[fixed.astype(float), np.zeros(P)], np.ones(m + P)]
    res = linprog(
        np.r_[np.zeros(m), -w[pi]],
        A_ub=sp.vstack([once, link, capr, budget], format="csr"),
        b_ub=np.r_[np.ones(n), np.zeros(P), np.zeros(fin.size), k],
        bounds=bounds,
        method="highs",
    )
    assert res.status == 0, res.message
    return -float(res.fun)


def _check_status(sol) -> None:
    assert 0.0 <= sol.gap <= 1.0 + TOL
    assert sol.status in ("optimal", "feasible")
    assert (sol.status == "optimal") == (sol.gap == 0.0)


def check_max_claim(
    A, w, k, sol, *, at_least: float | None = None, optimum: float | None = None, lp: float | None = None
) -> None:
    """A maximal-covering claim against independent facts.

    ``at_least``: the weight of some k-site cover known to the caller (a lower bound on the
    optimum); ``optimum``: the optimum itself (brute force). The proven bound must be at least
    both, and at least what the sites achieve; the sites cannot beat the LP relaxation; an
    "optimal" claim must reach them. A flipped dual bound fails ``bound >= at_least`` as soon as
    the time-limited incumbent is below a cover the caller knows.
    """
    sites = np.asarray(sol.sites, dtype=np.int64)
    assert len(sites) <= k and len(np.unique(sites)) == len(sites)
    achieved = covered(A, w, sites)
    assert sol.objective == pytest.approx(achieved, abs=TOL)
    lp = lp_max(A, w, k) if lp is None else lp
    assert achieved <= lp + TOL * max(1.0, lp)
    assert sol.bound >= achieved - TOL
    _check_status(sol)
    if sol.bound > 0:
        assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.bound, abs=1e-9)
    known = max(x for x in (at_least, optimum, achieved) if x is not None)
    assert sol.bound >= known - TOL, f"bound {sol.bound} below a known cover of weight {known}"
    if sol.status == "optimal":
        assert achieved >= known - TOL, f"'optimal' {achieved} below a known cover {known}"
    if optimum is not None:
        assert achieved <= optimum + TOL


def check_min_claim(A, w, need, sol, *, at_most: int | None = None, optimum: int | None = None) -> None:
    """A partial-covering claim: the sites reach ``need``; the proven lower bound is at most the
    optimum (and at most ``at_most``, the size of a cover the caller knows); no cover is smaller
    than the LP relaxation allows; "optimal" means no known cover is smaller."""
    sites = np.asarray(sol.sites, dtype=np.int64)
    assert len(np.unique(sites)) == len(sites) and sol.objective == len(sites)
    if need <= TOL:
        assert len(sites) == 0
        return
    assert covered(A, w, sites) >= need - TOL
    assert sol.details["covered"] == pytest.approx(covered(A, w, sites), abs=TOL)
    lp = lp_min(A, w, need)
    assert len(sites) >= math.ceil(lp - TOL)
    assert sol.bound <= len(sites) + TOL
    _check_status(sol)
    known = min(x for x in (at_most, optimum, len(sites)) if x is not None)
    assert sol.bound <= known + TOL, f"lower bound {sol.bound} above a known cover of {known}"
    if sol.status == "optimal":
        assert len(sites) <= known
    if optimum is not None:
        assert len(sites) >= optimum


def check_capacitated_claim(A, w, cap, k, fixed, sol, *, lp: float | None = None) -> None:
    """A capacitated claim: objective + baseline within the LP relaxation, bound >= objective,
    the status following the gap; the baseline is the LP with only the fixed columns open."""
    fixed = np.asarray(fixed, dtype=bool)
    cap = np.floor(np.asarray(cap, dtype=float))  # a site serves whole households
    base = lp_capacitated(A, w, cap, 0, fixed)
    assert sol.details["baseline"] == pytest.approx(base, abs=1e-6 * max(1.0, base))
    lp = lp_capacitated(A, w, cap, k, fixed) if lp is None else lp
    assert sol.objective + base <= lp + TOL * max(1.0, lp)
    assert sol.bound >= sol.objective - TOL
    sites = np.asarray(sol.sites, dtype=np.int64)
    assert len(sites) <= k and not fixed[sites].any()
    _check_status(sol)


@contextmanager
def recorded_solves():
    """Record every call the siting API makes to the array solvers: (kind, args, solution).

    :func:`gridplan.siting.api.site` calls them through the ``solvers`` module object, so
    wrapping the module attributes sees each instance exactly as it was solved.
    """
    from gridplan.siting import solvers as S

    calls: list[tuple] = []
    originals = {name: getattr(S, name) for name in ("max_cover", "min_cover", "max_cover_capacitated")}

    def wrap(name):
        def call(*args, **kwargs):
            sol = originals[name](*args, **kwargs)
            # a copy: the caller may renumber the sites of the object it gets
            calls.append((name, args, kwargs, copy.deepcopy(sol)))
            return sol

        return call

    for name in originals:
        setattr(S, name, wrap(name))
    try:
        yield calls
    finally:
        for name, f in originals.items():
            setattr(S, name, f)


def check_recorded(calls, *, brute_up_to: int = 12) -> int:
    """Check every recorded claim; instances of at most ``brute_up_to`` columns against brute
    force too. Returns the number of claims checked."""
    for name, args, kwargs, sol in calls:
        A, w = args[0], np.asarray(args[1], dtype=float)
        small = A.shape[1] <= brute_up_to
        if name == "max_cover":
            k = int(args[2])
            check_max_claim(A, w, k, sol, optimum=brute_max(A, w, k) if small and A.shape[1] else None)
        elif name == "min_cover":
            need = float(args[2])
            check_min_claim(A, w, need, sol, optimum=brute_min(A, w, need) if small else None)
        else:
            check_capacitated_claim(A, w, args[2], int(args[3]), kwargs["fixed"], sol)
    return len(calls)
