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
proven bound. "optimal" is reported only when the bound proves it.

Written by hand because no maintained library does this on scipy.sparse input: spopt builds dense
PuLP models (fine at 10^3 x 10^3, not at 10^5 x 10^4) and has no reduction or bound reporting.
The mathematics (greedy, LP, branch and bound) stays in numpy/scipy/HiGHS.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

__all__ = [
    "Reduction",
    "CoverSolution",
    "reduce_cover",
    "greedy_max_cover",
    "covered_weight",
    "max_cover",
    "min_cover",
    "max_cover_capacitated",
]

#: Bound on sum(row_nnz**2), the work of A.T @ A, above which only identical candidates (not
#: strict subsets) are removed: the product would cost more than the MILP it is meant to shrink.
DOMINANCE_WORK_LIMIT = 3e8
#: Largest MILP (covered pairs per second of time left) handed to HiGHS after reduction and
#: fixing; measured: 93k pairs solve in about 2 s, while the LP relaxation of 640k pairs alone
#: takes 80 s on the same machine.
MILP_NNZ_PER_SECOND = 5000
_HASH_SEED = 20240611
_EPS = 1e-6


# --------------------------------------------------------------------------------------------
# instance reduction
# --------------------------------------------------------------------------------------------


def _csr(A) -> sp.csr_array:
    A = sp.csr_array(A, dtype=bool)
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()
    return A


def _set_keys(A: sp.csr_array) -> np.ndarray:
    """Per row a key (hash, hash, nnz) equal for rows with identical column sets.

    Two independent random 64-bit linear hashes: a false merge needs both to collide, probability
    about n^2 / 2^128, and the seed is fixed so the result is deterministic.
    """
    rng = np.random.default_rng(_HASH_SEED)
    m = A.shape[1]
    keys = np.empty((A.shape[0], 3), dtype=np.uint64)
    for col in range(2):
        r = rng.integers(0, np.iinfo(np.uint64).max, size=m, dtype=np.uint64, endpoint=True)
        cs = np.zeros(A.nnz + 1, dtype=np.uint64)
        np.cumsum(r[A.indices], out=cs[1:])  # wraps modulo 2^64, which is what a hash wants
        keys[:, col] = cs[A.indptr[1:]] - cs[A.indptr[:-1]]
    keys[:, 2] = np.diff(A.indptr).astype(np.uint64)
    return keys


