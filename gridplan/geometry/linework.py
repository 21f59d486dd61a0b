"""Vectorised line work for the walking network: noding lines into edges, cutting substrings.

Written by hand because shapely 2 has no vectorised ``line_substring`` (``shapely.ops.substring``
works on one line at a time) and no well-kept library turns a bag of lines into a graph by the
OSM rule (ways meet where they share a vertex) without a per-line Python loop.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["node_lines", "substrings"]

#: Coordinates closer than this (metres) are the same vertex when lines are noded.
SNAP_GRID_M = 0.01


def node_lines(lines: np.ndarray) -> dict[str, np.ndarray]:
    """Split LineStrings into graph edges at their endpoints and at shared interior vertices.

    The rule is OSM's: two lines are connected where they share a vertex (an end point or an
    interior vertex present in both), never where they merely cross (bridges, tunnels). A vertex
    is a graph node when it is an end point of a line, or appears in two or more lines, or twice
    in the same line. Coordinates are matched after rounding to :data:`SNAP_GRID_M`.

    Parameters
    ----------
    lines : ndarray of LineString
        In a metric CRS; no empty or missing geometries.

    Returns
    -------
    dict
        ``node_xy`` (n, 2) node coordinates (sorted by x, then y, so node ids are deterministic),
        ``u``, ``v`` (edge end node ids, ``u`` at the start of the edge geometry), ``line``
        (index of the source line of every edge) and ``geometry`` (edge LineStrings).
    """
    lines = np.asarray(lines, dtype=object)
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    keys = np.round(coords / SNAP_GRID_M).astype(np.int64)
    # Consecutive repeats of one vertex inside a line carry no length: drop them, then drop
    # lines left with a single vertex.
    same_line = np.r_[False, line_idx[1:] == line_idx[:-1]]
    repeat = same_line & np.r_[False, (keys[1:] == keys[:-1]).all(axis=1)]
    keep = ~repeat
    per_line = np.bincount(line_idx[keep], minlength=len(lines))
    keep &= per_line[line_idx] >= 2
    coords, line_idx, keys = coords[keep], line_idx[keep], keys[keep]
    if len(coords) == 0:
        empty = np.empty(0, dtype=np.int64)
        return {
            "node_xy": np.empty((0, 2)),
            "u": empty,
            "v": empty,
            "line": empty,
            "geometry": np.empty(0, dtype=object),
        }
    uniq, vertex = _unique_rows(keys)
    first = np.r_[True, line_idx[1:] != line_idx[:-1]]
    last = np.r_[line_idx[1:] != line_idx[:-1], True]
    # A vertex seen twice (in two lines, or twice in one line such as a closed ring) is a
    # junction; so is every line end.
    is_node_vertex = np.bincount(vertex, minlength=len(uniq)) >= 2
    is_node_vertex[vertex[first | last]] = True
    is_node = is_node_vertex[vertex]
    # rank = index, within its line, of the edge that starts at (or runs through) a coordinate
    g = np.cumsum(is_node)
    line_of_first = np.cumsum(first) - 1
    rank = g - g[first][line_of_first]
    nodes_per_line = np.bincount(line_idx, weights=is_node, minlength=len(lines)).astype(np.int64)
    edges_per_line = np.maximum(nodes_per_line - 1, 0)
    edge_base = np.r_[0, np.cumsum(edges_per_line)[:-1]]
    gid = edge_base[line_idx] + rank
    # Every coordinate but a line's last belongs to edge `gid`; a junction that is not a line's
    # first coordinate also ends edge `gid - 1` (so it is written twice).
    a = ~last
    b = is_node & ~first
    pos = np.arange(len(coords))
    lab = np.r_[gid[a], gid[b] - 1]
    xy = np.r_[coords[a], coords[b]]
    order = np.lexsort((np.r_[pos[a], pos[b]], lab))
    n_edges = int(edges_per_line.sum())
    geometry = shapely.linestrings(xy[order], indices=lab[order])
    # node ids follow the sorted rounded coordinates: deterministic for the same input
    node_vertices = np.flatnonzero(is_node_vertex)
    node_of_vertex = np.full(len(uniq), -1, dtype=np.int64)
    node_of_vertex[node_vertices] = np.arange(len(node_vertices))
    node_xy = uniq[node_vertices] * SNAP_GRID_M
    nc_node = node_of_vertex[vertex[is_node]]
    nc_gid = gid[is_node]
    nc_first, nc_last = first[is_node], last[is_node]
    u = np.empty(n_edges, dtype=np.int64)
    v = np.empty(n_edges, dtype=np.int64)
    u[nc_gid[~nc_last]] = nc_node[~nc_last]
    v[nc_gid[~nc_first] - 1] = nc_node[~nc_first]
    edge_line = np.repeat(np.arange(len(lines)), edges_per_line)
    return {"node_xy": node_xy, "u": u, "v": v, "line": edge_line, "geometry": geometry}


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, axis=0, return_inverse=True)``, several times faster on one int64 key."""
    lo = keys.min(axis=0)
    span = keys.max(axis=0) - lo + 1
    if float(span[0]) * float(span[1]) < 2**62:
        flat = (keys[:, 0] - lo[0]) * span[1] + (keys[:, 1] - lo[1])
        uf, inv = np.unique(flat, return_inverse=True)
        return np.c_[uf // span[1] + lo[0], uf % span[1] + lo[1]], inv.ravel()
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    return uniq, inv.ravel()


def substrings(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The part of each line between distances ``start`` and ``end`` along it (vectorised).

    Parameters
    ----------
    lines : ndarray of LineString
        One line per piece (the same line may appear several times).
    start, end : ndarray of float
        Distances along each line, ``0 <= start <= end <= length``.

    Returns
    -------
    ndarray of LineString
    """
    lines = np.asarray(lines, dtype=object)
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    m = len(lines)
    if m == 0:
        return np.empty(0, dtype=object)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    seg = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    first = np.r_[True, idx[1:] != idx[:-1]]
    seg[first] = 0.0
    cum = np.cumsum(seg)
    cum -= np.repeat(cum[first], np.bincount(idx, minlength=m))
    inside = (cum > start[idx]) & (cum < end[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, end))
    lab = np.r_[np.arange(m), idx[inside], np.arange(m)]
    key = np.r_[np.full(m, -np.inf), cum[inside], np.full(m, np.inf)]
    xy = np.r_[p0, coords[inside], p1]
    order = np.lexsort((key, lab))
    return shapely.linestrings(xy[order], indices=lab[order])
