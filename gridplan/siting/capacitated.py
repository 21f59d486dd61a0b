"""Capacitated maximal covering: every open site serves at most its capacity in households."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from gridplan.siting.milp import _cap_model
from gridplan.siting.reduce import _csr, reduce_cover
from gridplan.siting.solution import (
    _EPS,
    MILP_NNZ_PER_SECOND,
    CoverSolution,
    _integral,
    _max_gap,
)

__all__ = ["max_cover_capacitated"]


def max_cover_capacitated(
    A, w, cap, k: int, *, fixed=None, time_limit: float = 30.0, mip_rel_gap: float = 1e-4
) -> CoverSolution:
    """Capacitated maximal covering: open at most ``k`` columns so that the weight served, each
    row by columns reaching it and each column within its capacity, is largest.

    Parameters
    ----------
    A : sparse (n, m)
        Coverage of every column: existing facilities and candidates.
    w : array (n,)
        Demand weights.
    cap : array (m,)
        Capacity (households) per column; ``inf`` = unlimited.
    k : int
        New columns to open.
    fixed : array of bool (m,), optional
        Columns open already (existing centres); they count in the baseline and in the result.

    Returns
    -------
    CoverSolution
        ``sites`` are new columns only, ``gains`` the extra weight each adds in rank order,
        ``objective`` the weight gained over the baseline (existing columns alone),
        ``details["baseline"]`` the weight served by existing columns alone.
    """
    t0 = time.perf_counter()
    A = _csr(A)
    w = np.asarray(w, dtype=np.float64)
    cap = np.floor(np.asarray(cap, dtype=np.float64))  # whole households: the LP stays integral
    m = A.shape[1]
    fixed = np.zeros(m, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    # Rows an unlimited open column reaches are served whatever else happens.
    unlimited = np.flatnonzero(fixed & ~np.isfinite(cap))
    pre = np.zeros(A.shape[0], dtype=bool)
    if unlimited.size:
        pre[sp.coo_array(A[:, unlimited]).coords[0]] = True
    w_eff = np.where(pre, 0.0, w)
    red = reduce_cover(A, w_eff, dominated=False)
    Ar, wr, cols = red.A, red.w, red.cols
    fx, cp = fixed[cols], cap[cols]
    times = {"reduce": time.perf_counter() - t0}
    baseline = _baseline(Ar, wr, cp, fx, time_limit)
    # Greedy on residual demand: a feasible warm answer and the fallback when the MILP times out.
    t1 = time.perf_counter()
    greedy = _cap_greedy(Ar, wr, cp, fx, int(k))
    greedy_obj = _served(Ar, wr, cp, np.concatenate([np.flatnonzero(fx), greedy]))
    times["greedy"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    # Cheap proven bound: existing sites serve at most the baseline in any solution (their flow
    # is feasible for them alone) and a new site at most min(capacity, weight it reaches).
    free = np.flatnonzero(~fx)
    each = np.minimum(cp[free], np.asarray(sp.csc_array(Ar).T @ wr)[free]) if free.size else free
    cheap = min(float(wr.sum()), baseline + float(np.sort(each)[::-1][: int(k)].sum()))
    left = time_limit - (time.perf_counter() - t0)
    if Ar.nnz > MILP_NNZ_PER_SECOND * left:
        res = {
            "sites": None,
            "bound": None,
            "message": f"skipped: {Ar.nnz} covered pairs, too many for the time limit",
        }
    else:
        res = _cap_model(Ar, wr, cp, k=int(k), fixed=fx, lp=False, time_limit=left, mip_rel_gap=mip_rel_gap)
    times["milp"] = time.perf_counter() - t2
    best, best_obj, used = greedy, greedy_obj, "greedy"
    if res["sites"] is not None:
        new = np.setdiff1d(res["sites"], np.flatnonzero(fx))
        obj = _served(Ar, wr, cp, np.concatenate([np.flatnonzero(fx), new]))
        if obj > best_obj + _EPS:
            best, best_obj, used = new, obj, "milp"
    upper = cheap if res["bound"] is None else min(cheap, res["bound"])
    integral = _integral(wr)
    bound, gap = _max_gap(best_obj - baseline, upper - baseline, integral)
    order, gains = _rank_served(Ar, wr, cp, fx, best, baseline)
    times["total"] = time.perf_counter() - t0
    details = {
        "baseline": baseline + float(w[pre].sum()),
        "milp_status": res["message"],
        "greedy_objective": greedy_obj - baseline,
    }
    objective = best_obj - baseline
    return CoverSolution.proven(cols[order], gains, objective, bound, gap, used, times, red.sizes, details)


def _baseline(Ar, wr, cp, fx, time_limit) -> float:
    """Weight the open (existing) columns serve alone: the LP, exact for this flow problem."""
    if not fx.any():
        return 0.0
    res = _cap_model(
        Ar[:, np.flatnonzero(fx)],
        wr,
        cp[fx],
        k=None,
        fixed=np.ones(int(fx.sum()), dtype=bool),
        lp=True,
        time_limit=time_limit,
        mip_rel_gap=0.0,
    )
    return float(res["objective"])


def _rank_served(Ar, wr, cp, fx, best, baseline) -> tuple[np.ndarray, np.ndarray]:
    """New sites ranked by what each serves alone on top of the existing ones, and the marginal
    gain of each prefix (so that the gains add up to the objective)."""
    open_ = np.flatnonzero(fx)
    alone = np.array([_served(Ar, wr, cp, np.concatenate([open_, [j]])) for j in best])
    order = best[np.lexsort((best, -alone))] if best.size else best
    prefix = [baseline] + [
        _served(Ar, wr, cp, np.concatenate([open_, order[: i + 1]])) for i in range(order.size)
    ]
    return order, np.diff(np.asarray(prefix))


def _served(A, w, cap, cols) -> float:
    cols = np.asarray(cols, dtype=np.int64)
    if cols.size == 0:
        return 0.0
    return float(
        _cap_model(
            _csr(A[:, cols]),
            w,
            cap[cols],
            k=None,
            fixed=np.ones(cols.size, dtype=bool),
            lp=True,
            time_limit=60.0,
            mip_rel_gap=0.0,
        )["objective"]
    )


def _cap_greedy(A, w, cap, fixed, k) -> np.ndarray:
    """Greedy on residual demand: each step opens the column that can serve the most residual
    weight (min(capacity, residual reached)), then lowers its rows' residual in proportion."""
    Ac = sp.csc_array(A)
    rem = w.copy()
    # Existing columns take their share first, the same proportional way.
    for j in np.flatnonzero(fixed):
        rem = _take(Ac, rem, j, cap[j])
    chosen: list[int] = []
    free = ~fixed
    for _ in range(min(k, int(free.sum()))):
        reach = np.asarray(Ac.T @ rem)
        gain = np.where(free, np.minimum(reach, cap), -1.0)
        j = int(np.argmax(gain))
        if gain[j] <= _EPS:
            break
        chosen.append(j)
        free[j] = False
        rem = _take(Ac, rem, j, cap[j])
    return np.asarray(chosen, dtype=np.int64)


def _take(Ac, rem, j, cap_j) -> np.ndarray:
    rows = Ac.indices[Ac.indptr[j] : Ac.indptr[j + 1]]
    total = rem[rows].sum()
    if total <= 0:
        return rem
    share = 1.0 if not np.isfinite(cap_j) else min(1.0, cap_j / total)
    rem = rem.copy()
    rem[rows] *= 1.0 - share
    return rem
