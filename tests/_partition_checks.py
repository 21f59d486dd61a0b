"""Independent checks of the DESIGN.md partition invariants (used by several partition tests).

Nothing here reuses gridplan's own adjacency or graph code: contiguity is re-derived from the unit
polygons with shapely and networkx, tiling from areas of overlays.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

REL_TOL = 1e-6
_CRS: dict = {}


def metric_crs(gdf):
    """The UTM CRS of ``gdf`` (cached: the PROJ lookup is slow)."""
    key = tuple(np.round(gdf.to_crs(4326).total_bounds, 3))
    if key not in _CRS:
        _CRS[key] = gdf.estimate_utm_crs()
    return _CRS[key]


def unit_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of polygons sharing a boundary of positive length."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    m = i < j
    i, j = i[m], j[m]
    bnd = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(bnd[i], bnd[j]))
    return i[shared > 1e-6], j[shared > 1e-6]


def check_invariants(
    res,
    households: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    lo: int,
    hi: int,
    *,
    allow_search_failed: bool = False,
    barriers: gpd.GeoDataFrame | None = None,
    keep: gpd.GeoDataFrame | None = None,
) -> dict:
    """Assert every invariant; returns a few counts for the caller's own assertions.

    Pass the ``barriers`` and ``keep`` given to the partition: the reasons ``part_below_min``,
    ``band_empty`` and ``kept`` are then checked against the data (barrier zones, the households
    of the neighbouring grids, the kept polygons), never against the reason's own text.
    """
    crs = metric_crs(communities)
    grids = res.grids.to_crs(crs)
    asg = res.assignment
    # 1. every household row assigned exactly once, same rows and order, totals conserved
    assert len(asg) == len(households)
    assert asg.index.equals(households.index)
    # rows outside every community are the rejects, and only they have no grid
    rejected = asg["grid_id"].isna().to_numpy()
    n_rejects = 0 if getattr(res, "rejects", None) is None else len(res.rejects)
    assert int(rejected.sum()) == n_rejects
    hh = households["households"].to_numpy() if "households" in households else np.ones(len(households))
    assert grids["grid_id"].is_unique
    # a building given as one row and split by entrance counts in its parts' grids (res.parts)
    parts = getattr(res, "parts", None)
    if parts is None:
        per_grid = asg.assign(_h=hh).groupby("grid_id")["_h"].sum()
    else:
        assert (parts.groupby(level=0, sort=False)["households"].sum().to_numpy() == hh).all()
        per_grid = parts.groupby("grid_id")["households"].sum()
    g_h = grids.set_index("grid_id")["households"]
    assert set(per_grid.index) <= set(g_h.index)
    assert (g_h.reindex(per_grid.index) == per_grid).all()
    assert int(g_h.sum()) + int(hh[rejected].sum()) == int(hh.sum())
    # households per community: the grid's community must contain (or be next to) the point
    comm_m = communities.to_crs(crs).set_index("community_id")
    gcomm = grids.set_index("grid_id")["community_id"]
    hh_comm = gcomm.reindex(asg["grid_id"]).to_numpy()
    pts = households.to_crs(crs).geometry.values
    dist = shapely.distance(pts[~rejected], comm_m.geometry.reindex(hh_comm[~rejected]).values)
    assert (dist <= 50.0 + 1e-6).all()
    if n_rejects:  # a reject is more than 50 m from every community
        far = shapely.distance(pts[rejected][:, None], comm_m.geometry.values[None, :]).min(axis=1)
        assert (far > 50.0 - 1e-6).all()
    for cid, g in grids.groupby("community_id"):
        assert int(g["households"].sum()) == int(hh[hh_comm == cid].sum())
    # 2. grids inside their community, tiling it
    for cid, g in grids.groupby("community_id"):
        poly = comm_m.geometry[cid]
        geoms = g.geometry.values
        a = poly.area
        union = shapely.union_all(geoms)
        assert abs(union.area - a) <= REL_TOL * a, (cid, union.area, a)
        assert abs(shapely.area(geoms).sum() - union.area) <= REL_TOL * a  # no overlaps
        assert shapely.difference(union, poly).area <= REL_TOL * a
        multipart_comm = shapely.get_type_id(poly) == 6
        if not multipart_comm:
            # 3. one Polygon each
            assert (shapely.get_type_id(geoms) == 3).all(), (cid, shapely.get_type_id(geoms))
    # 3. units of a grid connected (shared boundary of positive length)
    units = res.units.to_crs(crs)
    for gid, u in units.groupby("grid_id"):
        if len(u) <= 1:
            continue
        pi, pj = unit_pairs(u.geometry.values)
        graph = nx.Graph()
        graph.add_nodes_from(range(len(u)))
        graph.add_edges_from(zip(pi, pj))
        assert nx.is_connected(graph), gid
    # 4. bounds or a true reason
    counts = {"no_contiguous_split": 0, "search_failed": 0}
    comm_total = {cid: int(hh[hh_comm == cid].sum()) for cid in comm_m.index}
    bld = households["building_id"].astype(object).to_numpy() if "building_id" in households else None
    ctx = _Context(grids, units, comm_m, barriers, crs, lo, hi)
    for row in grids.itertuples():
        in_band = lo <= row.households <= hi
        assert row.status == ("ok" if in_band else ("under" if row.households < lo else "over"))
        if in_band:
            assert row.reason is None or (isinstance(row.reason, float) and math.isnan(row.reason))
            continue
        code = str(row.reason).partition(":")[0]
        if code == "no_households":
            assert row.households == 0 and comm_total[row.community_id] == 0
        elif code == "community_below_min":
            assert comm_total[row.community_id] < lo
        elif code == "unit_over_max":
            rows = np.flatnonzero(asg["grid_id"].to_numpy() == row.grid_id)
            assert row.households > hi
            if bld is not None and not any(b is None or b != b for b in bld[rows]):
                assert len(set(bld[rows])) == 1
            else:
                xy = np.round(shapely.get_coordinates(pts[rows]))
                assert len(np.unique(xy, axis=0)) == 1
        elif code == "part_below_min":
            assert row.households < lo
            ctx.check_cut_off(row.grid_id)
        elif code == "band_empty":
            ctx.check_band_empty(row.grid_id)
        elif code == "kept":
            # without the keep input the claim cannot be checked here
            assert keep is None or row.grid_id in set(keep["grid_id"]), row.grid_id
        elif code in counts:
            counts[code] += 1
        else:
            raise AssertionError(f"unknown reason {row.reason!r}")
    if keep is not None:
        _check_kept(grids, keep.to_crs(crs), pts)
    if not allow_search_failed:
        assert counts["search_failed"] == 0, counts
    return counts


def _check_kept(grids: gpd.GeoDataFrame, keep: gpd.GeoDataFrame, pts: np.ndarray) -> None:
    """Every kept grid is in the output with its grid_id and its ground: it loses at most 1e-6
    of its area or a 0.1 mm strip along its boundary, and may only gain ground without
    households (empty slivers next to it)."""
    out = grids.set_index("grid_id").geometry
    for gid, poly in zip(keep["grid_id"], keep.geometry.values):
        assert gid in out.index, gid
        lost = shapely.area(shapely.difference(poly, out[gid]))
        # the linework is snap-rounded to 0.1 mm (gridplan.grids.cells._GRID_SIZE): a kept
        # boundary read back from a file may move by that, a strip of perimeter x 0.1 mm
        assert lost <= max(REL_TOL * poly.area, 1e-4 * poly.length), (gid, lost, poly.area, poly.length)
        gained = shapely.difference(out[gid], poly)
        assert not shapely.contains_properly(gained, pts).any(), gid


def _whole_grids_possible(total: int, lo: int, hi: int) -> bool:
    return any(k * lo <= total <= k * hi for k in range(1, total // lo + 1))


class _Context:
    """Units, barrier zones and grid adjacency of a result, for the reasons that need them."""

    def __init__(self, grids, units, comm_m, barriers, crs, lo, hi) -> None:
        self.lo, self.hi = lo, hi
        self.units = units.reset_index(drop=True)
        self.gh = grids.set_index("grid_id")["households"].astype(int).to_dict()
        # grids the planner cannot join to others: towers above the maximum and kept grids
        self.fixed = {
            g
            for g, r in zip(grids["grid_id"], grids["reason"])
            if isinstance(r, str) and r.split(":")[0] in ("unit_over_max", "kept")
        }
        self.lines = None if barriers is None or not len(barriers) else barriers.to_crs(crs)
        self.comm_m = comm_m
        self._zone = None
        self._pairs = None

    def _prepare(self) -> None:
        if self._pairs is not None:
            return
        geoms = np.asarray(self.units.geometry.values)
        self._pairs = unit_pairs(geoms)
        zone = np.zeros(len(geoms), dtype=np.int64)
        if self.lines is not None:
            # barrier zones: the community cut by the barrier lines; a unit lies in the face
            # holding most of its area
            for cid, idx in self.units.groupby("community_id").indices.items():
                poly = self.comm_m.geometry[cid]
                cut = shapely.union_all([shapely.boundary(poly), *self.lines.geometry.values])
                faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(cut)))
                faces = faces[shapely.area(shapely.intersection(faces, poly)) > 1e-6 * poly.area]
                if not len(faces):
                    continue
                ov = shapely.area(shapely.intersection(geoms[idx][:, None], faces[None]))
                zone[idx] = ov.argmax(1)
        self._zone = zone

    def check_cut_off(self, gid) -> None:
        """A grid below the minimum has no neighbour grid in its barrier zone that it could
        join and stay within the maximum."""
        self._prepare()
        gid_of = self.units["grid_id"].to_numpy()
        comm = self.units["community_id"].to_numpy()
        i, j = self._pairs
        for a, b in ((i, j), (j, i)):
            m = (gid_of[a] == gid) & (gid_of[b] != gid) & (comm[a] == comm[b])
            m &= self._zone[a] == self._zone[b]
            for other in set(gid_of[b[m]]) - self.fixed:
                assert self.gh[gid] + self.gh[other] > self.hi, (gid, other, self.gh[gid], self.gh[other])

    def check_band_empty(self, gid) -> None:
        """Some connected part around the grid, made of whole barrier zones and whole grids
        (towers and kept grids aside), has a total that no number of whole grids fits."""
        self._prepare()
        gid_of = self.units["grid_id"].to_numpy()
        comm = self.units["community_id"].to_numpy()
        cid = comm[gid_of == gid][0]
        free = np.flatnonzero((comm == cid) & ~np.isin(gid_of, list(self.fixed)))
        i, j = self._pairs
        keep_pair = np.isin(i, free) & np.isin(j, free)
        i, j = i[keep_pair], j[keep_pair]
        # atoms: units joined when in the same zone, or in the same grid
        atoms = nx.Graph()
        atoms.add_nodes_from(free.tolist())
        same = self._zone[i] == self._zone[j]
        atoms.add_edges_from(zip(i[same], j[same]))
        for _, idx in pd_groups(gid_of[free]):
            atoms.add_edges_from(zip(free[idx[:-1]], free[idx[1:]]))
        atom_of = {u: k for k, comp in enumerate(nx.connected_components(atoms)) for u in comp}
        weight: dict = {}
        for g in set(gid_of[free]):
            a = atom_of[int(np.flatnonzero(gid_of == g)[0])]
            weight[a] = weight.get(a, 0) + self.gh[g]
        graph = nx.Graph()
        graph.add_nodes_from(weight)
        graph.add_edges_from(
            (atom_of[int(a)], atom_of[int(b)]) for a, b in zip(i, j) if atom_of[int(a)] != atom_of[int(b)]
        )
        start = atom_of[int(np.flatnonzero(gid_of == gid)[0])]
        totals = _connected_totals(graph, weight, start)
        assert any(t >= self.lo and not _whole_grids_possible(t, self.lo, self.hi) for t in totals), (
            gid,
            sorted(totals),
        )


def pd_groups(values: np.ndarray):
    """(value, positions) of every distinct value."""
    order = np.argsort(values, kind="stable")
    vals, first = np.unique(values[order], return_index=True)
    return zip(vals, np.split(order, first[1:]))


def _connected_totals(graph: nx.Graph, weight: dict, start, limit: int = 20_000) -> set[int]:
    """Totals of the connected sets of atoms that contain ``start`` (at most ``limit`` sets)."""
    seen = {frozenset([start])}
    stack = [frozenset([start])]
    while stack and len(seen) < limit:
        s = stack.pop()
        for nb in set().union(*(graph[a] for a in s)) - s:
            t = s | {nb}
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return {sum(weight[a] for a in s) for s in seen}


def check_conserved_and_tiled(res, layers: dict):
    """Every household row in one grid with the households' total, each grid's households the
    sum of its rows (a tower split by entrance: its parts), one Polygon per grid, and the grids
    tiling each community without overlap or gap. Returns the grids in the metric CRS."""
    comm = layers["communities"]
    crs = metric_crs(comm)
    grids = res.grids.to_crs(crs)
    assert res.assignment["grid_id"].notna().all()
    assert int(grids["households"].sum()) == int(layers["households"]["households"].sum())
    planned = res.assignment if res.parts is None else res.parts
    per = planned.groupby("grid_id")["households"].sum()
    assert (per.reindex(grids["grid_id"]).to_numpy() == grids["households"].to_numpy()).all()
    assert (grids.geom_type == "Polygon").all()
    cm = comm.to_crs(crs).set_index("community_id")
    for cid, g in grids.groupby("community_id"):
        area = shapely.area(g.geometry.values).sum()
        union = shapely.union_all(g.geometry.values)
        target = shapely.make_valid(cm.geometry[cid])
        assert abs(union.area - area) < 1e-6 * area + 1.0  # no overlap
        assert abs(union.area - target.area) < 1e-6 * target.area + 1.0  # no gap
    return grids
