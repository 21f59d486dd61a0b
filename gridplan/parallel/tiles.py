"""Square tiles with a halo: exact walking-distance searches tile by tile.

Why a tile's answer is exact. Walking distances are never shorter than straight-line distances,
so every point of a walk of length ``L`` that ends at a point ``p`` lies within Euclidean distance
``L`` of ``p``. Take a tile's core (a square in the metric CRS) and its halo: the core grown by
``h`` metres on every side. For a target snapped into the core, any walk of length ``<= h`` from
a source to it uses only network nodes inside core+halo, and every edge between two such nodes
touches core+halo. The sub-network of all edges touching core+halo (whole edges, not clipped)
therefore contains every walk of length ``<= h`` to the core's targets, with the same edge
weights (the sub-matrix of the whole CSR), and no walk that is not in the whole network. So:

- a distance ``<= h`` found in the tile is the whole network's distance, bit for bit (Dijkstra's
  final label of a node is the minimum of ``label(u) + w(u, v)`` over its settled neighbours,
  which does not depend on the order of the search);
- a distance ``> h`` (or none) in the tile means the whole network's distance is ``> h`` too
  (the tile is a sub-graph: its distances are never shorter).

Households and facilities are snapped ONCE on the whole network (nearest-edge ties are broken by
the R-tree's traversal order, which a sub-network would change) and their snap frames are handed
to the tiles with edge and node numbers renumbered monotonically, so ties elsewhere (parallel
pieces, equal offsets) resolve as in the whole network.

Written by hand: no library tiles a scipy.sparse.csgraph search with an exactness guarantee.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.network.graph import WalkNetwork

__all__ = [
    "Tile",
    "make_tiles",
    "subnetwork",
    "snapped_xy",
    "renumber_snap",
    "relevant_sources",
    "tile_nearest",
    "tile_isochrones",
]


class Tile:
    """A square core ``(ix, iy)`` of side ``size`` and the box core+halo."""

    __slots__ = ("ix", "iy", "core", "region")

    def __init__(self, ix: int, iy: int, x0: float, y0: float, size: float, halo: float) -> None:
        self.ix, self.iy = int(ix), int(iy)
        cx, cy = x0 + ix * size, y0 + iy * size
        self.core = (cx, cy, cx + size, cy + size)
        # 1 m more than the halo: a point assigned to this tile by floor() may sit a rounding
        # error outside the core, and a larger region never changes a tile's answer
        h = halo + 1.0
        self.region = shapely.box(cx - h, cy - h, cx + size + h, cy + size + h)

    def __repr__(self) -> str:  # pragma: no cover
        return f"Tile({self.ix}, {self.iy})"


def make_tiles(xy: np.ndarray, size: float, halo: float) -> tuple[list[Tile], np.ndarray]:
    """Tiles holding the points ``xy`` (n, 2) and the tile position of every point.

    Tiles are ordered by (row, column) and only tiles holding a point are made. Points with NaN
    coordinates get position -1.
    """
    ok = np.isfinite(xy).all(axis=1)
    pos = np.full(len(xy), -1, dtype=np.int64)
    if not ok.any():
        return [], pos
    x0 = math.floor(xy[ok, 0].min() / size) * size
    y0 = math.floor(xy[ok, 1].min() / size) * size
    ix = np.floor((xy[ok, 0] - x0) / size).astype(np.int64)
    iy = np.floor((xy[ok, 1] - y0) / size).astype(np.int64)
    keys, inverse = np.unique(np.c_[iy, ix], axis=0, return_inverse=True)
    pos[ok] = inverse.ravel()
    tiles = [Tile(kx, ky, x0, y0, size, halo) for ky, kx in keys]
    return tiles, pos


def subnetwork(
    net: WalkNetwork, region, *, tree: shapely.STRtree, light: bool = False
) -> tuple[WalkNetwork, np.ndarray, np.ndarray]:
    """The edges of ``net`` touching ``region`` (whole edges) as a network of their own.

    Returns the sub-network, the global ids of its nodes and of its edges (both sorted, so the
    renumbering is monotone). Its CSR is the whole CSR restricted to those nodes: identical
    weights, parallel edges already reduced as in the whole network. ``light`` leaves the edge
    table empty (enough for :meth:`WalkNetwork.nearest`, which works from snap frames). ``tree``
    is an STRtree of ``net.edges`` geometries.
    """
    edges = np.sort(tree.query(region, predicate="intersects")).astype(np.int64)
    u = net.edges["u"].to_numpy()[edges]
    v = net.edges["v"].to_numpy()[edges]
    nodes = np.unique(np.r_[u, v]).astype(np.int64)
    csr = net.csr[nodes][:, nodes]
    sub_edges = net.edges.iloc[:0] if light else net.edges.iloc[edges].copy()
    if not light:
        sub_edges["u"] = np.searchsorted(nodes, u)
        sub_edges["v"] = np.searchsorted(nodes, v)
    sub_edges = sub_edges.reset_index(drop=True)
    sub = WalkNetwork(
        crs=net.crs,
        node_xy=net.node_xy[nodes],
        edges=sub_edges,
        csr=csr,
        component=np.zeros(len(nodes), dtype=np.int64),
        report={"tile_nodes": int(len(nodes))},
    )
    return sub, nodes, edges


def snapped_xy(net: WalkNetwork, snap: pd.DataFrame) -> np.ndarray:
    """Coordinates of the snapped points of a snap frame (NaN where off the network)."""
    e = snap["edge"].to_numpy()
    xy = np.full((len(snap), 2), np.nan)
    hit = e >= 0
    if hit.any():
        lines = net.edges.geometry.values.to_numpy()[e[hit]]
        pts = shapely.line_interpolate_point(lines, snap["offset_m"].to_numpy()[hit])
        xy[hit] = shapely.get_coordinates(pts)
    return xy


def renumber_snap(snap: pd.DataFrame, nodes: np.ndarray, edges: np.ndarray) -> pd.DataFrame:
    """A snap frame with node and edge ids of the sub-network (rows whose edge is not in the
    sub-network are marked off the network)."""
    out = pd.DataFrame(
        {
            "edge": snap["edge"].to_numpy(),
            "u": snap["u"].to_numpy(),
            "v": snap["v"].to_numpy(),
            "offset_m": snap["offset_m"].to_numpy(),
            "length_m": snap["length_m"].to_numpy(),
            "snap_m": snap["snap_m"].to_numpy(),
            "off_network": snap["off_network"].to_numpy(),
        }
    )
    e = out["edge"].to_numpy()
    k = np.searchsorted(edges, e)
    inside = (e >= 0) & (k < len(edges)) & (edges[np.minimum(k, len(edges) - 1)] == e)
    out["edge"] = np.where(inside, k, -1)
    out["u"] = np.where(inside, np.searchsorted(nodes, out["u"].to_numpy()), -1)
    out["v"] = np.where(inside, np.searchsorted(nodes, out["v"].to_numpy()), -1)
    out["off_network"] = ~inside
    return out


def relevant_sources(src_edge: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Positions of sources snapped to an edge of the sub-network (the others cannot reach the
    core within the halo: both ends of their edge lie outside core+halo)."""
    ok = src_edge >= 0
    k = np.searchsorted(edges, src_edge)
    ok &= (k < len(edges)) & (edges[np.minimum(k, len(edges) - 1)] == src_edge)
    return np.flatnonzero(ok)


