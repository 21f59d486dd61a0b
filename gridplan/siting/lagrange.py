"""The Lagrangian bound of maximal covering and the reduced-cost fixing test built on it."""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

__all__: list[str] = []


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