def _group_identical(A: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each group in row order, group index of every row)."""
    _, first, inverse = np.unique(_set_keys(A), axis=0, return_index=True, return_inverse=True)
    # Renumber groups by first occurrence so the reduced instance keeps the input order.
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[inverse.ravel()]


@dataclass
class Reduction:
    """A reduced covering instance and the way back to the original one.

    Attributes
    ----------
    A : csr_array
        Reduced coverage matrix (groups x kept candidates).
    w : ndarray
        Weight of each demand group.
    groups : ndarray
        For every original demand row, its group (row of ``A``) or -1 when nobody can reach it.
    cols : ndarray
        Original column index of every column of ``A``.
    """

    A: sp.csr_array
    w: np.ndarray
    groups: np.ndarray
    cols: np.ndarray
    sizes: dict = field(default_factory=dict)


def reduce_cover(A, w, *, dominated: bool = True, keep_cols=None) -> Reduction:
    """Shrink a covering instance without changing its optimum.

    Parameters
    ----------
    A : sparse matrix, shape (n, m)
        Coverage (truthy = candidate reaches demand).
    w : array, shape (n,)
        Demand weights; rows of weight <= 0 are dropped.
    dominated : bool
        Also drop candidates whose coverage set is contained in another candidate's (exact for
        uncapacitated problems only: with capacities two identical sites may both be needed).
    keep_cols : array of bool, optional
        Columns never dropped.

    Returns
    -------
    Reduction
    """
    A = _csr(A)
    w = np.asarray(w, dtype=np.float64)
    n, m = A.shape
    sizes = {"demand": int(n), "candidates": int(m), "nnz": int(A.nnz)}
    live = (w > 0) & (np.diff(A.indptr) > 0)
    rows = np.flatnonzero(live)
    A1 = A[rows]
    cols = np.arange(m)
    first, group = _group_identical(A1)
    if dominated:
        # On merged rows: the subset test costs sum(row_nnz^2), far less once rows are merged.
        keep = _undominated(A1[first], keep_cols)
        cols = np.flatnonzero(keep)
        A1 = _csr(A1[:, cols])
        # Dropping columns can make more rows alike.
        first, group = _group_identical(A1)
    Ar = A1[first]
    wr = np.bincount(group, weights=w[rows], minlength=first.size)
    groups = np.full(n, -1, dtype=np.int64)
    groups[rows] = group
    # A column nobody needs any more (all its rows dropped) can go too.
    used = np.diff(Ar.tocsc().indptr) > 0
    if keep_cols is not None:
        used |= np.asarray(keep_cols, dtype=bool)[cols]
    Ar = _csr(Ar[:, np.flatnonzero(used)])
    cols = cols[used]
    sizes.update(
        demand_reduced=int(Ar.shape[0]), candidates_reduced=int(Ar.shape[1]), nnz_reduced=int(Ar.nnz)
    )
    return Reduction(A=Ar, w=wr, groups=groups, cols=cols, sizes=sizes)


def _undominated(A: sp.csr_array, keep_cols=None) -> np.ndarray:
    """Mask of columns whose coverage set is not contained in another column's."""
    m = A.shape[1]
    keep_cols = np.zeros(m, dtype=bool) if keep_cols is None else np.asarray(keep_cols, dtype=bool)
    At = _csr(A.T)
    first, _ = _group_identical(At)
    keep = np.zeros(m, dtype=bool)
    keep[first] = True
    keep |= keep_cols
    cand = np.flatnonzero(keep)
    row_nnz = np.diff(A.indptr).astype(np.float64)
    if float(row_nnz @ row_nnz) > DOMINANCE_WORK_LIMIT or cand.size < 2:
        return keep
    B = sp.csc_array(A[:, cand], dtype=np.int32)
    count = np.diff(B.indptr)
    C = sp.coo_array(B.T @ B)
    j, k = C.coords
    # |j & k| == |j| < |k|  <=>  set j is a strict subset of set k (identical sets are merged).
    sub = (C.data == count[j]) & (count[j] < count[k])
    dropped = np.unique(j[sub])
    dropped = dropped[~keep_cols[cand[dropped]]]
    keep[cand[dropped]] = False
    return keep


# --------------------------------------------------------------------------------------------
# evaluation and greedy
# --------------------------------------------------------------------------------------------


def covered_weight(A, w, cols) -> float:
    """Weight of the rows of ``A`` reached by at least one of ``cols``."""
    A = sp.csc_array(A)
    cols = np.asarray(cols, dtype=np.int64)
    if cols.size == 0:
        return 0.0
    hit = np.zeros(A.shape[0], dtype=bool)
    hit[A[:, cols].tocoo().coords[0]] = True
    return float(np.asarray(w, dtype=np.float64)[hit].sum())


@dataclass
class _Greedy:
    order: np.ndarray
    gains: np.ndarray
    upper: float
    lam: np.ndarray | None = None  # Lagrange multipliers giving ``upper`` (see _lagrangian)


