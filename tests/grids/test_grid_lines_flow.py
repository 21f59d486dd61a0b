"""The minimum-cut helpers of grid line placement give what SciPy's own routes give."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from gridplan.grids.lines import _network, _reachable, _residual_edges


def _random_network(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Edges of a small network with repeated (row, col) pairs, as a cut builds them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    m = int(rng.integers(1, 6 * n))
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = rows != cols
    return rows[keep], cols[keep], rng.integers(1, 5000, keep.sum()).astype(np.int64), n


@pytest.mark.parametrize("seed", range(30))
def test_network_is_scipys_coo_matrix_and_cuts_alike(seed):
    rows, cols, caps, n = _random_network(seed)
    net = _network(rows, cols, caps, n)
    want = sparse.csr_matrix((caps, (rows, cols)), shape=(n, n), dtype=np.int64)
    assert np.array_equal(net.indptr, want.indptr)
    assert np.array_equal(net.indices, want.indices)
    assert np.array_equal(net.data, want.data)
    got, ref = maximum_flow(net, 0, n - 1), maximum_flow(want, 0, n - 1)
    assert got.flow_value == ref.flow_value
    assert (got.flow != ref.flow).nnz == 0
    # the residual graph and both sides of the cut, as SciPy's sparse route finds them
    residual = (want - ref.flow).tocsr()
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    er, ec = _residual_edges(net, got.flow)
    coo = residual.tocoo()
    assert sorted(zip(er.tolist(), ec.tolist())) == sorted(zip(coo.row.tolist(), coo.col.tolist()))
    for start, graph, (src, dst) in ((0, residual, (er, ec)), (n - 1, residual.T.tocsr(), (ec, er))):
        order = breadth_first_order(graph, start, directed=True, return_predecessors=False)
        want_side = np.zeros(n, dtype=bool)
        want_side[order] = True
        assert np.array_equal(_reachable(src, dst, start, n), want_side)


def test_network_of_no_edges_is_empty():
    e = np.empty(0, dtype=np.int64)
    net = _network(e, e, e, 3)
    assert net.shape == (3, 3) and net.nnz == 0
    assert maximum_flow(net, 0, 2).flow_value == 0
