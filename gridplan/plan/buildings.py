"""Moving one building (楼栋) to a neighbouring grid: the building is cut out of its estate part
as a unit of its own, which then moves by the rule of :meth:`~gridplan.plan.model.Plan.move_unit`.

A building's households are the household rows with its ``building_id`` (or, when the household
table has no such column, the rows whose point lies in its footprint in the plan's ``buildings``
context). Its ground is the part of the estate part's cell nearer to it than to the part's other
buildings: the cell is cut by a Voronoi diagram of the footprint outlines (densified as the
partition's tessellation, :data:`gridplan.geometry.featurecells.TESSELLATION_SEGMENT_M`) and of
the household points, so that the building's new cell and the rest of the old cell are the old
cell exactly, without overlap. A building that is its unit's only one moves with its unit.

:class:`PlanBuildings` is mixed into :class:`~gridplan.plan.model.Plan`; the edit itself is
:meth:`~gridplan.plan.model.Plan.move_building`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.geometry.adjacency import SNAP_M
from gridplan.geometry.featurecells import TESSELLATION_SEGMENT_M
from gridplan.grids.cells import SLIVER_M2, union
from gridplan.plan.common import plain
from gridplan.plan.edits import Change, EditPreview
from gridplan.plan.units import UnitTables

__all__ = ["BuildingCut", "PlanBuildings", "cut_cell", "fitted", "shared_edges"]

#: A vertex of a cut this near a neighbour's edge (m) lies on it (floating-point error only).
_ON_EDGE_M = 1e-6


@dataclass(frozen=True)
class BuildingCut:
    """A building as the unit it would move as.

    Attributes
    ----------
    building_id
        The building.
    unit_id
        The unit it moves as: a new one cut out of its estate part, or its own unit when it is
        that unit's only building.
    position : int
        Row of that unit in :attr:`tables` (the last row for a new unit).
    source : int
        Row of the building's unit now.
    tables : UnitTables or None
        The plan's unit tables with the building cut out (None: the units stay as they are).
    """

    building_id: object
    unit_id: object
    position: int
    source: int
    tables: UnitTables | None


class PlanBuildings:
    """Buildings of a :class:`~gridplan.plan.model.Plan`: their households, units and moves."""

    # set to None by Plan.__init__, made on first use
    _hh_xy: np.ndarray | None
    _fp_memo: tuple | None
    _building_memo: tuple | None

    def preview_move_building(self, building_id, to_grid: str) -> EditPreview:
        """The households the two grids would have after
        :meth:`~gridplan.plan.model.Plan.move_building`.

        Parameters
        ----------
        building_id
            A value of the households' (or the ``buildings`` context's) ``building_id``.
        to_grid : str

        Returns
        -------
        EditPreview

        Raises
        ------
        InputError
            When ``move_building`` would refuse the move (the same checks, the same message).
        """
        return self._preview(self._building_change(building_id, to_grid))

    def building_targets(self, building_id) -> dict[str, EditPreview]:
        """The grids ``move_building(building_id, grid)`` accepts, each with what the move would
        leave (as :meth:`~gridplan.plan.edits.PlanEdits.move_targets` for a unit).

        Parameters
        ----------
        building_id

        Returns
        -------
        dict
            Target grid id -> :class:`~gridplan.plan.edits.EditPreview`, in grid code order;
            empty when no move of the building is accepted.

        Raises
        ------
        InputError
            An unknown building, or one that cannot be cut out of its estate part.
        """
        cut = self._building_cut(building_id)
        tables = cut.tables or self._tables
        touching = self._touching(cut.position, tables, self._unit_grid_with(cut))
        return self._accepted(touching, lambda g: self._building_change(building_id, g))

    def unit_buildings(self, unit_id) -> list:
        """The buildings whose households are in unit ``unit_id``, sorted as text.

        Parameters
        ----------
        unit_id
            A value of ``units.unit_id``.

        Returns
        -------
        list
            Building ids (empty when the households have no building ids and the plan no
            footprints).
        """
        rows = np.flatnonzero(self._tables.household_unit == self._unit(unit_id))
        ids = self._household_buildings()
        if ids is None:
            return []
        return sorted({plain(b) for b in ids[rows] if b is not None}, key=str)

    def building_at(self, lon: float, lat: float, unit_id=None):
        """The building at a WGS-84 point: the footprint that contains it, else the building of
        the nearest household (of unit ``unit_id`` when given); None when there is none."""
        ids = self._household_buildings()
        if ids is None:
            return None
        pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(self.crs).iloc[0]
        fp = self._footprints()
        if fp is not None and "building_id" in fp:
            hit = fp.sindex.query(pt, predicate="intersects")
            if len(hit):
                found = plain(fp["building_id"].iloc[int(np.min(hit))])
                if unit_id is None or found in self.unit_buildings(unit_id):
                    return found
        rows = np.flatnonzero(pd.notna(ids))
        if unit_id is not None:
            rows = rows[self._tables.household_unit[rows] == self._unit(unit_id)]
        if not len(rows):
            return None
        xy = self._household_xy()[rows]
        near = int(np.argmin(np.hypot(xy[:, 0] - pt.x, xy[:, 1] - pt.y)))
        return plain(ids[rows[near]])

    # ------------------------------------------------------------------ the edit's rule
    def _building_change(self, building_id, to_grid: str) -> Change:
        """Cut a building out of its estate part and move it (see :meth:`~Plan.move_building`)."""
        self._check_grid(to_grid)
        cut = self._building_cut(building_id)
        ug = self._unit_grid_with(cut)
        src = str(ug[cut.position])
        new = self._move_rule(cut.unit_id, cut.position, to_grid, cut.tables or self._tables, ug)
        action = {
            "op": "move_building",
            "building": plain(building_id),
            "unit": plain(cut.unit_id),
            "from": src,
            "to": to_grid,
        }
        label = f"move building {building_id} {src}->{to_grid}"
        return Change(label, new, self._ordered(src, to_grid), action, cut.tables)

    def _unit_grid_with(self, cut: BuildingCut) -> np.ndarray:
        """The grid of every unit of ``cut``'s tables: a new unit starts in its old unit's grid."""
        ug = self._state.unit_grid
        if cut.tables is None:
            return ug
        return np.append(ug, ug[cut.source])

    def _building_cut(self, building_id) -> BuildingCut:
        """The unit ``building_id`` moves as (worked out once per building and unit tables)."""
        memo = self._building_memo
        if memo is not None and memo[0] is self._tables and memo[1] == str(building_id):
            return memo[2]
        rows = self._building_rows(building_id)
        t = self._tables
        units = np.unique(t.household_unit[rows])
        if len(units) > 1 or units[0] < 0:
            where = ", ".join(
                str(t.units["unit_id"].iloc[u]) if u >= 0 else "outside every community" for u in units
            )
            raise InputError(
                f"building {building_id} lies in {len(units)} places ({where}); it cannot move as one",
                fix="move those estate parts as units (move_unit), or correct the building's households",
                message_zh=f"楼栋 {building_id} 的住户分属 {len(units)} 个单元，无法整体移动",
                fix_zh="请改为移动这些单元，或更正该楼栋的住户数据",
            )
        pos = int(units[0])
        in_unit = np.flatnonzero(t.household_unit == pos)
        if len(in_unit) == len(rows):  # its unit's only building: it moves with its unit
            cut = BuildingCut(building_id, plain(t.units["unit_id"].iloc[pos]), pos, pos, None)
        else:
            cut = self._cut_out(building_id, pos, rows, in_unit)
        self._building_memo = (t, str(building_id), cut)
        return cut

    def _cut_out(self, building_id, pos: int, rows: np.ndarray, in_unit: np.ndarray) -> BuildingCut:
        """The unit tables with ``building_id`` cut out of the unit at ``pos`` as a new last unit."""
        t = self._tables
        old_id = t.units["unit_id"].iloc[pos]
        cell, near = fitted(t.units.geometry.values, pos)
        mine = np.isin(in_unit, rows)
        xy = self._household_xy()[in_unit]
        outlines, labels = self._outlines(cell, building_id)
        try:
            new_cell, rest_cell = cut_cell(cell, np.r_[xy, outlines], np.r_[mine, labels])
        except ValueError as exc:
            raise InputError(
                f"building {building_id} cannot be cut out of unit {old_id}: {exc}",
                fix="move a building on the edge of the estate part, or the whole part (move_unit)",
                message_zh=f"楼栋 {building_id} 无法从单元 {old_id} 中单独划出（会使其断开）",
                fix_zh="请移动该小区片区边缘的楼栋，或整体移动该单元",
            ) from exc
        new_id = _new_unit_id(t.units["unit_id"], t.community[pos], building_id)
        units = t.units.copy()
        units[units.geometry.name] = shared_edges(t.units.geometry.values, pos, near, rest_cell, new_cell)
        extra = units.iloc[[pos]].copy()
        extra["unit_id"] = new_id
        extra = extra.set_geometry(np.array([new_cell], dtype=object), crs=units.crs)
        units = gpd.GeoDataFrame(pd.concat([units, extra], ignore_index=True), geometry=units.geometry.name)
        hh_unit = t.household_unit.copy()
        hh_unit[rows] = len(t.units)
        tables = UnitTables.build(units, hh_unit, self._hh_weight, self._barrier_lines[0])
        return BuildingCut(building_id, plain(new_id), len(t.units), pos, tables)

    # ------------------------------------------------------------------ look-ups
    def _building_rows(self, building_id) -> np.ndarray:
        """Household rows of a building, by ``building_id`` or else by its footprint."""
        ids = self._household_buildings()
        key = str(building_id)
        rows = np.empty(0, dtype=np.int64)
        if ids is not None:
            rows = np.flatnonzero(
                pd.notna(ids) & (pd.Series(ids, dtype=object).astype(str).to_numpy() == key)
            )
        fp = self._footprints()
        known = fp is not None and "building_id" in fp and (fp["building_id"].astype(str) == key).any()
        if len(rows):
            return rows
        if known and ids is None:
            shape = shapely.union_all(fp.geometry.values[(fp["building_id"].astype(str) == key).to_numpy()])
            xy = self._household_xy()
            rows = np.flatnonzero(shapely.contains_xy(shape, xy[:, 0], xy[:, 1]))
            if len(rows):
                return rows
        if known:
            raise InputError(
                f"building {building_id} has no households; there is nothing to move",
                fix="choose a building with households (plan.unit_buildings(unit_id))",
                message_zh=f"楼栋 {building_id} 没有住户，无需移动",
                fix_zh="请选择有住户的楼栋",
            )
        raise InputError(
            f"unknown building {building_id}",
            column="building_id",
            fix="choose a building id of the households' building_id column "
            "(plan.unit_buildings(unit_id) lists those of a unit), or click the building on the map",
            message_zh=f"没有楼栋 {building_id}",
            fix_zh="请从所选单元的楼栋列表中选择，或在地图上点击楼栋",
        )

    def _household_buildings(self) -> np.ndarray | None:
        """Per household row its building id (None where it has none); None when the plan
        knows no buildings (no ``building_id`` column and no footprints with ids)."""
        hh = self._households
        if "building_id" in hh:
            col = hh["building_id"]
            return np.where(col.notna().to_numpy(), col.to_numpy(dtype=object), None)
        fp = self._footprints()
        if fp is None or "building_id" not in fp:
            return None
        xy = self._household_xy()
        pi, fi = shapely.STRtree(fp.geometry.values).query(shapely.points(xy), predicate="within")
        out = np.full(len(hh), None, dtype=object)
        first = np.unique(pi, return_index=True)[1]
        out[pi[first]] = fp["building_id"].to_numpy(dtype=object)[fi[first]]
        return out

    def _household_xy(self) -> np.ndarray:
        """Household points in the plan's metric CRS (made once per plan)."""
        if self._hh_xy is None:
            self._hh_xy = shapely.get_coordinates(self._households.geometry.to_crs(self.crs).values)
        return self._hh_xy

    def _footprints(self) -> gpd.GeoDataFrame | None:
        """The ``buildings`` context in the plan's metric CRS, polygons only (None without)."""
        src = self.context.get("buildings")
        if src is None or not len(src):
            return None
        memo = self._fp_memo
        if memo is None or memo[0] is not src:
            fp = src.to_crs(self.crs)
            fp = fp[np.isin(shapely.get_type_id(fp.geometry.values), [3, 6])].reset_index(drop=True)
            memo = self._fp_memo = (src, fp)
        return memo[1]

    def _outlines(self, cell, building_id) -> tuple[np.ndarray, np.ndarray]:
        """Densified footprint outlines inside ``cell`` and whether each point is the
        building's own (empty without footprints)."""
        fp = self._footprints()
        if fp is None:
            return np.empty((0, 2)), np.empty(0, dtype=bool)
        hit = fp.sindex.query(cell, predicate="intersects")
        if not len(hit):
            return np.empty((0, 2)), np.empty(0, dtype=bool)
        lines = shapely.intersection(shapely.boundary(fp.geometry.values[hit]), cell)
        dense = shapely.segmentize(lines, TESSELLATION_SEGMENT_M)
        xy, idx = shapely.get_coordinates(dense, return_index=True)
        own = (
            (fp["building_id"].astype(str).to_numpy()[hit] == str(building_id))
            if "building_id" in fp
            else np.zeros(len(hit), dtype=bool)
        )
        return xy, own[idx]