def greedy_max_cover(A, w, k: int | None = None, need: float | None = None) -> _Greedy:
    """Greedy maximal covering, stopping after ``k`` sites or once ``need`` weight is covered.

    Exact marginal gains are kept up to date by subtracting, for the rows a chosen site newly
    covers, their weight from every candidate reaching them (one sparse product per step). This
    does the same work as a lazy-greedy heap over the whole run but never re-evaluates a stale
    gain, and the argmax over the gain vector breaks ties by the lowest column, deterministically.

    The returned ``upper`` bounds the optimum with ``k`` sites by submodularity: at every step,
    covered + the sum of the ``k`` largest marginal gains (Nemhauser, Wolsey & Fisher 1978), which
    is never weaker than greedy / (1 - 1/e).
    """
    Ar = _csr(A)
    Ac = Ar.tocsc()
    w = np.asarray(w, dtype=np.float64)
    n, m = Ar.shape
    rem = w.copy()
    lam = w.copy()
    gain = np.asarray(Ac.T @ w, dtype=np.float64)
    order: list[int] = []
    gains: list[float] = []
    covered = 0.0
    upper = math.inf
    limit = m if k is None else min(int(k), m)
    while len(order) < limit:
        if k is not None:
            kk = min(int(k), m)
            top = np.partition(gain, m - kk)[m - kk:] if kk < m else gain
            bound = covered + float(np.clip(top, 0, None).sum())
            if bound < upper:
                # this bound is the Lagrangian one at lam = residual weights (see _lagrangian)
                upper, lam = bound, rem.copy()
        if need is not None and covered >= need - _EPS:
            break
        j = int(np.argmax(gain))
        g = float(gain[j])
        if g <= _EPS:
            break
        rows = Ac.indices[Ac.indptr[j]:Ac.indptr[j + 1]]
        rows = rows[rem[rows] > 0]
        newly = rem[rows]
        rem[rows] = 0.0
        gain -= Ar[rows].T @ newly
        order.append(j)
        gains.append(g)
        covered += g
    if k is not None and (len(order) < min(int(k), m) or m == 0):
        upper = covered  # greedy ran out of positive gains: nothing more can be covered at all
    return _Greedy(np.asarray(order, dtype=np.int64), np.asarray(gains), upper, lam)


def _rank(A, w, cols) -> tuple[np.ndarray, np.ndarray]:
    """Order ``cols`` greedily (largest marginal gain first) and return their marginal gains."""
    cols = np.asarray(cols, dtype=np.int64)
    if cols.size == 0:
        return cols, np.zeros(0)
    g = greedy_max_cover(sp.csc_array(A)[:, cols], w, k=cols.size)
    gains = np.zeros(cols.size)
    gains[: g.order.size] = g.gains
    rest = np.setdiff1d(np.arange(cols.size), g.order)  # sites that add nothing once others open
    order = np.concatenate([g.order, rest])
    return cols[order], gains


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass
class CoverSolution:
    """A solved covering instance, in original column numbers.

    Attributes
    ----------
    sites : ndarray
        Chosen columns, best first.
    gains : ndarray
        Marginal weight each site adds in that order (for capacitated problems: households served).
    objective : float
        Covered (or served) weight of the objective; for :func:`min_cover` the number of sites.
    bound : float
        Proven bound on the optimum (upper for maximisation, lower for minimisation).
    gap : float
        Relative gap between objective and bound (0 = proven optimal).
    status : str
        ``optimal`` (proven), ``feasible`` (gap > 0) or ``infeasible``.
    method : str
        Which solver produced ``sites`` (``milp`` or ``greedy``).
    """

    sites: np.ndarray
    gains: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    times: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "objective": float(self.objective),
            "bound": float(self.bound),
            "gap": float(self.gap),
            "status": self.status,
            "method": self.method,
            "times_s": {k: round(float(v), 3) for k, v in self.times.items()},
            "sizes": dict(self.sizes),
            **self.details,
        }


def _integral(w) -> bool:
    w = np.asarray(w, dtype=np.float64)
    return bool(np.all(w == np.round(w)))


def _max_gap(objective: float, bound: float, integral: bool) -> tuple[float, float]:
    if integral:
        bound = math.floor(bound + _EPS)
    bound = max(bound, objective)
    gap = 0.0 if bound <= 0 else (bound - objective) / bound
    return bound, gap


