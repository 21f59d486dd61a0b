"""Covering-location solvers on a sparse 0/1 coverage matrix, with a certified optimality gap.

Three problems, all on ``A`` (demand rows x candidate columns, ``A[i, j]`` true when candidate
``j`` reaches demand ``i``) and positive demand weights ``w`` (households):

- maximal covering (MCLP): at most ``k`` sites, maximise the covered weight;
- partial set covering (LSCP to a target): fewest sites whose covered weight reaches ``need``;
- capacitated maximal covering: every open site serves at most ``cap[j]`` households; some columns
  (existing centres) are open already.

Each goes through the same steps: reduce the instance (drop demand nobody can reach, merge demand
rows with identical coverage sets, drop candidates whose coverage set is contained in another's),
solve it greedily (fast, and an upper bound from submodularity), then solve the MILP with HiGHS
(``scipy.optimize.milp``) under a time limit, and keep the better incumbent with the tightest
proven bound. "optimal" is reported only when the bound proves it. Maximal covering instances
too big for HiGHS as a whole (10^5 x 10^4) go through the Lagrangian relaxation first: its bound,
a MILP restricted to the columns it keeps choosing, and reduced-cost fixing (see ``_search``).

Written by hand because no maintained library does this on scipy.sparse input: spopt builds dense
PuLP models (fine at 10^3 x 10^3, not at 10^5 x 10^4) and has no reduction or bound reporting.
The mathematics (greedy, LP, branch and bound) stays in numpy/scipy/HiGHS.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from gridplan.siting.capacitated import max_cover_capacitated
from gridplan.siting.greedy import _rank, _swap_search, covered_weight, greedy_max_cover
from gridplan.siting.lagrange import _Dual, _fixing_keep, _lagrangian  # noqa: F401 (S._lagrangian)
from gridplan.siting.milp import _lscp_milp, _mclp_lp, _mclp_milp
from gridplan.siting.reduce import Reduction, identity_reduction, reduce_cover
from gridplan.siting.solution import (
    _EPS,
    MILP_NNZ_PER_SECOND,
    CoverSolution,
    _integral,
    _max_gap,
)

#: Subgradient steps before the restricted MILP chooses its columns, and at most in all.
_STEPS_FIRST, _STEPS_MAX = 150, 2000
#: Covered pairs x subgradient steps planned per second of the time limit (measured: one step
#: over 10^7 covered pairs takes 25-70 ms on the shared 2-core machine, so the planned steps use
#: a third to two thirds of the time limit there).
STEP_NNZ_PER_SECOND = 1e8
#: Covered pairs left after fixing, as a multiple of what HiGHS takes, still worth merging.
_MERGE_BEFORE_MILP = 20
#: Columns of the restricted MILP: this many per site, at least ``_RESTRICTED_MIN``.
_RESTRICTED_PER_SITE, _RESTRICTED_MIN = 10, 100

__all__ = [
    "CoverSolution",
    "Reduction",
    "covered_weight",
    "greedy_max_cover",
    "max_cover",
    "max_cover_capacitated",
    "min_cover",
    "reduce_cover",
]


# --------------------------------------------------------------------------------------------
# maximal covering
# --------------------------------------------------------------------------------------------


def max_cover(
    A,
    w,
    k: int,
    *,
    time_limit: float = 30.0,
    method: str = "auto",
    mip_rel_gap: float = 1e-4,
    reduce: bool = True,
) -> CoverSolution:
    """Maximal covering: at most ``k`` columns maximising the weight of rows covered.

    Parameters
    ----------
    A : sparse matrix (n, m)
        Coverage matrix.
    w : array (n,)
        Demand weights (households).
    k : int
        Number of sites to open.
    time_limit : float
        Seconds for the whole solve (greedy, then the Lagrangian search and MILPs with what
        remains). It also sizes the work planned (subgradient steps, restricted MILP), so the
        same input and time limit give the same answer unless the machine is too slow for them.
    method : {"auto", "greedy"}
        ``auto``: greedy, then swaps, the Lagrangian bound and MILPs. ``greedy``: greedy, with
        the LP relaxation as the bound.
    mip_rel_gap : float
        HiGHS relative gap at which the MILP stops.
    reduce : bool
        Reduce the instance first (the answer is the same, the MILP much smaller).

    Returns
    -------
    CoverSolution
    """
    t0 = time.perf_counter()
    red = reduce_cover(A, w, dominated=reduce) if reduce else identity_reduction(A, w)
    times = {"reduce": time.perf_counter() - t0}
    Ar, wr = red.A, red.w
    integral = _integral(wr)
    m = Ar.shape[1]
    k = int(k)
    t1 = time.perf_counter()
    g = greedy_max_cover(Ar, wr, k=k)
    times["greedy"] = time.perf_counter() - t1
    best, best_obj, used = g.order, float(g.gains.sum()), "greedy"
    upper = g.upper
    details: dict = {"greedy_objective": best_obj, "greedy_bound": float(g.upper)}
    deadline = t0 + time_limit
    if method not in ("auto", "greedy"):
        raise ValueError(f"unknown method {method!r}")
    if m and best_obj < upper - _EPS and k > 0 and method == "auto":
        best, best_obj, used, upper = _search(
            Ar, wr, k, g, integral, deadline, time_limit, mip_rel_gap, details, times
        )
    elif m and best_obj < upper - _EPS and k > 0:
        # Greedy only: the LP relaxation certifies the gap.
        t3 = time.perf_counter()
        lp = _mclp_lp(Ar, wr, k)
        times["lp"] = time.perf_counter() - t3
        if lp is not None:
            upper = min(upper, lp)
            details["lp_bound"] = lp
    bound, gap = _max_gap(best_obj, upper, integral)
    sites, gains = _rank(Ar, wr, best)
    times["total"] = time.perf_counter() - t0
    return CoverSolution.proven(red.cols[sites], gains, best_obj, bound, gap, used, times, red.sizes, details)


def _search(Ar, wr, k, g, integral, deadline, time_limit, mip_rel_gap, details, times):
    """Improve the greedy answer and prove a bound: (sites, objective, method, upper bound).

    1-swaps, then subgradient steps on the Lagrangian dual; the columns the relaxation keeps
    choosing go to a MILP restricted to them (a better incumbent: on 10^5 x 10^4 instances the
    greedy and swaps stay about 1 % below what this finds); more steps towards that incumbent
    tighten the bound; last, the MILP on the columns reduced-cost fixing leaves. Work is counted
    in steps and swaps, not seconds, so the answer does not depend on the machine's load; the
    deadlines only guard against a slow machine.
    """
    t = time.perf_counter()
    best, obj = _swap_search(Ar, wr, g.order, details["greedy_objective"], t + 0.1 * (deadline - t), 2 * k)
    times["swap"] = time.perf_counter() - t
    used = "greedy+swap" if obj > details["greedy_objective"] + _EPS else "greedy"
    t = time.perf_counter()
    dual = _Dual(Ar, wr, k, g.lam)
    steps = int(min(max(STEP_NNZ_PER_SECOND * time_limit / max(Ar.nnz, 1), _STEPS_FIRST), _STEPS_MAX))
    # Half the time as a guard: the restricted MILP's columns come from these steps.
    dual.descend(obj, integral, _STEPS_FIRST, t + 0.5 * (deadline - t))
    times["lagrangian"] = time.perf_counter() - t
    if _max_gap(obj, dual.best, integral)[1] > 0:
        best, obj, improved = _restricted_milp(
            Ar, wr, k, dual, best, obj, deadline, time_limit, mip_rel_gap, details, times
        )
        if improved:
            # restart from the best multipliers: the target of the steps moved
            used, dual.lam, dual.direction = "restricted milp", dual.best_lam.copy(), None
        t = time.perf_counter()
        dual.descend(obj, integral, steps - dual.iterations, t + 0.6 * (deadline - t))
        times["lagrangian"] += time.perf_counter() - t
    upper = min(g.upper, dual.best)
    details.update(lagrangian_bound=dual.best, lagrangian_steps=dual.iterations)
    if _max_gap(obj, upper, integral)[1] > 0:
        best, obj, improved, milp_bound = _milp_after_fixing(
            Ar, wr, k, dual.best_lam, best, obj, integral, deadline, mip_rel_gap, details, times
        )
        if improved:
            used = "milp"
        if milp_bound is not None:
            # Any solution better than the incumbent uses only kept columns.
            upper = min(upper, max(obj, milp_bound))
    return best, obj, used, upper


def _restricted_milp(Ar, wr, k, dual, best, obj, deadline, time_limit, mip_rel_gap, details, times):
    """The MILP on the columns the Lagrangian relaxation chose most often (and the incumbent's):
    (sites, objective, improved). Skipped when those are all the columns (the MILP after fixing
    solves that), or when their instance is too big for a quarter of the time limit, or that
    quarter is under a second (the MILP after fixing gets the time)."""
    m = Ar.shape[1]
    count = max(_RESTRICTED_PER_SITE * k, _RESTRICTED_MIN)
    budget = MILP_NNZ_PER_SECOND * 0.25 * time_limit
    t = time.perf_counter()
    sub = None
    while count < m and count >= 2 * k and 0.25 * time_limit >= 1.0:
        cols = np.union1d(dual.promising(count), best)
        sub = reduce_cover(Ar[:, cols], wr, dominated=False)
        if sub.A.nnz <= budget:
            break
        sub, count = None, count // 2
    if sub is None or deadline - t <= 0:
        return best, obj, False
    res = _mclp_milp(sub.A, sub.w, k, min(0.25 * time_limit, 0.5 * (deadline - t)), mip_rel_gap)
    times["restricted_milp"] = time.perf_counter() - t
    details.update(restricted_candidates=int(cols.size), restricted_milp_status=res["message"])
    if res["sites"] is None:
        return best, obj, False
    cand = cols[sub.cols[res["sites"]]]
    value = covered_weight(Ar, wr, cand)
    if value <= obj + _EPS:
        return best, obj, False
    # A swap may still help: the restricted MILP saw only its columns.
    now = time.perf_counter()
    cand, value = _swap_search(Ar, wr, cand, value, now + 0.1 * (deadline - now), k)
    details["restricted_objective"] = value
    return cand, value, True


def _milp_after_fixing(Ar, wr, k, lam, best, best_obj, integral, deadline, mip_rel_gap, details, times):
    """The MILP on the columns reduced-cost fixing leaves; (sites, objective, improved, bound).

    A column whose Lagrangian bound, forced open, cannot beat the incumbent is in no better
    solution, so the MILP only needs the others (and the incumbent's). ``bound`` is HiGHS's dual
    bound over those columns, or None.
    """
    keep = _fixing_keep(Ar, wr, k, lam, best_obj, integral)
    keep[best] = True
    cols_r = np.flatnonzero(keep)
    details["milp_candidates"] = int(cols_r.size)
    t4 = time.perf_counter()
    left = deadline - time.perf_counter()
    nnz_r = int(np.diff(sp.csc_array(Ar).indptr)[cols_r].sum())
    budget = MILP_NNZ_PER_SECOND * left
    # Merging the rows alike on the kept columns is linear and cheap, and shrinks a city
    # instance about tenfold: worth trying well beyond what HiGHS takes unmerged.
    sub = (
        reduce_cover(Ar[:, cols_r], wr, dominated=False)
        if nnz_r <= _MERGE_BEFORE_MILP * budget
        else Reduction(Ar, wr, None, cols_r)
    )
    if nnz_r > _MERGE_BEFORE_MILP * budget or sub.A.nnz > budget:
        # HiGHS would not finish its root LP in time (and does not stop inside it):
        # keep the heuristic answer with the Lagrangian bound instead.
        pairs = nnz_r if sub.groups is None else sub.A.nnz
        res = {
            "sites": None,
            "bound": None,
            "message": f"skipped: {pairs} covered pairs left after fixing, more "
            f"than {MILP_NNZ_PER_SECOND} per second of the {left:.0f} s left",
        }
    else:
        res = _mclp_milp(sub.A, sub.w, k, left, mip_rel_gap)
    times["milp"] = time.perf_counter() - t4
    details["milp_status"] = res["message"]
    if res["sites"] is not None:
        cand = cols_r[sub.cols[res["sites"]]]
        obj = covered_weight(Ar, wr, cand)
        if obj > best_obj + _EPS:
            return cand, obj, True, res["bound"]
    return best, best_obj, False, res["bound"]


# --------------------------------------------------------------------------------------------
# partial set covering (fewest sites to a target)
# --------------------------------------------------------------------------------------------


def min_cover(
    A, w, need: float, *, time_limit: float = 30.0, mip_rel_gap: float = 1e-4, reduce: bool = True
) -> CoverSolution:
    """Fewest columns whose covered weight reaches ``need``; among those, the most weight.

    Raises ``ValueError`` when even every column together cannot reach ``need`` (the caller turns
    that into an InputError with the achievable share).

    Returns
    -------
    CoverSolution
        ``objective`` is the number of sites, ``bound`` a proven lower bound on it;
        ``details["covered"]`` the weight the chosen sites cover.
    """
    t0 = time.perf_counter()
    red = reduce_cover(A, w, dominated=reduce) if reduce else identity_reduction(A, w)
    Ar, wr = red.A, red.w
    times = {"reduce": time.perf_counter() - t0}
    if need <= _EPS:
        return CoverSolution(
            np.zeros(0, np.int64),
            np.zeros(0),
            0.0,
            0.0,
            0.0,
            "optimal",
            "trivial",
            times,
            red.sizes,
            {"covered": 0.0},
        )
    if wr.sum() < need - _EPS:
        raise ValueError(f"target needs {need:g} but all candidates together cover {wr.sum():g}")
    t1 = time.perf_counter()
    g = greedy_max_cover(Ar, wr, need=need)
    times["greedy"] = time.perf_counter() - t1
    best, used = g.order, "greedy"
    # Cheap proven bound: even the largest single-site gains need this many sites.
    single = np.sort(np.asarray(sp.csc_array(Ar).T @ wr))[::-1]
    lower = float(np.searchsorted(np.cumsum(single), need - _EPS) + 1)
    details: dict = {"greedy_sites": int(g.order.size)}
    too_big = Ar.nnz > MILP_NNZ_PER_SECOND * (time_limit - (time.perf_counter() - t0))
    if too_big:
        details["milp_status"] = f"skipped: {Ar.nnz} covered pairs, too many for the time limit"
    if best.size > 1 and not too_big:
        t2 = time.perf_counter()
        res = _lscp_milp(Ar, wr, need, time_limit - (time.perf_counter() - t0), mip_rel_gap)
        times["milp"] = time.perf_counter() - t2
        details["milp_status"] = res["message"]
        if res["bound"] is not None:
            lower = max(lower, math.ceil(res["bound"] - _EPS))
        if res["sites"] is not None:
            sites = res["sites"]
            if covered_weight(Ar, wr, sites) >= need - _EPS and sites.size < best.size:
                best, used = sites, "milp"
        # With p sites fixed, take the p sites that cover the most (a tie-break planners notice).
        if best.size > 1 and time_limit - (time.perf_counter() - t0) > 0.5:
            mc = _mclp_milp(Ar, wr, best.size, time_limit - (time.perf_counter() - t0), mip_rel_gap)
            if (
                mc["sites"] is not None
                and covered_weight(Ar, wr, mc["sites"]) > covered_weight(Ar, wr, best) + _EPS
            ):
                best = mc["sites"]
    p = float(best.size)
    lower = min(lower, p)
    sites, gains = _rank(Ar, wr, best)
    times["total"] = time.perf_counter() - t0
    gap = 0.0 if p <= lower else (p - lower) / p
    details["covered"] = covered_weight(Ar, wr, sites)
    return CoverSolution.proven(red.cols[sites], gains, p, float(lower), gap, used, times, red.sizes, details)