def tile_nearest(payload: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest source of every target of one tile (a pure function, mapped over tiles).

    ``payload``: ``net`` (sub-network), ``sources``/``targets`` (renumbered snap frames),
    ``source_ids`` (global positions of the sources), ``target_ids`` (global row positions),
    ``limit_m``. Returns (target_ids, dist_m, global source position or -1).
    """
    net: WalkNetwork = payload["net"]
    near = WalkNetwork.nearest(net, payload["sources"], payload["targets"], limit_m=payload["limit_m"])
    src = near["source"].to_numpy()
    ids = payload["source_ids"]
    gsrc = np.where(src >= 0, ids[np.maximum(src, 0)], -1) if len(ids) else np.full(len(src), -1)
    return payload["target_ids"], near["dist_m"].to_numpy(), gsrc.astype(np.int64)


def tile_isochrones(payload: dict) -> gpd.GeoDataFrame:
    """Isochrone polygons of the facilities whose snapped point lies in one tile's core."""
    from gridplan.network.isochrones import isochrones

    iso = isochrones(payload["net"], payload["facilities"], fac_snap=payload["fac_snap"], **payload["kwargs"])
    iso["_fac"] = payload["fac_ids"][_fac_positions(iso, payload)]
    return iso


def _fac_positions(iso: gpd.GeoDataFrame, payload: dict) -> np.ndarray:
    # facility ids are unique (coverage validates them): map back through them
    ids = payload["facilities"]["facility_id"].astype(str).to_numpy()
    return pd.Index(ids).get_indexer(iso["facility_id"].astype(str).to_numpy())