def cut_cell(cell, xy: np.ndarray, mine: np.ndarray) -> tuple:
    """Cut ``cell`` in two: the ground nearer to the points ``mine`` than to the others.

    Parameters
    ----------
    cell : Polygon
        A unit cell (metric).
    xy : ndarray (n, 2)
        Generator points: household locations and densified footprint outlines.
    mine : ndarray of bool
        The points of the building cut out.

    Returns
    -------
    (Polygon, Polygon)
        The building's part and the rest; together exactly ``cell``, without overlap.

    Raises
    ------
    ValueError
        Either part would be empty or in pieces (two or more parts of at least
        :data:`gridplan.grids.cells.SLIVER_M2`).
    """
    xy = np.asarray(xy, dtype=float)
    mine = np.asarray(mine, dtype=bool)
    # one generator per location (qhull rejects coincident points); the building's own wins a
    # shared wall, so that its outline is never given to its neighbour
    order = np.argsort(~mine, kind="stable")
    _, first = np.unique(np.round(xy[order], 2), axis=0, return_index=True)
    keep = order[np.sort(first)]
    xy, mine = xy[keep], mine[keep]
    if not mine.any() or mine.all():
        raise ValueError("the building shares all its ground with the other buildings")
    raw = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=cell, ordered=True))
    region = shapely.union_all(raw[mine])
    # one noding of the outline and the cut, as the partition's pieces (gridplan.grids.cells):
    # the faces keep every vertex of the outline and share every vertex of the cut, so that the
    # two parts fit each other and their neighbours exactly. The cut is not clipped first: its
    # clipped ends would stop a hair short of the outline and polygonize would drop them.
    lines = shapely.get_parts(shapely.union_all([shapely.boundary(cell), shapely.boundary(region)]))
    faces = shapely.get_parts(shapely.polygonize(lines))
    spot = shapely.point_on_surface(faces)
    faces, spot = faces[shapely.within(spot, cell)], spot[shapely.within(spot, cell)]
    own = shapely.intersects(region, spot)
    # the building keeps the piece of its ground that holds it (its Voronoi region can reach
    # round a bend of a street-drawn cell into a second, larger piece that holds none of it);
    # every other piece, and the slivers the rest leaves apart from its largest piece, go to
    # the other side
    own &= shapely.within(spot, _holding(union(faces[own]), xy[mine]))
    _check_one_piece(union(faces[~own]), "the rest of the estate part")
    own |= ~shapely.within(spot, _largest(union(faces[~own])))
    parts = (union(faces[own]), union(faces[~own]))
    _check_one_piece(parts[0], "the building's ground")
    return parts


