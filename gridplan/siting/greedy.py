"""Greedy maximal covering (with its submodular bound), ranking and 1-swap local search."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gridplan.siting.reduce import _csr
from gridplan.siting.solution import _EPS

__all__ = ["covered_weight", "greedy_max_cover"]


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
    m = Ar.shape[1]
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
            top = np.partition(gain, m - kk)[m - kk :] if kk < m else gain
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
        rows = Ac.indices[Ac.indptr[j] : Ac.indptr[j + 1]]
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


def _swap_search(A, w, sites, value, deadline, max_passes=None) -> tuple[np.ndarray, float]:
    """Best-improvement 1-swap local search (close one site, open another) until no swap helps,
    at most ``max_passes`` swaps (a count, so the answer does not depend on the machine's speed;
    ``deadline`` only guards against a slow machine).

    Each pass evaluates every (open, closed) pair with one sparse product per open site:
    gain(c) over uncovered rows plus the rows only the closed site covered.
    """
    # float data: products of a bool matrix with a float vector convert the matrix every time
    Ar = sp.csr_array(_csr(A), dtype=np.float64)
    Ac = Ar.tocsc()
    sites = np.asarray(sites, dtype=np.int64).copy()
    if sites.size == 0:
        return sites, value
    passes = 0
    while time.perf_counter() < deadline and (max_passes is None or passes < max_passes):
        passes += 1
        cnt = np.bincount(Ac[:, sites].indices, minlength=Ar.shape[0])
        add_gain = np.asarray(Ac.T @ (w * (cnt == 0)))
        add_gain[sites] = -np.inf
        best_delta, best_pair = 1e-9, None
        for pos, s in enumerate(sites):
            rows = Ac.indices[Ac.indptr[s] : Ac.indptr[s + 1]]
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
