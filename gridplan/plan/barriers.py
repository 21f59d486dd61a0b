"""Barriers in a plan: which units a barrier separates, and warnings for grids that straddle one."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridplan.i18n import warning_text
from gridplan.norms import PLAN_BARRIER_SNAP_M, UNIT_ADJACENCY_MIN_EDGE_M

__all__ = ["BarrierLines", "barrier_lines", "crossing_warnings", "unit_zones"]

#: Barrier lines (array of geometries, None when there are none), their names and their kinds.
BarrierLines = tuple


def barrier_lines(barriers: gpd.GeoDataFrame | None, crs) -> BarrierLines:
    """Barrier lines in the plan's CRS with their names and kinds.

    Parameters
    ----------
    barriers : GeoDataFrame, optional
        With optional ``name`` and ``kind`` columns; geometries other than lines are ignored.
    crs
        The plan's metric CRS.

    Returns
    -------
    tuple
        ``(lines, names, kinds)``: ``lines`` is None when there are no barriers.
    """
    if barriers is None or len(barriers) == 0:
        return None, np.empty(0, dtype=object), np.empty(0, dtype=object)
    b = barriers.to_crs(crs)
    lines = b.geometry.values
    ok = np.isin(shapely.get_type_id(np.asarray(lines)), [1, 2, 5])
    b = b[ok]

    def col(name):
        if name not in b:
            return np.full(len(b), None, dtype=object)
        return b[name].astype(object).where(b[name].notna(), None).to_numpy(dtype=object)

    return np.asarray(b.geometry.values), col("name"), col("kind")


def unit_zones(cells, adjacency: sparse.csr_matrix, unit_community: np.ndarray, barriers) -> np.ndarray:
    """Per unit, its barrier-free zone: units joined by a shared boundary that is not all along
    a barrier, within one community.

    A grid whose units lie in more than one zone straddles a barrier; this is the partition's
    test (its ``barrier_crossing``), here on the plan's units, so that edits keep the flag.

    Parameters
    ----------
    cells : array of Polygon
        Unit cells in the plan's metric CRS.
    adjacency : csr_matrix
        Unit adjacency (symmetric).
    unit_community : array of str
        Community of every unit.
    barriers : array of LineString, optional
        Barrier lines in the same CRS.

    Returns
    -------
    ndarray of int
        Zone label per unit.
    """
    n = len(cells)
    coo = sparse.triu(adjacency, k=1).tocoo()
    a, b = coo.row, coo.col
    keep = unit_community[a] == unit_community[b]
    a, b = a[keep], b[keep]
    same = np.ones(len(a), dtype=bool)
    if barriers is not None and len(barriers) and len(a):
        zone = shapely.buffer(barriers, PLAN_BARRIER_SNAP_M)
        shared = shapely.intersection(cells[a], cells[b])
        ei, zi = shapely.STRtree(zone).query(shared, predicate="intersects")
        if len(ei):
            hit = np.unique(ei)
            near = shapely.union_all(zone[np.unique(zi)])
            off = shapely.length(shapely.difference(shared[hit], near))
            same[hit] = off >= UNIT_ADJACENCY_MIN_EDGE_M
    m = sparse.coo_matrix((np.ones(int(same.sum()), dtype=np.int8), (a[same], b[same])), shape=(n, n))
    _, labels = connected_components(m, directed=False)
    return labels


def barriers_in(polygon, lines: BarrierLines) -> tuple[list[str], list[str]]:
    """Names and kinds of the barrier lines that run through ``polygon`` (not just along it).

    Parameters
    ----------
    polygon : Polygon
        In the CRS of the lines.
    lines : tuple
        From :func:`barrier_lines`.

    Returns
    -------
    (list of str, list of str)
        Sorted distinct names and kinds (unnamed lines give none).
    """
    geoms, names, kinds = lines
    if geoms is None or len(geoms) == 0:
        return [], []
    inner = shapely.buffer(polygon, -2 * PLAN_BARRIER_SNAP_M)
    hit = np.flatnonzero(shapely.intersects(geoms, inner))
    return (
        sorted({str(names[i]) for i in hit if names[i]}),
        sorted({str(kinds[i]) for i in hit if kinds[i]}),
    )


def crossing_warnings(old: gpd.GeoDataFrame, rows: gpd.GeoDataFrame, lines: BarrierLines) -> list[dict]:
    """A warning for every edited grid that straddles a barrier now and did not before.

    Parameters
    ----------
    old : GeoDataFrame
        Grid rows before the edit (indexed by grid id, with ``barrier_crossing``).
    rows : GeoDataFrame
        The edited grids' new rows.
    lines : tuple
        From :func:`barrier_lines`.

    Returns
    -------
    list of dict
        ``code``, ``grid_id``, ``barriers``, ``kinds``, ``message``, ``message_zh``.
    """
    out = []
    for gid in rows.index[rows["barrier_crossing"].to_numpy(dtype=bool)]:
        if gid in old.index and bool(old.at[gid, "barrier_crossing"]):
            continue
        names, kinds = barriers_in(rows.geometry[gid], lines)
        w = {"code": "barrier_crossing", "grid_id": str(gid), "barriers": names, "kinds": kinds}
        w["message"] = warning_text(w, "en")
        w["message_zh"] = warning_text(w, "zh")
        out.append(w)
    return out