def _check_one_piece(geom, what: str) -> None:
    n = int((shapely.area(shapely.get_parts(geom)) >= SLIVER_M2).sum())
    if n != 1:
        raise ValueError(f"{what} would be in {n} pieces")


def fitted(cells: np.ndarray, pos: int) -> tuple[object, np.ndarray]:
    """The cell at ``pos`` snapped to its neighbours' vertices within ``SNAP_M``, and the rows of
    those neighbours.

    Cells read back from files share their edges only to within millimetres (the WGS-84 round
    trip, :data:`gridplan.geometry.adjacency.SNAP_M`); a unit moved whole keeps its contact with
    its neighbours along the edges they share exactly, but a part of it may touch a neighbour
    only along a drifted stretch. Snapped first, the parts of the cut share their edges with the
    neighbours exactly.

    Parameters
    ----------
    cells : array of Polygon
        Unit cells (metric).
    pos : int

    Returns
    -------
    (Polygon, ndarray of int)
    """
    cell = cells[pos]
    near = shapely.STRtree(cells).query(cell, predicate="dwithin", distance=SNAP_M)
    near = near[near != pos]
    if not len(near):
        return cell, near
    snapped = shapely.snap(cell, shapely.multipoints(shapely.get_coordinates(cells[near])), SNAP_M)
    return (snapped if shapely.is_valid(snapped) else cell), near