def _milp_options(time_limit: float, mip_rel_gap: float) -> dict:
    return {"time_limit": max(float(time_limit), 0.5), "mip_rel_gap": float(mip_rel_gap),
            "presolve": True, "disp": False}


def _cover_rows(A: sp.csr_array, n_x: int) -> sp.csr_array:
    """Rows ``y_i - sum_j a_ij x_j <= 0`` over variables [x (n_x), y (n)]."""
    n = A.shape[0]
    return sp.hstack([-sp.csr_array(A, dtype=np.float64), sp.eye_array(n, format="csr")],
                     format="csr")


# --------------------------------------------------------------------------------------------
# maximal covering
# --------------------------------------------------------------------------------------------


def max_cover(A, w, k: int, *, time_limit: float = 30.0, method: str = "auto",
              mip_rel_gap: float = 1e-4, reduce: bool = True) -> CoverSolution:
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
        Seconds for the whole solve (greedy, then the MILP with what remains).
    method : {"auto", "greedy"}
        ``auto``: greedy, then MILP. ``greedy``: greedy, with the LP relaxation as the bound.
    mip_rel_gap : float
        HiGHS relative gap at which the MILP stops.
    reduce : bool
        Reduce the instance first (the answer is the same, the MILP much smaller).

    Returns
    -------
    CoverSolution
    """
    t0 = time.perf_counter()
    red = reduce_cover(A, w, dominated=reduce) if reduce else _identity(A, w)
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
        t2 = time.perf_counter()
        # Too big for the MILP even before fixing: the heuristics and the bound get the time.
        big = Ar.nnz > MILP_NNZ_PER_SECOND * (deadline - t2)
        best, best_obj = _swap_search(Ar, wr, best, best_obj,
                                      t2 + (0.3 if big else 0.15) * (deadline - t2))
        times["swap"] = time.perf_counter() - t2
        if best_obj > details["greedy_objective"] + _EPS:
            used = "greedy+swap"
        t3 = time.perf_counter()
        lag, lam = _lagrangian(Ar, wr, k, best_obj, g.lam,
                               t3 + (0.9 if big else 0.25) * (deadline - t3), integral)
        times["lagrangian"] = time.perf_counter() - t3
        upper = min(upper, lag)
        details["lagrangian_bound"] = lag
        if _max_gap(best_obj, upper, integral)[1] > 0:
            # Reduced-cost fixing: a column whose Lagrangian bound, forced open, cannot beat the
            # incumbent is in no better solution; the MILP only needs the others.
            keep = _fixing_keep(Ar, wr, k, lam, best_obj, integral)
            keep[best] = True
            cols_r = np.flatnonzero(keep)
            details["milp_candidates"] = int(cols_r.size)
            t4 = time.perf_counter()
            left = deadline - time.perf_counter()
            nnz_r = int(np.diff(sp.csc_array(Ar).indptr)[cols_r].sum())
            sub = reduce_cover(Ar[:, cols_r], wr, dominated=False) \
                if nnz_r <= MILP_NNZ_PER_SECOND * left else Reduction(Ar, wr, None, cols_r)
            if nnz_r > MILP_NNZ_PER_SECOND * left or sub.A.nnz > MILP_NNZ_PER_SECOND * left:
                # HiGHS would not finish its root LP in time (and does not stop inside it):
                # keep the heuristic answer with the Lagrangian bound instead.
                res = {"sites": None, "bound": None,
                       "message": f"skipped: {nnz_r} covered pairs left after fixing, more "
                                  f"than {MILP_NNZ_PER_SECOND} per second of the {left:.0f} s left"}
            else:
                res = _mclp_milp(sub.A, sub.w, k, left, mip_rel_gap)
            times["milp"] = time.perf_counter() - t4
            details["milp_status"] = res["message"]
            if res["sites"] is not None:
                cand = cols_r[sub.cols[res["sites"]]]
                obj = covered_weight(Ar, wr, cand)
                if obj > best_obj + _EPS:
                    best, best_obj, used = cand, obj, "milp"
            if res["bound"] is not None:
                # Any solution better than the incumbent uses only kept columns.
                upper = min(upper, max(best_obj, res["bound"]))
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
    return CoverSolution(
        sites=red.cols[sites], gains=gains, objective=best_obj, bound=bound, gap=gap,
        status="optimal" if gap <= 0 else "feasible", method=used, times=times, sizes=red.sizes,
        details=details,
    )


def _lagrangian(A, w, k, lower, lam0, deadline, integral) -> tuple[float, np.ndarray]:
    """Lagrangian bound of MCLP by subgradient descent (relaxing y_i <= sum_j a_ij x_j).

    For multipliers 0 <= lam <= w:  L(lam) = sum_i (w_i - lam_i) + (sum of the k largest
    entries of A.T @ lam)  bounds the optimum from above; min over lam equals the LP bound. The
    greedy's submodular bound is L at lam = residual weights, so this starts from there and only
    improves it. Polyak steps towards the incumbent ``lower``.
    """
    Ac = sp.csc_array(A)
    m = Ac.shape[1]
    kk = min(int(k), m)
    lam = np.asarray(lam0, dtype=np.float64).copy()
    best, best_lam = math.inf, lam.copy()
    theta, stall = 1.0, 0
    target = lower + (1.0 if integral else 0.0)
    for _ in range(20000):
        c = np.asarray(Ac.T @ lam)
        top = np.argpartition(-c, kk - 1)[:kk] if kk < m else np.arange(m)
        val = float((w - lam).sum() + c[top].sum())
        if val < best - 1e-9:
            best, best_lam, stall = val, lam.copy(), 0
        else:
            stall += 1
            if stall >= 30:
                theta, stall = theta / 2.0, 0
        if best < target - 1e-9 or theta < 1e-6 or time.perf_counter() > deadline:
            break
        cnt = np.zeros(A.shape[0])
        sub = Ac[:, top]
        np.add.at(cnt, sub.indices, 1.0)
        grad = cnt - 1.0
        # projected subgradient: components pushing lam outside [0, w] do not move it
        grad[((lam <= 0) & (grad > 0)) | ((lam >= w) & (grad < 0))] = 0.0
        norm = float(grad @ grad)
        if norm <= 0:
            break
        step = theta * max(val - lower, 1e-9) / norm
        lam = np.clip(lam - step * grad, 0.0, w)
    return best, best_lam


def _fixing_keep(A, w, k, lam, lower, integral) -> np.ndarray:
    """Columns that could be open in a solution better than ``lower`` (Lagrangian test)."""
    c = np.asarray(sp.csc_array(A).T @ lam)
    m = c.size
    kk = min(int(k), m)
    order = np.argsort(-c, kind="stable")
    base = float((w - lam).sum())
    top_sum = float(c[order[:kk]].sum())
    kth = float(c[order[kk - 1]]) if kk else 0.0
    in_top = np.zeros(m, dtype=bool)
    in_top[order[:kk]] = True
    # forced open: if already among the top k the bound is unchanged, else it replaces the k-th
    forced = np.where(in_top, base + top_sum, base + top_sum - kth + c)
    need = lower + (1.0 if integral else 0.0)
    return forced >= need - 1e-6 * max(1.0, abs(need))


def _swap_search(A, w, sites, value, deadline) -> tuple[np.ndarray, float]:
    """Best-improvement 1-swap local search (close one site, open another) until no swap helps.

    Each pass evaluates every (open, closed) pair with one sparse product per open site:
    gain(c) over uncovered rows plus the rows only the closed site covered.
    """
    Ar = _csr(A)
    Ac = Ar.tocsc()
    sites = np.asarray(sites, dtype=np.int64).copy()
    if sites.size == 0:
        return sites, value
    while time.perf_counter() < deadline:
        cnt = np.zeros(Ar.shape[0])
        np.add.at(cnt, Ac[:, sites].indices, 1.0)
        add_gain = np.asarray(Ac.T @ (w * (cnt == 0)))
        add_gain[sites] = -np.inf
        best_delta, best_pair = 1e-9, None
        for pos, s in enumerate(sites):
            rows = Ac.indices[Ac.indptr[s]:Ac.indptr[s + 1]]
            only = rows[cnt[rows] == 1]
            loss = float(w[only].sum())
            extra = np.asarray(Ar[only].T @ w[only]) if only.size else 0.0
            delta = add_gain + extra - loss
            j = int(np.argmax(delta))
            if delta[j] > best_delta:
                best_delta, best_pair = float(delta[j]), (pos, j)
        if best_pair is None:
            break
        sites[best_pair[0]] = best_pair[1]
        value += best_delta
    return sites, covered_weight(A, w, sites)


def _identity(A, w) -> Reduction:
    A = _csr(A)
    w = np.asarray(w, dtype=np.float64)
    live = (w > 0) & (np.diff(A.indptr) > 0)
    rows = np.flatnonzero(live)
    groups = np.full(A.shape[0], -1, dtype=np.int64)
    groups[rows] = np.arange(rows.size)
    sizes = {"demand": int(A.shape[0]), "candidates": int(A.shape[1]), "nnz": int(A.nnz),
             "demand_reduced": int(rows.size), "candidates_reduced": int(A.shape[1]),
             "nnz_reduced": int(A[rows].nnz)}
    return Reduction(A=A[rows], w=w[rows], groups=groups, cols=np.arange(A.shape[1]), sizes=sizes)


def _mclp_milp(A, w, k, time_limit, mip_rel_gap) -> dict:
    n, m = A.shape
    c = np.concatenate([np.zeros(m), -w])
    card = sp.csr_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, n + m))
    M = sp.vstack([_cover_rows(A, m), card], format="csr")
    ub = np.concatenate([np.zeros(n), [k]])
    res = milp(
        c, integrality=np.concatenate([np.ones(m), np.zeros(n)]), bounds=Bounds(0, 1),
        constraints=LinearConstraint(M, -np.inf, ub), options=_milp_options(time_limit, mip_rel_gap),
    )
    sites = None if res.x is None else np.flatnonzero(res.x[:m] > 0.5)
    dual = getattr(res, "mip_dual_bound", None)
    bound = None if dual is None or not np.isfinite(dual) else -float(dual)
    return {"sites": sites, "bound": bound, "message": res.message}


def _mclp_lp(A, w, k) -> float | None:
    n, m = A.shape
    c = np.concatenate([np.zeros(m), -w])
    res = linprog(c, A_ub=_cover_rows(A, m), b_ub=np.zeros(n),
                  A_eq=np.concatenate([np.ones(m), np.zeros(n)])[None, :], b_eq=[min(k, m)],
                  bounds=(0, 1), method="highs")
    return -float(res.fun) if res.status == 0 else None


# --------------------------------------------------------------------------------------------
# partial set covering (fewest sites to a target)
# --------------------------------------------------------------------------------------------


def min_cover(A, w, need: float, *, time_limit: float = 30.0, mip_rel_gap: float = 1e-4,
              reduce: bool = True) -> CoverSolution:
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
    red = reduce_cover(A, w, dominated=reduce) if reduce else _identity(A, w)
    Ar, wr = red.A, red.w
    times = {"reduce": time.perf_counter() - t0}
    if need <= _EPS:
        return CoverSolution(np.zeros(0, np.int64), np.zeros(0), 0.0, 0.0, 0.0, "optimal",
                             "trivial", times, red.sizes, {"covered": 0.0})
    if wr.sum() < need - _EPS:
        raise ValueError(f"target needs {need:g} but all candidates together cover {wr.sum():g}")
    m = Ar.shape[1]
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
        n = Ar.shape[0]
        c = np.concatenate([np.ones(m), np.zeros(n)])
        M = sp.vstack([_cover_rows(Ar, m), sp.csr_array(np.concatenate([np.zeros(m), -wr])[None, :])],
                      format="csr")
        ub = np.concatenate([np.zeros(n), [-need]])
        res = milp(c, integrality=np.concatenate([np.ones(m), np.zeros(n)]), bounds=Bounds(0, 1),
                   constraints=LinearConstraint(M, -np.inf, ub),
                   options=_milp_options(time_limit - (time.perf_counter() - t0), mip_rel_gap))
        times["milp"] = time.perf_counter() - t2
        details["milp_status"] = res.message
        dual = getattr(res, "mip_dual_bound", None)
        if dual is not None and np.isfinite(dual):
            lower = max(lower, math.ceil(float(dual) - _EPS))
        if res.x is not None:
            sites = np.flatnonzero(res.x[:m] > 0.5)
            if covered_weight(Ar, wr, sites) >= need - _EPS and sites.size < best.size:
                best, used = sites, "milp"
        # With p sites fixed, take the p sites that cover the most (a tie-break planners notice).
        if best.size > 1 and time_limit - (time.perf_counter() - t0) > 0.5:
            mc = _mclp_milp(Ar, wr, best.size, time_limit - (time.perf_counter() - t0), mip_rel_gap)
            if mc["sites"] is not None and covered_weight(Ar, wr, mc["sites"]) > covered_weight(
                    Ar, wr, best) + _EPS:
                best = mc["sites"]
    p = float(best.size)
    lower = min(lower, p)
    sites, gains = _rank(Ar, wr, best)
    times["total"] = time.perf_counter() - t0
    gap = 0.0 if p <= lower else (p - lower) / p
    details["covered"] = covered_weight(Ar, wr, sites)
    return CoverSolution(red.cols[sites], gains, p, float(lower), gap,
                         "optimal" if gap <= 0 else "feasible", used, times, red.sizes, details)


# --------------------------------------------------------------------------------------------
# capacitated maximal covering
# --------------------------------------------------------------------------------------------


def _cap_model(A, w, cap, *, k, fixed, lp, time_limit, mip_rel_gap) -> dict:
    """Capacitated covering as one model over [x (m), z (nnz)]; z_p = share of row i(p) served by
    column j(p). Unlimited columns serve whole rows: those rows are removed before this call."""
    n, m = A.shape
    coo = sp.coo_array(A)
    pi, pj = coo.coords[0].astype(np.int64), coo.coords[1].astype(np.int64)
    P = pi.size
    if P == 0:
        return {"objective": 0.0, "sites": np.zeros(0, np.int64), "bound": 0.0, "message": "empty",
                "served": np.zeros(m)}
    wp = w[pi]
    c = np.concatenate([np.zeros(m), -wp])
    pos = np.arange(P)
    # each row served at most once
    R1 = sp.csr_array((np.ones(P), (pi, m + pos)), shape=(n, m + P))
    # served by j <= cap_j x_j
    finite = np.isfinite(cap)
    capv = np.where(finite, cap, 0.0)
    R2 = sp.csr_array(
        (np.concatenate([wp, -capv]), (np.concatenate([pj, np.arange(m)]),
                                       np.concatenate([m + pos, np.arange(m)]))),
        shape=(m, m + P),
    )[finite]
    blocks, lo, hi = [R1, R2], [np.full(n, -np.inf), np.full(int(finite.sum()), -np.inf)], [
        np.ones(n), np.zeros(int(finite.sum()))]
    free = ~fixed
    if k is not None:
        blocks.append(sp.csr_array((np.ones(int(free.sum())), (np.zeros(int(free.sum()), dtype=np.int64),
                                                                  np.flatnonzero(free))),
                                   shape=(1, m + P)))
        lo.append([-np.inf])
        hi.append([k])
    M = sp.vstack(blocks, format="csr")
    lb = np.concatenate([fixed.astype(float), np.zeros(P)])
    ubx = np.ones(m + P)
    if lp:
        res = linprog(c, A_ub=M, b_ub=np.concatenate(hi), bounds=np.column_stack([lb, ubx]),
                      method="highs")
        x = res.x if res.status == 0 else None
        obj = -float(res.fun) if x is not None else 0.0
        return {"objective": obj, "sites": None if x is None else np.flatnonzero(x[:m] > 0.5),
                "bound": obj, "message": res.message,
                "served": None if x is None else np.bincount(pj, weights=wp * x[m:], minlength=m)}
    res = milp(c, integrality=np.concatenate([np.ones(m), np.zeros(P)]), bounds=Bounds(lb, ubx),
               constraints=LinearConstraint(M, np.concatenate(lo), np.concatenate(hi)),
               options=_milp_options(time_limit, mip_rel_gap))
    dual = getattr(res, "mip_dual_bound", None)
    x = res.x
    return {
        "objective": -float(res.fun) if x is not None else None,
        "sites": None if x is None else np.flatnonzero(x[:m] > 0.5),
        "bound": None if dual is None or not np.isfinite(dual) else -float(dual),
        "message": res.message,
        "served": None if x is None else np.bincount(pj, weights=wp * x[m:], minlength=m),
    }


def max_cover_capacitated(A, w, cap, k: int, *, fixed=None, time_limit: float = 30.0,
                          mip_rel_gap: float = 1e-4) -> CoverSolution:
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
    base_res = _cap_model(Ar[:, np.flatnonzero(fx)], wr, cp[fx], k=None,
                          fixed=np.ones(int(fx.sum()), dtype=bool), lp=True, time_limit=time_limit,
                          mip_rel_gap=0.0) if fx.any() else {"objective": 0.0}
    baseline = float(base_res["objective"])
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
        res = {"sites": None, "bound": None,
               "message": f"skipped: {Ar.nnz} covered pairs, too many for the time limit"}
    else:
        res = _cap_model(Ar, wr, cp, k=int(k), fixed=fx, lp=False, time_limit=left,
                         mip_rel_gap=mip_rel_gap)
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
    # Rank the new sites by what each serves alone on top of the existing ones, then report the
    # marginal gain of each prefix so that the gains add up to the objective.
    alone = np.array([_served(Ar, wr, cp, np.concatenate([np.flatnonzero(fx), [j]])) for j in best])
    order = best[np.lexsort((best, -alone))] if best.size else best
    prefix = [baseline] + [
        _served(Ar, wr, cp, np.concatenate([np.flatnonzero(fx), order[: i + 1]]))
        for i in range(order.size)
    ]
    gains = np.diff(np.asarray(prefix))
    times["total"] = time.perf_counter() - t0
    return CoverSolution(
        sites=cols[order], gains=gains, objective=best_obj - baseline, bound=bound, gap=gap,
        status="optimal" if gap <= 0 else "feasible", method=used, times=times, sizes=red.sizes,
        details={"baseline": baseline + float(w[pre].sum()), "milp_status": res["message"],
                 "greedy_objective": greedy_obj - baseline},
    )


def _served(A, w, cap, cols) -> float:
    cols = np.asarray(cols, dtype=np.int64)
    if cols.size == 0:
        return 0.0
    return float(_cap_model(_csr(A[:, cols]), w, cap[cols], k=None,
                            fixed=np.ones(cols.size, dtype=bool), lp=True, time_limit=60.0,
                            mip_rel_gap=0.0)["objective"])


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
    rows = Ac.indices[Ac.indptr[j]:Ac.indptr[j + 1]]
    total = rem[rows].sum()
    if total <= 0:
        return rem
    share = 1.0 if not np.isfinite(cap_j) else min(1.0, cap_j / total)
    rem = rem.copy()
    rem[rows] *= 1.0 - share
    return rem
