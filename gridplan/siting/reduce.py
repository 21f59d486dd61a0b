"""Instance reduction for covering problems: the same optimum on a smaller matrix.

Demand rows nobody can reach are dropped, rows with identical coverage sets are merged (their
weights added), and candidates whose coverage set is contained in another's are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["DOMINANCE_WORK_LIMIT", "Reduction", "identity_reduction", "reduce_cover"]

#: Bound on sum(row_nnz**2), the work of A.T @ A, above which only identical candidates (not
#: strict subsets) are removed: the product would cost more than the MILP it is meant to shrink.
DOMINANCE_WORK_LIMIT = 3e8
_HASH_SEED = 20240611


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


def identity_reduction(A, w) -> Reduction:
    """The instance as it is, minus rows of no weight or no coverage (``reduce=False``)."""
    A = _csr(A)
    w = np.asarray(w, dtype=np.float64)
    live = (w > 0) & (np.diff(A.indptr) > 0)
    rows = np.flatnonzero(live)
    groups = np.full(A.shape[0], -1, dtype=np.int64)
    groups[rows] = np.arange(rows.size)
    sizes = {
        "demand": int(A.shape[0]),
        "candidates": int(A.shape[1]),
        "nnz": int(A.nnz),
        "demand_reduced": int(rows.size),
        "candidates_reduced": int(A.shape[1]),
        "nnz_reduced": int(A[rows].nnz),
    }
    return Reduction(A=A[rows], w=w[rows], groups=groups, cols=np.arange(A.shape[1]), sizes=sizes)