def shared_edges(cells: np.ndarray, pos: int, near: np.ndarray, rest, own) -> np.ndarray:
    """``cells`` with the cell at ``pos`` replaced by ``rest``, and the vertices of the cut that
    lie on a neighbour's edge added to that edge.

    Where the cut meets the outline, its end lies a hair (1e-10 m) off the edge it splits: the
    new cells and the neighbour would share that edge only up to a gap, and a grid made of them
    would come apart in the union. The end is inserted into the neighbour's edge.

    Parameters
    ----------
    cells : array of Polygon
        Unit cells (metric).
    pos : int
        The cell cut in two.
    near : array of int
        Its neighbours (:func:`fitted`).
    rest, own : Polygon
        The two parts (:func:`cut_cell`).

    Returns
    -------
    ndarray of Polygon
        The cells, same order (``own`` is not among them).
    """
    out = np.array(cells, dtype=object, copy=True)
    out[pos] = rest
    xy = np.unique(np.r_[shapely.get_coordinates(own), shapely.get_coordinates(rest)], axis=0)
    ends = shapely.points(xy)
    for c in near:
        close = ends[shapely.dwithin(out[c], ends, _ON_EDGE_M)]
        if len(close):
            sealed = shapely.snap(out[c], shapely.multipoints(close), _ON_EDGE_M)
            out[c] = sealed if shapely.is_valid(sealed) else out[c]
    return out


def _holding(geom, xy: np.ndarray):
    """The polygon of ``geom`` that holds the most of the points ``xy`` (on its outline
    included), the largest of those tied."""
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), [3])]
    if not len(parts):
        return shapely.Polygon()
    held = [int(shapely.intersects_xy(p, xy[:, 0], xy[:, 1]).sum()) for p in parts]
    return parts[max(range(len(parts)), key=lambda i: (held[i], shapely.area(parts[i])))]


def _largest(geom):
    """The largest polygon of ``geom`` (an empty polygon when it has none)."""
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), [3])]
    if not len(parts):
        return shapely.Polygon()
    return parts[int(np.argmax(shapely.area(parts)))]


def _new_unit_id(unit_ids: pd.Series, community: str, building_id):
    """An id for a building cut out as a unit: ``<community>/B:<building>`` as the partition
    names building units (:func:`gridplan.grids.units.unit_keys`), or the next integer for a
    plan with integer unit ids; never one already used."""
    used = set(unit_ids.tolist())
    if pd.api.types.is_integer_dtype(unit_ids):
        return int(max(used, default=-1)) + 1
    base = f"{community}/B:{building_id}"
    k = 1
    new = base
    while new in used:
        k += 1
        new = f"{base}#{k}"
    return new
