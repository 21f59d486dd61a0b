"""The walking network: turn lines into a CSR graph, snap points to it, measure on it.

A :class:`WalkNetwork` holds nodes and edges in the data's UTM zone (metres), an undirected CSR
adjacency matrix in metres and the connected components. Points (households, facilities,
candidate sites) are snapped to the nearest EDGE, not the nearest node: a household in the middle
of a 400 m block is 200 m from either end, not 0 m from its nearest junction.

Exact walking distance from a source point ``s`` (snapped to edge ``e_s`` at offset ``o_s`` with
access leg ``a_s``) to a target point ``t`` (edge ``e_t``, offset ``o_t``, access leg ``a_t``)::

    min( D(s, u_t) + o_t,  D(s, v_t) + len_t - o_t,  a_s + |o_t - o_s| if e_t == e_s ) + a_t

where ``D(s, n) = a_s + min(o_s + d(u_s, n), len_s - o_s + d(v_s, n))`` (``d`` = node-to-node
network distance) is computed by one Dijkstra run on the CSR matrix augmented with one virtual node
per source, joined to the two end nodes of its edge by directed arcs of weight ``a_s + o_s`` and
``a_s + len_s - o_s``. This is exact (sources are not moved to nodes) and lets
``scipy.sparse.csgraph.dijkstra`` do all sources in one pass with ``min_only=True``; the nearest
source of every node comes from its ``sources`` output. Access legs count as walking (same speed).

Graph rules: lines are joined where they share a vertex (OSM's rule, see
:func:`network_from_lines`); walking is undirected; parallel edges are reduced to the shortest
before the CSR is built (scipy.sparse would sum them); loops are kept for snapping only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph

from gridplan.errors import InputError, NetworkError
from gridplan.geometry.linework import node_lines
from gridplan.io.projection import local_crs

__all__ = ["WalkNetwork", "network_from_lines"]

#: Edges shorter than this (metres) are stored with this weight: csgraph would otherwise read an
#: explicit zero as "no edge" after any sparse operation that prunes zeros.
MIN_EDGE_M = 1e-6
#: Upper bound on dense distance rows held at once (batch x nodes) in batched searches.
DENSE_CELLS = 20_000_000


@dataclass
class WalkNetwork:
    """A walking network in a metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        Metric CRS of every coordinate (the data's UTM zone).
    node_xy : ndarray, shape (n_nodes, 2)
        Node coordinates in metres.
    edges : GeoDataFrame
        One row per edge: ``u``, ``v`` (node ids; the geometry starts at ``u``), ``length`` (m),
        ``highway``, ``name`` and LineString ``geometry`` in :attr:`crs`. Parallel edges and
        loops are kept here (points may snap to them).
    csr : scipy.sparse.csr_array
        Symmetric ``n_nodes x n_nodes`` matrix of walking lengths (m); parallel edges reduced to
        the shortest, loops left out.
    component : ndarray of int
        Connected-component label per node (largest component first).
    report : dict
        Sizes, components, what the walkable filter dropped.
    """

    crs: CRS
    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    csr: sparse.csr_array
    component: np.ndarray
    report: dict = field(default_factory=dict)
    _snap_index: object = field(default=None, repr=False)

    # ----------------------------------------------------------------------------- basics
    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """Nodes as points: ``node``, ``x``, ``y``, ``component``."""
        return gpd.GeoDataFrame(
            {
                "node": np.arange(self.n_nodes),
                "x": self.node_xy[:, 0],
                "y": self.node_xy[:, 1],
                "component": self.component,
            },
            geometry=shapely.points(self.node_xy),
            crs=self.crs,
        )

    @property
    def component_sizes(self) -> np.ndarray:
        """Nodes per connected component, largest first (component label = position)."""
        return np.bincount(self.component)

    @property
    def snap_index(self):
        """The nearest-edge index (built on first use; see :mod:`gridplan.network.snapping`)."""
        if self._snap_index is None:
            from gridplan.network.snapping import SnapIndex

            self._snap_index = SnapIndex(self.edges.geometry.values.to_numpy())
        return self._snap_index

    # ----------------------------------------------------------------------------- snapping
    def snap(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries,
        max_snap_m: float = math.inf,
        *,
        progress: bool = False,
        geometry: bool = True,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Snap points to their nearest edge, exactly (KD-tree of edge samples, queried in Morton
        order, with an exactness test and shapely ``STRtree.query_nearest`` as fallback; see
        :mod:`gridplan.network.snapping`).

        Parameters
        ----------
        points : GeoDataFrame or GeoSeries
            Points with a CRS (reprojected to :attr:`crs`). Non-point geometries use their
            representative point.
        max_snap_m : float
            Points farther than this from every edge are left unsnapped (``edge`` = -1).
        progress : bool
            Show a tqdm progress bar (building the index, then the points).
        geometry : bool
            Return the snapped locations as point geometries. ``False`` returns a plain
            DataFrame with ``x``, ``y`` instead: building a million shapely points costs about
            as much as snapping them, and searches need only the columns.

        Returns
        -------
        GeoDataFrame, or DataFrame when ``geometry`` is False
            Same index and order as ``points``: ``edge`` (row of :attr:`edges`, -1 if none),
            ``u``, ``v``, ``offset_m`` (distance along the edge from ``u``), ``length_m``,
            ``snap_m`` (straight-line access leg, NaN if none), ``off_network`` (bool); geometry is
            the snapped location on the edge (None if off the network), in :attr:`crs`.
        """
        geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geom.crs is None:
            raise InputError("points have no CRS", fix="read them with gridplan.io.files, which sets one")
        geom = geom.to_crs(self.crs)
        pts = geom.values.to_numpy() if hasattr(geom.values, "to_numpy") else np.asarray(geom.values)
        bad = shapely.is_missing(pts) | shapely.is_empty(pts)
        not_point = ~bad & (shapely.get_type_id(pts) != 0)
        if not_point.any():
            pts = pts.copy()
            pts[not_point] = shapely.point_on_surface(pts[not_point])
        n = len(pts)
        ok = np.flatnonzero(~bad)
        edge = np.full(n, -1, dtype=np.int64)
        offset, snap_m, xy = np.full(n, np.nan), np.full(n, np.nan), np.full((n, 2), np.nan)
        if len(self.edges) and len(ok):
            from tqdm import tqdm

            if progress and self._snap_index is None:
                with tqdm(total=1, desc="snapping index", unit="index") as bar:
                    self.snap_index  # noqa: B018  (built here so that the bar shows the wait)
                    bar.update(1)
            with tqdm(
                total=len(ok), desc="snapping", unit="pt", unit_scale=True, disable=not progress
            ) as bar:
                e, o, d, q = self.snap_index.query(
                    shapely.get_coordinates(pts if len(ok) == n else pts[ok]), max_snap_m, progress=bar.update
                )
            if len(ok) == n:  # (the usual case: no fancy-index copies of a million rows)
                edge, offset, snap_m, xy = e, o, d, q
            else:
                edge[ok], offset[ok], snap_m[ok], xy[ok] = e, o, d, q
        hit = edge >= 0
        at = np.where(hit, edge, 0)
        # np.take and np.where, not boolean-mask indexing: several times faster on a million rows
        length = np.where(hit, np.take(self._length, at), np.nan) if len(self.edges) else np.full(n, np.nan)
        u = np.where(hit, np.take(self._u, at), -1) if len(self.edges) else np.full(n, -1, dtype=np.int64)
        v = np.where(hit, np.take(self._v, at), -1) if len(self.edges) else np.full(n, -1, dtype=np.int64)
        cols = {
            "edge": edge,
            "u": u,
            "v": v,
            "offset_m": offset,
            "length_m": length,
            "snap_m": snap_m,
            "off_network": ~hit,
        }
        if not geometry:
            # copy=False: the columns are this call's own arrays (pandas would copy 70 MB a million rows)
            return pd.DataFrame({**cols, "x": xy[:, 0], "y": xy[:, 1]}, index=points.index, copy=False)
        snapped = np.full(n, None, dtype=object)
        snapped[hit] = shapely.points(xy[hit])
        return gpd.GeoDataFrame(
            cols, geometry=gpd.GeoSeries(snapped, crs=self.crs).values, index=points.index
        )

    @property
    def _u(self) -> np.ndarray:
        return self.edges["u"].to_numpy()

    @property
    def _v(self) -> np.ndarray:
        return self.edges["v"].to_numpy()

    @property
    def _length(self) -> np.ndarray:
        return self.edges["length"].to_numpy()

    # ----------------------------------------------------------------------------- searching
    def _augmented(self, sources: pd.DataFrame) -> tuple[sparse.csr_array, np.ndarray]:
        """CSR matrix with one virtual node per snapped source (see module docstring).

        Returns the matrix and the virtual node id of every source (sources off the network get
        an isolated virtual node).
        """
        n = self.n_nodes
        s = len(sources)
        virtual = n + np.arange(s)
        hit = sources["edge"].to_numpy() >= 0
        a = sources["snap_m"].to_numpy()[hit]
        o = sources["offset_m"].to_numpy()[hit]
        ln = sources["length_m"].to_numpy()[hit]
        rows = np.r_[virtual[hit], virtual[hit]]
        cols = np.r_[sources["u"].to_numpy()[hit], sources["v"].to_numpy()[hit]]
        w = np.maximum(np.r_[a + o, a + ln - o], MIN_EDGE_M)
        coo = self.csr.tocoo()
        # A source whose edge is a loop gets two arcs to the same node: keep the shorter, since
        # sparse constructors SUM duplicate entries.
        key = np.r_[rows.astype(np.int64) * (n + s) + cols]
        order = np.lexsort((w, key))
        first = _run_starts(key[order])
        rows, cols, w = rows[order][first], cols[order][first], w[order][first]
        mat = sparse.csr_array(
            (np.r_[coo.data, w], (np.r_[coo.row, rows], np.r_[coo.col, cols])), shape=(n + s, n + s)
        )
        return mat, virtual

    def nearest(
        self, sources: pd.DataFrame, targets: pd.DataFrame, *, limit_m: float = math.inf
    ) -> pd.DataFrame:
        """Network distance from every target to its nearest source, in one Dijkstra pass.

        Parameters
        ----------
        sources, targets : DataFrame
            Outputs of :meth:`snap` (e.g. facilities and households).
        limit_m : float
            Stop the search at this network distance (node distance; the targets' own access
            legs are added afterwards). ``inf`` (default) gives exact distances everywhere.

        Returns
        -------
        DataFrame
            Same index as ``targets``: ``dist_m`` (access legs included; NaN when unreachable,
            off the network or beyond ``limit_m``) and ``source`` (position in ``sources``, -1).
        """
        mat, virtual = self._augmented(sources)
        n = self.n_nodes
        if len(sources):
            dist, _pred, src = csgraph.dijkstra(
                mat, directed=True, indices=virtual, min_only=True, return_predecessors=True, limit=limit_m
            )
            src = np.where(src >= n, src - n, -1)
        else:
            dist = np.full(n, np.inf)
            src = np.full(n, -1)
        d = dist[:n]
        t_edge = targets["edge"].to_numpy()
        hit = t_edge >= 0
        tu = np.where(hit, targets["u"].to_numpy(), 0)
        tv = np.where(hit, targets["v"].to_numpy(), 0)
        off = targets["offset_m"].to_numpy()
        ln = targets["length_m"].to_numpy()
        via_u = d[tu] + off
        via_v = d[tv] + (ln - off)
        best = np.where(via_v < via_u, via_v, via_u)
        best_src = np.where(via_v < via_u, src[tv], src[tu])
        # Same edge: walk straight along it, not round through an end node.
        direct, direct_src = _same_edge(sources, targets)
        better = direct < best
        best = np.where(better, direct, best)
        best_src = np.where(better, direct_src, best_src)
        best = best + targets["snap_m"].to_numpy()
        unreachable = ~hit | ~np.isfinite(best) | (best_src < 0)
        if not math.isinf(limit_m):
            unreachable |= best - targets["snap_m"].to_numpy() > limit_m
        return pd.DataFrame(
            {
                "dist_m": np.where(unreachable, np.nan, best),
                "source": np.where(unreachable, -1, best_src).astype(np.int64),
            },
            index=targets.index,
        )

    def distances_from(self, sources: pd.DataFrame, *, limit_m: float, batch: int | None = None):
        """Yield ``(positions, dist)`` per batch of sources: ``dist`` is (batch, n_nodes).

        Node distances from each source (access leg included) up to ``limit_m``; ``inf`` beyond.
        Batches are sized so that at most :data:`DENSE_CELLS` distances are held at once.
        """
        mat, virtual = self._augmented(sources)
        n = self.n_nodes
        if batch is None:
            batch = max(1, DENSE_CELLS // max(n, 1))
        for lo in range(0, len(sources), batch):
            pos = np.arange(lo, min(lo + batch, len(sources)))
            dist = csgraph.dijkstra(mat, directed=True, indices=virtual[pos], limit=limit_m)
            yield pos, np.atleast_2d(dist)[:, :n]

    def reach_matrix(
        self,
        sources: pd.DataFrame | gpd.GeoDataFrame,
        targets: pd.DataFrame | gpd.GeoDataFrame,
        cutoff_m: float,
        *,
        batch: int | None = None,
        max_snap_m: float = math.inf,
    ) -> sparse.csr_array:
        """Walking distances from many sources to many targets within a cutoff, as a sparse matrix.

        For siting: sources are candidate sites, targets are households. Each batch of sources
        runs ``scipy.sparse.csgraph.dijkstra(indices=batch, limit=cutoff_m)`` (not ``min_only``:
        every source keeps its own distances) on the graph with one virtual node per source; the
        reached nodes are joined to the targets snapped to their incident edges, and the targets'
        offsets and access legs are added exactly as in :meth:`nearest`.

        Parameters
        ----------
        sources : GeoDataFrame of points, or DataFrame from :meth:`snap`
            Candidate sites. Points are snapped here (with ``max_snap_m``).
        targets : GeoDataFrame of points, or DataFrame from :meth:`snap`
            E.g. households. Snap them once and reuse the frame across calls.
        cutoff_m : float
            Walking distance limit (access legs included), e.g. ``Norms().walk_m``.
        batch : int, optional
            Sources per Dijkstra call (default: as many as keep batch x nodes under
            :data:`DENSE_CELLS`).
        max_snap_m : float
            Used only when points are given.

        Returns
        -------
        scipy.sparse.csr_array, shape (n_targets, n_sources)
            Entry ``[t, s]`` is the walking distance in metres when ``<= cutoff_m``; absent
            otherwise. Distances of exactly zero are stored as :data:`MIN_EDGE_M` so that every
            reachable pair is an explicit entry. Row and column order follow ``targets`` and
            ``sources``.
        """
        sources = self._as_snap(sources, max_snap_m)
        targets = self._as_snap(targets, max_snap_m)
        n_t, n_s = len(targets), len(sources)
        t_hit = targets["edge"].to_numpy() >= 0
        t_pos = np.flatnonzero(t_hit)
        t_u = targets["u"].to_numpy()[t_hit]
        t_v = targets["v"].to_numpy()[t_hit]
        t_off = targets["offset_m"].to_numpy()[t_hit]
        t_len = targets["length_m"].to_numpy()[t_hit]
        t_snap = targets["snap_m"].to_numpy()[t_hit]
        # node -> targets incident to it, as CSR (one entry for the u end, one for the v end)
        n = self.n_nodes
        inc_node = np.r_[t_u, t_v]
        inc_t = np.r_[np.arange(len(t_pos)), np.arange(len(t_pos))]
        inc_leg = np.r_[t_off, t_len - t_off]
        order = np.argsort(inc_node, kind="stable")
        inc_t, inc_leg = inc_t[order], inc_leg[order]
        ptr = np.r_[0, np.cumsum(np.bincount(inc_node, minlength=n))]
        rows_all, cols_all, vals_all = [], [], []
        for pos, dist in self.distances_from(sources, limit_m=cutoff_m, batch=batch):
            r, node = np.nonzero(np.isfinite(dist))
            d = dist[r, node]
            count = ptr[node + 1] - ptr[node]
            rep = np.repeat(np.arange(len(node)), count)
            starts = np.repeat(ptr[node], count)
            within = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
            k = starts + within
            tt = inc_t[k]
            val = d[rep] + inc_leg[k] + t_snap[tt]
            rows_all.append(tt)
            cols_all.append(pos[r[rep]])
            vals_all.append(val)
        # same-edge pairs: straight along the shared edge
        se_t, se_s, se_d = _same_edge_pairs(sources, targets.iloc[t_pos])
        rows_all.append(se_t)
        cols_all.append(se_s)
        vals_all.append(se_d + t_snap[se_t])
        rows = np.concatenate(rows_all) if rows_all else np.empty(0, np.int64)
        cols = np.concatenate(cols_all) if cols_all else np.empty(0, np.int64)
        vals = np.concatenate(vals_all) if vals_all else np.empty(0)
        keep = vals <= cutoff_m
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        # minimum per (target, source): sort, then take the first of each run (sparse
        # constructors would SUM duplicates)
        order = np.lexsort((vals, cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        first = _run_starts(rows, cols)
        rows, cols, vals = rows[first], cols[first], np.maximum(vals[first], MIN_EDGE_M)
        return sparse.csr_array((vals, (t_pos[rows], cols)), shape=(n_t, n_s))

    def _as_snap(self, frame, max_snap_m: float) -> pd.DataFrame:
        if isinstance(frame, pd.DataFrame) and {"edge", "offset_m", "snap_m"} <= set(frame.columns):
            return frame
        return self.snap(frame, max_snap_m=max_snap_m)

    def to_graph(self):
        """The network as an undirected ``networkx.MultiGraph`` (for inspection and references)."""
        import networkx as nx

        g = nx.MultiGraph()
        g.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(self.node_xy))
        g.add_weighted_edges_from(
            zip(self._u.tolist(), self._v.tolist(), self._length.tolist()), weight="length"
        )
        return g


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """True where a run of equal (sorted) keys starts; empty input gives an empty mask."""
    n = len(keys[0])
    first = np.ones(n, dtype=bool)
    if n > 1:
        first[1:] = np.logical_or.reduce([k[1:] != k[:-1] for k in keys])
    return first


def _same_edge_pairs(
    sources: pd.DataFrame, targets: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target position, source position, along-edge distance + source access leg) for every
    target and source snapped to the same edge."""
    s = pd.DataFrame(
        {
            "edge": sources["edge"].to_numpy(),
            "s": np.arange(len(sources)),
            "s_off": sources["offset_m"].to_numpy(),
            "s_snap": sources["snap_m"].to_numpy(),
        }
    )
    s = s[s["edge"] >= 0]
    t = pd.DataFrame(
        {
            "edge": targets["edge"].to_numpy(),
            "t": np.arange(len(targets)),
            "t_off": targets["offset_m"].to_numpy(),
        }
    )
    t = t[t["edge"].isin(s["edge"])]
    pairs = t.merge(s, on="edge", how="inner", sort=False)
    d = (pairs["t_off"] - pairs["s_off"]).abs() + pairs["s_snap"]
    return pairs["t"].to_numpy(np.int64), pairs["s"].to_numpy(np.int64), d.to_numpy(float)


def _same_edge(sources: pd.DataFrame, targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Best same-edge distance (without the target's access leg) and its source, per target."""
    out = np.full(len(targets), np.inf)
    src = np.full(len(targets), -1, dtype=np.int64)
    t, s, d = _same_edge_pairs(sources, targets)
    if len(t):
        order = np.lexsort((s, d, t))
        t, s, d = t[order], s[order], d[order]
        first = np.r_[True, t[1:] != t[:-1]]
        out[t[first]] = d[first]
        src[t[first]] = s[first]
    return out, src


# --------------------------------------------------------------------------------- building
def _csr_and_components(u: np.ndarray, v: np.ndarray, length: np.ndarray, n: int, report: dict):
    """The undirected CSR matrix of the edges (parallel edges reduced to the shortest, loops
    left out) and connected components numbered largest first."""
    # Reduce parallel edges to the shortest BEFORE building the CSR: scipy.sparse sums duplicate
    # (row, col) entries, which would turn two 50 m streets between the same junctions into 100 m.
    a, b = np.minimum(u, v), np.maximum(u, v)
    not_loop = a != b
    a, b, w = a[not_loop], b[not_loop], np.maximum(length[not_loop], MIN_EDGE_M)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = _run_starts(a, b)
    report["parallel_edges_reduced"] = int((~first).sum())
    report["loops"] = int((~not_loop).sum())
    a, b, w = a[first], b[first], w[first]
    csr = sparse.csr_array((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    n_comp, labels = csgraph.connected_components(csr, directed=False)
    # relabel components by size (largest first, ties by smallest node id) for stable reports
    sizes = np.bincount(labels, minlength=n_comp)
    first_node = np.full(n_comp, n)
    np.minimum.at(first_node, labels, np.arange(n))
    rank = np.lexsort((first_node, -sizes))
    relabel = np.empty(n_comp, dtype=np.int64)
    relabel[rank] = np.arange(n_comp)
    component = relabel[labels]
    return csr, component, n_comp


def network_from_lines(
    lines: gpd.GeoDataFrame, *, crs=None, filter_walkable: bool = True, source: str = "lines"
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from a GeoDataFrame of lines.

    Lines are joined where they share a vertex (end point or interior vertex), never where they
    merely cross: the OSM rule, which keeps bridges and tunnels apart. A line file drawn without
    shared vertices at crossings must be noded first (e.g. ``shapely.node``).

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings or MultiLineStrings with a CRS; optional ``highway`` and ``name`` columns.
    crs : CRS, optional
        Metric CRS to work in (default: the UTM zone of the lines).
    filter_walkable : bool
        Apply the walkable filter of :mod:`gridplan.network.osm` when a ``highway`` column exists.
    source : str
        Name used in error messages and the report.

    Returns
    -------
    WalkNetwork
    """
    from gridplan.network.osm import walkable_mask

    if not isinstance(lines, gpd.GeoDataFrame):
        raise InputError("the walking network must be a GeoDataFrame of lines", file=source)
    if lines.crs is None:
        raise NetworkError(
            "the walking network has no CRS",
            file=source,
            fix="save it as GeoJSON (WGS-84) or a format that stores its CRS",
            message_zh="步行路网没有坐标参考系",
        )
    report: dict = {"source": str(source), "ways_in": int(len(lines))}
    lines = lines[~(lines.geometry.isna() | lines.geometry.is_empty)]
    types = set(lines.geometry.geom_type.unique())
    if not types <= {"LineString", "MultiLineString"}:
        raise NetworkError(
            f"the walking network must be lines, found {sorted(types - {'LineString', 'MultiLineString'})}",
            file=source,
            fix="give a file of road/path centre lines",
            message_zh="步行路网必须是线要素",
        )
    if filter_walkable and "highway" in lines.columns:
        mask, dropped = walkable_mask(lines)
        report["ways_dropped"] = dropped
        lines = lines[mask]
    lines = lines.explode(index_parts=False, ignore_index=True)
    if len(lines) == 0:
        raise NetworkError(
            "no walkable lines in the walking network",
            file=source,
            fix="check the file covers the area and has footways or streets",
            message_zh="步行路网中没有可步行的道路",
            fix_zh="请检查路网文件是否覆盖研究区域并包含人行道或街道",
        )
    metric = CRS.from_user_input(crs) if crs is not None else local_crs(lines)
    lines = lines.to_crs(metric)
    noded = node_lines(lines.geometry.values.to_numpy())
    geom = noded["geometry"]
    u, v = noded["u"], noded["v"]
    length = shapely.length(geom)
    attrs = {}
    for col in ("highway", "name", "osmid"):
        if col in lines.columns:
            attrs[col] = lines[col].to_numpy()[noded["line"]]
    edges = gpd.GeoDataFrame({"u": u, "v": v, "length": length, **attrs}, geometry=geom, crs=metric)
    if "highway" in edges.columns:
        edges["highway"] = (
            edges["highway"]
            .astype(object)
            .map(lambda x: x if not isinstance(x, list) else ",".join(map(str, x)))
        )
    n = len(noded["node_xy"])
    csr, component, n_comp = _csr_and_components(u, v, length, n, report)
    sizes = np.bincount(component)
    report.update(
        {
            "crs": metric.to_string(),
            "nodes": int(n),
            "edges": int(len(edges)),
            "length_km": round(float(length.sum()) / 1000.0, 3),
            "components": int(n_comp),
            "largest_component_nodes": int(sizes[0]) if n else 0,
            "largest_component_share": round(float(sizes[0]) / n, 4) if n else 0.0,
            "component_sizes_top10": [int(x) for x in sizes[:10]],
        }
    )
    return WalkNetwork(
        crs=metric, node_xy=noded["node_xy"], edges=edges, csr=csr, component=component, report=report
    )
