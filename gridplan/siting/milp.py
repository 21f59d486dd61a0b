"""The HiGHS models (``scipy.optimize.milp`` / ``linprog``) of the covering problems."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

__all__: list[str] = []


def _milp_options(time_limit: float, mip_rel_gap: float) -> dict:
    return {
        "time_limit": max(float(time_limit), 0.5),
        "mip_rel_gap": float(mip_rel_gap),
        "presolve": True,
        "disp": False,
    }


def _cover_rows(A: sp.csr_array, n_x: int) -> sp.csr_array:
    """Rows ``y_i - sum_j a_ij x_j <= 0`` over variables [x (n_x), y (n)]."""
    n = A.shape[0]
    return sp.hstack([-sp.csr_array(A, dtype=np.float64), sp.eye_array(n, format="csr")], format="csr")


def _mclp_milp(A, w, k, time_limit, mip_rel_gap) -> dict:
    n, m = A.shape
    c = np.concatenate([np.zeros(m), -w])
    card = sp.csr_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, n + m))
    M = sp.vstack([_cover_rows(A, m), card], format="csr")
    ub = np.concatenate([np.zeros(n), [k]])
    res = milp(
        c,
        integrality=np.concatenate([np.ones(m), np.zeros(n)]),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(M, -np.inf, ub),
        options=_milp_options(time_limit, mip_rel_gap),
    )
    sites = None if res.x is None else np.flatnonzero(res.x[:m] > 0.5)
    dual = getattr(res, "mip_dual_bound", None)
    bound = None if dual is None or not np.isfinite(dual) else -float(dual)
    return {"sites": sites, "bound": bound, "message": res.message}


def _mclp_lp(A, w, k) -> float | None:
    n, m = A.shape
    c = np.concatenate([np.zeros(m), -w])
    res = linprog(
        c,
        A_ub=_cover_rows(A, m),
        b_ub=np.zeros(n),
        A_eq=np.concatenate([np.ones(m), np.zeros(n)])[None, :],
        b_eq=[min(k, m)],
        bounds=(0, 1),
        method="highs",
    )
    return -float(res.fun) if res.status == 0 else None


def _lscp_milp(A, w, need, time_limit, mip_rel_gap) -> dict:
    """Fewest columns covering at least ``need`` weight; ``bound`` is HiGHS's dual bound."""
    n, m = A.shape
    c = np.concatenate([np.ones(m), np.zeros(n)])
    M = sp.vstack([_cover_rows(A, m), sp.csr_array(np.concatenate([np.zeros(m), -w])[None, :])], format="csr")
    ub = np.concatenate([np.zeros(n), [-need]])
    res = milp(
        c,
        integrality=np.concatenate([np.ones(m), np.zeros(n)]),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(M, -np.inf, ub),
        options=_milp_options(time_limit, mip_rel_gap),
    )
    dual = getattr(res, "mip_dual_bound", None)
    return {
        "sites": None if res.x is None else np.flatnonzero(res.x[:m] > 0.5),
        "bound": float(dual) if dual is not None and np.isfinite(dual) else None,
        "message": res.message,
    }


def _cap_model(A, w, cap, *, k, fixed, lp, time_limit, mip_rel_gap) -> dict:
    """Capacitated covering as one model over [x (m), z (nnz)]; z_p = share of row i(p) served by
    column j(p). Unlimited columns serve whole rows: those rows are removed before this call."""
    n, m = A.shape
    coo = sp.coo_array(A)
    pi, pj = coo.coords[0].astype(np.int64), coo.coords[1].astype(np.int64)
    P = pi.size
    if P == 0:
        return {
            "objective": 0.0,
            "sites": np.zeros(0, np.int64),
            "bound": 0.0,
            "message": "empty",
            "served": np.zeros(m),
        }
    wp = w[pi]
    c = np.concatenate([np.zeros(m), -wp])
    pos = np.arange(P)
    # each row served at most once
    R1 = sp.csr_array((np.ones(P), (pi, m + pos)), shape=(n, m + P))
    # served by j <= cap_j x_j
    finite = np.isfinite(cap)
    capv = np.where(finite, cap, 0.0)
    R2 = sp.csr_array(
        (
            np.concatenate([wp, -capv]),
            (np.concatenate([pj, np.arange(m)]), np.concatenate([m + pos, np.arange(m)])),
        ),
        shape=(m, m + P),
    )[finite]
    blocks, lo, hi = (
        [R1, R2],
        [np.full(n, -np.inf), np.full(int(finite.sum()), -np.inf)],
        [np.ones(n), np.zeros(int(finite.sum()))],
    )
    free = ~fixed
    if k is not None:
        blocks.append(
            sp.csr_array(
                (np.ones(int(free.sum())), (np.zeros(int(free.sum()), dtype=np.int64), np.flatnonzero(free))),
                shape=(1, m + P),
            )
        )
        lo.append([-np.inf])
        hi.append([k])
    M = sp.vstack(blocks, format="csr")
    lb = np.concatenate([fixed.astype(float), np.zeros(P)])
    ubx = np.ones(m + P)
    if lp:
        res = linprog(c, A_ub=M, b_ub=np.concatenate(hi), bounds=np.column_stack([lb, ubx]), method="highs")
        x = res.x if res.status == 0 else None
        obj = -float(res.fun) if x is not None else 0.0
        return {
            "objective": obj,
            "sites": None if x is None else np.flatnonzero(x[:m] > 0.5),
            "bound": obj,
            "message": res.message,
            "served": None if x is None else np.bincount(pj, weights=wp * x[m:], minlength=m),
        }
    res = milp(
        c,
        integrality=np.concatenate([np.ones(m), np.zeros(P)]),
        bounds=Bounds(lb, ubx),
        constraints=LinearConstraint(M, np.concatenate(lo), np.concatenate(hi)),
        options=_milp_options(time_limit, mip_rel_gap),
    )
    dual = getattr(res, "mip_dual_bound", None)
    x = res.x
    return {
        "objective": -float(res.fun) if x is not None else None,
        "sites": None if x is None else np.flatnonzero(x[:m] > 0.5),
        "bound": None if dual is None or not np.isfinite(dual) else -float(dual),
        "message": res.message,
        "served": None if x is None else np.bincount(pj, weights=wp * x[m:], minlength=m),
    }
