"""The Lagrangian bound of maximal covering and the reduced-cost fixing test built on it."""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

__all__: list[str] = []

#: Non-improving subgradient steps after which the step factor is halved.
_STALL = 50
#: Deflection of the step direction (Camerini, Fratta & Maffioli 1975): 1.5 is their choice.
_DEFLECT = 1.5


class _Dual:
    """Subgradient descent on the Lagrangian dual of MCLP (relaxing y_i <= sum_j a_ij x_j).

    For multipliers 0 <= lam <= w:  L(lam) = sum_i (w_i - lam_i) + (sum of the k largest
    entries of A.T @ lam)  bounds the optimum from above; min over lam equals the LP bound, and
    every evaluated L is a valid bound whatever the steps were. Polyak steps towards the
    incumbent ``lower``; the step factor halves after ``_STALL`` steps without a better bound.
    The direction is the subgradient deflected by the previous direction where the two point
    against each other (CFM): it damps the zig-zag of plain subgradient steps, and reaches in
    500 steps the bound plain steps reach in 2,000 on 20,000 x 2,000 city instances.

    The descent can be resumed with a better incumbent (:meth:`descend` again), and counts how
    often each column was among the k largest (``freq``): columns the relaxation keeps choosing,
    the ones a restricted MILP should get.
    """

    def __init__(self, A, w, k: int, lam0) -> None:
        # One float copy: a bool matrix times a float vector converts the whole matrix on every
        # call (four times slower than the product itself at 10^7 covered pairs).
        Ac = sp.csc_array(A, dtype=np.float64)
        n, m = Ac.shape
        self.Ac = Ac
        # A.T in CSR shares the CSC arrays of A: the product A.T @ lam without a second copy.
        self.At = sp.csr_array((Ac.data, Ac.indices, Ac.indptr), shape=(m, n))
        self.w = np.asarray(w, dtype=np.float64)
        self.k = min(int(k), m)
        self.lam = np.clip(np.asarray(lam0, dtype=np.float64), 0.0, self.w)
        self.best, self.best_lam = math.inf, self.lam.copy()
        self.theta, self.stall, self.iterations = 1.0, 0, 0
        self.direction: np.ndarray | None = None
        self.freq = np.zeros(m)

    def value(self, lam) -> tuple[float, np.ndarray, np.ndarray]:
        """(L(lam), A.T @ lam, the columns of its k largest entries)."""
        c = np.asarray(self.At @ lam)
        m = c.size
        top = np.argpartition(-c, self.k - 1)[: self.k] if 0 < self.k < m else np.arange(self.k)
        return float((self.w - lam).sum() + c[top].sum()), c, top

    def descend(self, lower: float, integral: bool, max_iter: int, deadline: float) -> float:
        """At most ``max_iter`` steps (fewer at ``deadline`` or once the bound proves ``lower``
        optimal); returns the best bound so far."""
        target = lower + (1.0 if integral else 0.0)
        n = self.w.size
        for _ in range(max_iter):
            val, _, top = self.value(self.lam)
            self.iterations += 1
            self.freq[top] += 1.0
            if val < self.best - 1e-9:
                self.best, self.best_lam, self.stall = val, self.lam.copy(), 0
            else:
                self.stall += 1
                if self.stall >= _STALL:
                    self.theta, self.stall = self.theta / 2.0, 0
            if self.best < target - 1e-9 or self.theta < 1e-6 or time.perf_counter() > deadline:
                break
            grad = np.bincount(self.Ac[:, top].indices, minlength=n) - 1.0
            prev = self.direction
            if prev is not None:
                grad += max(0.0, -_DEFLECT * float(grad @ prev) / float(prev @ prev)) * prev
            # projected: components pushing lam outside [0, w] do not move it
            grad[((self.lam <= 0) & (grad > 0)) | ((self.lam >= self.w) & (grad < 0))] = 0.0
            norm = float(grad @ grad)
            if norm <= 0:
                break
            self.direction = grad
            step = self.theta * max(val - lower, 1e-9) / norm
            self.lam = np.clip(self.lam - step * grad, 0.0, self.w)
        return self.best

    def promising(self, count: int) -> np.ndarray:
        """The ``count`` columns most often among the k largest, ties by A.T @ lam at the best
        multipliers, then by column (sorted column numbers)."""
        _, c, _ = self.value(self.best_lam)
        order = np.lexsort((np.arange(c.size), -c, -self.freq))
        return np.sort(order[:count])


def _lagrangian(A, w, k, lower, lam0, deadline, integral, max_iter=20000) -> tuple[float, np.ndarray]:
    """Lagrangian bound of MCLP and its multipliers, by subgradient descent (see :class:`_Dual`)."""
    dual = _Dual(A, w, k, lam0)
    best = dual.descend(lower, integral, max(int(max_iter), 1), deadline)
    return best, dual.best_lam


def _fixing_keep(A, w, k, lam, lower, integral) -> np.ndarray:
    """Columns that could be open in a solution better than ``lower`` (Lagrangian test)."""
    c = np.asarray(sp.csc_array(A, dtype=np.float64).T @ lam)
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
