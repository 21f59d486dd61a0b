"""One network (一张网): compare departmental grid layers with ours and propose one layer.

Departments keep their own grids (综治 public security, 城管 city management, health, emergency).
:func:`reconcile` puts every household in one grid of every layer, then

1. for each pair of layers, counts the households in every intersection (grid ``a`` of one layer x
   grid ``b`` of the other): the overlap matrix;
2. calls a grid *aligned* with another layer when at least ``aligned_share`` (95 %) of its
   households fall in one grid of that layer, and otherwise lists how it is split;
3. proposes a unified layer: our grids, with partition units moved to the grid that a majority of
   the departments put them in, when the move keeps both grids in the household band (or brings
   an out-of-band grid closer to it), both contiguous, and inside one community. Every change is
   listed (unit, from, to, households, reason); majority moves that were refused are listed with
   the reason too.

How a department "puts a unit in one of our grids": each department grid is identified with our
grid that shares most households with it; a unit votes, for each department, for the grid
identified with the department grid that holds most of the unit's households. A unit moves when
more than half of the department layers vote for the same grid and that grid is not its own.

Units are the partition's atomic units (``PartitionResult.units``); without them, units are the
buildings (``building_id``) or household points of each grid, with Voronoi cells clipped to the
grid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components

from gridplan.geometry.adjacency import SNAP_M, unit_adjacency, voronoi_cells
from gridplan.grids.figures import FIGURE_COLUMNS, grid_figures
from gridplan.grids.reasons import Reason
from gridplan.report.codes import grid_codes
from gridplan.errors import InputError
from gridplan.io.projection import local_crs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

__all__ = ["ALIGNED_SHARE", "OURS", "OUTSIDE", "ReconcileResult", "reconcile", "write_reconcile"]

#: A grid is aligned with another layer when this share of its households is in one of its grids.
ALIGNED_SHARE = 0.95
#: Name of our layer in the tables.
OURS = "ours"
#: Grid label of households that fall in no grid of a layer.
OUTSIDE = "(outside)"
_ID_CANDIDATES = ("grid_id", "grid_code", "code", "id", "name")


@dataclass
class ReconcileResult:
    """What :func:`reconcile` found and proposes.

    Attributes
    ----------
    membership : DataFrame
        One row per household row (input order): ``households`` and the grid of every layer.
    overlaps : DataFrame
        ``layer_a``, ``grid_a``, ``layer_b``, ``grid_b``, ``households`` for every pair of layers
        (``layer_a`` before ``layer_b`` in layer order) and every non-empty intersection.
    alignment : DataFrame
        Per layer, grid and other layer: ``households``, ``best_match``, ``best_households``,
        ``share``, ``aligned`` and ``split`` (the other layer's grids with their households).
    unified : GeoDataFrame
        Our grids after the proposed changes (EPSG:4326), with ``grid_code`` and ``changed``.
    changes : DataFrame
        ``unit_id``, ``community_id``, ``from_grid``, ``to_grid``, ``households``, ``votes``,
        ``reason``, ``reason_zh``.
    rejected : DataFrame
        Majority moves not made, with the same columns and why in ``reason``.
    report : dict
        JSON-serialisable summary.
    """

    membership: pd.DataFrame
    overlaps: pd.DataFrame
    alignment: pd.DataFrame
    unified: gpd.GeoDataFrame
    changes: pd.DataFrame
    rejected: pd.DataFrame
    report: dict = field(default_factory=dict)

    def matrix(self, layer_a: str, layer_b: str) -> pd.DataFrame:
        """The overlap matrix of two layers: grids of ``layer_a`` x grids of ``layer_b``."""
        o = self.overlaps
        fwd = o[(o["layer_a"] == layer_a) & (o["layer_b"] == layer_b)]
        if len(fwd):
            return fwd.pivot_table(index="grid_a", columns="grid_b", values="households",
                                   aggfunc="sum", fill_value=0)
        rev = o[(o["layer_a"] == layer_b) & (o["layer_b"] == layer_a)]
        if not len(rev):
            raise KeyError(f"no overlaps between {layer_a!r} and {layer_b!r}")
        return rev.pivot_table(index="grid_b", columns="grid_a", values="households",
                               aggfunc="sum", fill_value=0).rename_axis(
            index="grid_a", columns="grid_b")

    def disagreements(self, layer: str, other: str) -> pd.DataFrame:
        """Grids of ``layer`` not aligned with ``other``."""
        a = self.alignment
        return a[(a["layer"] == layer) & (a["other_layer"] == other) & ~a["aligned"]]


def reconcile(
    grids: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    units: gpd.GeoDataFrame | None = None,
    id_columns: Mapping[str, str] | None = None,
    aligned_share: float = ALIGNED_SHARE,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
) -> ReconcileResult:
    """Compare departmental grid layers with ours and propose one unified layer (一张网).

    Parameters
    ----------
    grids : GeoDataFrame
        Our grids (``grid_id``, ``community_id``, polygons).
    households : GeoDataFrame
        Household points; ``households`` weights (1 per row when absent); ``grid_id`` (our grid)
        is used when present, else households are placed by location.
    layers : mapping of str to GeoDataFrame
        Department name (e.g. ``"综治"``) -> its grid polygons.
    units : GeoDataFrame, optional
        Partition units (``unit_id``, ``grid_id``, cell polygons) to move between grids; derived
        from buildings or household points when absent.
    id_columns : mapping of str to str, optional
        Department name -> the column naming its grids (default: the first of ``grid_id``,
        ``grid_code``, ``code``, ``id``, ``name``; else the row number).
    aligned_share : float
        See :data:`ALIGNED_SHARE`.
    min_households, max_households : int
        The band the unified grids must stay in.

    Returns
    -------
    ReconcileResult
    """
    _check(grids, households, layers)
    crs = local_crs(grids)
    ours = grids.to_crs(crs).reset_index(drop=True)
    hh = households.to_crs(crs).reset_index(drop=True)
    weight = (hh["households"].fillna(1).to_numpy(dtype=np.int64) if "households" in hh
              else np.ones(len(hh), dtype=np.int64))
    pts = hh.geometry.to_numpy()

    member = pd.DataFrame({"households": weight})
    if "grid_id" in hh.columns and hh["grid_id"].isin(ours["grid_id"]).all():
        member[OURS] = hh["grid_id"].astype("str").to_numpy()
    else:
        member[OURS] = _locate(pts, ours.geometry.to_numpy(), ours["grid_id"].to_numpy())
    dept_polys: dict[str, gpd.GeoDataFrame] = {}
    for name, layer in layers.items():
        d = _department(name, layer, crs, (id_columns or {}).get(name))
        dept_polys[name] = d
        member[name] = _locate(pts, d.geometry.to_numpy(), d["grid"].to_numpy())
    names = [OURS, *layers]

    overlaps = _overlaps(member, names)
    alignment = _alignment(member, names, aligned_share)

    unit_gdf, unit_of = _units(units, ours, hh, pts, crs)
    changes, rejected, unit_grid = _propose(
        member, names[1:], unit_gdf, unit_of, ours, weight, min_households, max_households)
    unified = _unified(ours, unit_gdf, unit_grid, unit_of, changes, member, hh, weight,
                       min_households, max_households)

    report = {
        "layers": names,
        "households": int(weight.sum()),
        "household_rows": int(len(hh)),
        "aligned_share": aligned_share,
        "pairs": [
            {"layer": a, "other_layer": b,
             "grids": int(((alignment["layer"] == a) & (alignment["other_layer"] == b)).sum()),
             "disagreeing": int(((alignment["layer"] == a) & (alignment["other_layer"] == b)
                                 & ~alignment["aligned"]).sum()),
             "households_outside_other": int(member.loc[member[b] == OUTSIDE, "households"].sum())}
            for a in names for b in names if a != b
        ],
        "changes": int(len(changes)),
        "households_moved": int(changes["households"].sum()) if len(changes) else 0,
        "rejected": int(len(rejected)),
        "unified_status": ({k: int(v) for k, v in unified["status"].value_counts().sort_index()
                            .items()} if "status" in unified.columns else {}),
        "units": int(len(unit_gdf)),
        "units_derived": units is None,
    }
    return ReconcileResult(member, overlaps, alignment, unified, changes, rejected, report)


# --- inputs ----------------------------------------------------------------------------------

def _check(grids, households, layers) -> None:
    for col in ("grid_id", "community_id"):
        if col not in grids.columns:
            raise InputError(f"our grids lack column '{col}'", column=col,
                             fix="give the grids written by gridplan partition",
                             message_zh=f"网格图层缺少列 '{col}'")
    if grids["grid_id"].duplicated().any():
        raise InputError("our grids repeat a grid_id", column="grid_id",
                         rows=grids.index[grids["grid_id"].duplicated()].tolist(),
                         fix="give the grids written by gridplan partition",
                         message_zh="网格编号重复")
    if len(households) == 0 or not (households.geometry.geom_type == "Point").all():
        raise InputError("households must be points", file="households",
                         fix="give household points (one per household or per building)",
                         message_zh="住户数据应为点")
    if not layers:
        raise InputError("no departmental layers to reconcile",
                         fix="give at least one --layer NAME=FILE", message_zh="没有部门网格图层")
    for name, layer in layers.items():
        if name == OURS:
            raise InputError(f"'{OURS}' is the name of our own layer",
                             fix="name the department differently", message_zh="图层名称冲突")
        if layer.crs is None:
            raise InputError("the layer has no CRS", file=name, fix="read it with gridplan.io.files",
                             message_zh="图层没有坐标系")
        if not layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            raise InputError("a departmental grid layer must be polygons", file=name,
                             message_zh="部门网格图层应为面")


def _department(name: str, layer: gpd.GeoDataFrame, crs, id_column: str | None
                ) -> gpd.GeoDataFrame:
    d = layer.to_crs(crs).reset_index(drop=True)
    if id_column is None:
        id_column = next((c for c in _ID_CANDIDATES if c in d.columns), None)
    elif id_column not in d.columns:
        raise InputError(f"the layer has no column '{id_column}'", file=name, column=id_column,
                         fix="name the column that identifies its grids",
                         message_zh=f"图层中没有列 '{id_column}'")
    if id_column is None:
        ids = pd.Series([f"{name}-{i + 1:03d}" for i in range(len(d))])
    else:
        ids = d[id_column].astype("str")
        if ids.isna().any():
            raise InputError("grids without an id", file=name, column=id_column,
                             rows=d.index[ids.isna()].tolist(), fix="give every grid an id",
                             message_zh="存在没有编号的网格")
    d = gpd.GeoDataFrame({"grid": ids.to_numpy()}, geometry=d.geometry.to_numpy(), crs=crs)
    if d["grid"].duplicated().any():
        # One grid stored as several rows (parts): one polygon per grid.
        d = d.dissolve(by="grid", sort=True).reset_index()
    return d


def _locate(points: np.ndarray, polys: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label of the polygon holding each point; :data:`OUTSIDE` for none."""
    pos = _locate_pos(points, polys)
    out = np.full(len(points), OUTSIDE, dtype=object)
    out[pos >= 0] = np.asarray(labels, dtype=object)[pos[pos >= 0]]
    return out


def _locate_pos(points: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Position of the polygon holding each point, -1 for none.

    A point on a shared edge goes to the first polygon in layer order, deterministically.
    """
    pi, gi = shapely.STRtree(polys).query(points, predicate="intersects")
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
    out = np.full(len(points), -1, dtype=np.int64)
    out[pi[first]] = gi[first]
    return out


# --- tables ----------------------------------------------------------------------------------

def _overlaps(member: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    parts = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            t = (member.groupby([a, b], sort=True)["households"].sum().reset_index()
                 .rename(columns={a: "grid_a", b: "grid_b"}))
            t.insert(0, "layer_a", a)
            t.insert(2, "layer_b", b)
            parts.append(t[["layer_a", "grid_a", "layer_b", "grid_b", "households"]])
    out = pd.concat(parts, ignore_index=True)
    for c in ("layer_a", "grid_a", "layer_b", "grid_b"):
        out[c] = out[c].astype("str")
    out["households"] = out["households"].astype("int64")
    return out


def _alignment(member: pd.DataFrame, names: list[str], share: float) -> pd.DataFrame:
    parts = []
    for a in names:
        for b in names:
            if a == b:
                continue
            t = (member[member[a] != OUTSIDE].groupby([a, b], sort=True)["households"].sum()
                 .reset_index().rename(columns={a: "grid", b: "other"}))
            # Per grid: its pieces in the other layer, biggest first (ties by name).
            t = t.sort_values(["grid", "households", "other"], ascending=[True, False, True],
                              kind="stable")
            total = t.groupby("grid", sort=True)["households"].sum()
            inside = t[t["other"] != OUTSIDE].drop_duplicates("grid").set_index("grid")
            piece = t["other"].astype(str) + ":" + t["households"].astype(str)
            split = piece.groupby(t["grid"], sort=True).agg("; ".join)
            out = pd.DataFrame({"households": total})
            out["best_match"] = inside["other"].reindex(out.index)
            out["best_households"] = inside["households"].reindex(out.index).fillna(0)
            out["share"] = np.where(out["households"] > 0,
                                    out["best_households"] / out["households"], 0.0)
            out["aligned"] = (out["households"] > 0) & (
                out["best_households"] >= share * out["households"])
            out["split"] = split
            out = out.rename_axis("grid").reset_index()
            out.insert(0, "layer", a)
            out.insert(2, "other_layer", b)
            parts.append(out)
    out = pd.concat(parts, ignore_index=True)
    out["households"] = out["households"].astype("int64")
    out["best_households"] = out["best_households"].astype("int64")
    out["aligned"] = out["aligned"].astype(bool)
    for c in ("layer", "grid", "other_layer", "best_match", "split"):
        out[c] = out[c].astype("str")
    return out


# --- units and moves -------------------------------------------------------------------------

def _units(units, ours: gpd.GeoDataFrame, hh: gpd.GeoDataFrame, pts: np.ndarray, crs
           ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Units (unit_id, community_id, grid_id, cell) and the unit position of every household."""
    if units is not None:
        for col in ("unit_id", "grid_id"):
            if col not in units.columns:
                raise InputError(f"units lack column '{col}'", file="units", column=col,
                                 fix="give PartitionResult.units or the units file of "
                                     "gridplan partition", message_zh=f"单元缺少列 '{col}'")
        u = units.to_crs(crs).reset_index(drop=True)
        if "community_id" not in u.columns:
            u["community_id"] = u["grid_id"].map(ours.set_index("grid_id")["community_id"])
        u = u[["unit_id", "community_id", "grid_id", u.geometry.name]]
        return u, _locate_pos(pts, u.geometry.to_numpy())
    return _derived_units(ours, hh, pts, crs)


def _derived_units(ours, hh, pts, crs) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Buildings (or household points) per grid, with Voronoi cells clipped to the grid."""
    grid = _locate(pts, ours.geometry.to_numpy(), ours["grid_id"].to_numpy())
    if "grid_id" in hh.columns and hh["grid_id"].isin(ours["grid_id"]).all():
        grid = hh["grid_id"].astype(object).to_numpy()
    if "building_id" in hh.columns:
        key = hh["building_id"].astype("str").fillna("").to_numpy(dtype=object)
        key = np.where(key == "", "row" + pd.RangeIndex(len(hh)).astype(str), key)
    else:
        key = np.array([f"row{i}" for i in range(len(hh))], dtype=object)
    uid = pd.Series(grid).astype(str) + "/" + pd.Series(key).astype(str)
    codes, uniques = pd.factorize(uid, sort=True)
    xy = shapely.get_coordinates(pts)
    row_cell = np.empty(len(hh), dtype=object)
    geom_of = dict(zip(ours["grid_id"], ours.geometry))
    # One Voronoi diagram per grid (a loop over grids, not households).
    for g in pd.unique(grid):
        if g == OUTSIDE:
            continue
        rows = np.flatnonzero(grid == g)
        # Distinct locations only: Voronoi needs distinct sites; co-located points share a cell.
        uxy, inv = np.unique(xy[rows], axis=0, return_inverse=True)
        row_cell[rows] = voronoi_cells(uxy, geom_of[g])[inv.ravel()]
    inside = grid != OUTSIDE
    cells = (gpd.GeoDataFrame({"unit": codes[inside]}, geometry=row_cell[inside], crs=crs)
             .dissolve(by="unit", sort=True))
    unit_grid = pd.Series(uniques).str.rsplit("/", n=1).str[0]
    u = gpd.GeoDataFrame({
        "unit_id": pd.array(uniques[cells.index], dtype="str"),
        "community_id": unit_grid.iloc[cells.index].map(
            ours.set_index("grid_id")["community_id"]).to_numpy(),
        "grid_id": unit_grid.iloc[cells.index].to_numpy(dtype=object),
    }, geometry=cells.geometry.to_numpy(), crs=crs)
    remap = np.full(len(uniques), -1, dtype=np.int64)
    remap[cells.index.to_numpy()] = np.arange(len(cells))
    return u, remap[codes]


def _propose(member, departments, units, unit_of, ours, weight, lo, hi):
    n_units = len(units)
    unit_grid = units["grid_id"].astype(object).to_numpy().copy()
    has = unit_of >= 0
    unit_hh = np.bincount(unit_of[has], weights=weight[has], minlength=n_units).astype(np.int64)
    cols = ["unit_id", "community_id", "from_grid", "to_grid", "households", "votes", "reason",
            "reason_zh"]
    if n_units == 0 or not departments:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=cols), unit_grid

    # Each department grid stands for our grid that shares most households with it.
    votes = np.full((n_units, len(departments)), None, dtype=object)
    for k, dep in enumerate(departments):
        inside = member[member[dep] != OUTSIDE]
        t = inside.groupby([dep, OURS], sort=True)["households"].sum().reset_index()
        t = t.sort_values([dep, "households", OURS], ascending=[True, False, True], kind="stable")
        stands_for = t.drop_duplicates(dep).set_index(dep)[OURS]
        u = pd.DataFrame({"unit": unit_of, "dep": member[dep].to_numpy(), "w": weight})
        u = u[(u["unit"] >= 0) & (u["dep"] != OUTSIDE)]
        per = u.groupby(["unit", "dep"], sort=True)["w"].sum().reset_index()
        per = per.sort_values(["unit", "w", "dep"], ascending=[True, False, True], kind="stable")
        top = per.drop_duplicates("unit")
        # A department votes for a unit only when most of the unit's households are in one of
        # its grids.
        top = top[top["w"] * 2 > unit_hh[top["unit"].to_numpy()]]
        votes[top["unit"].to_numpy(), k] = top["dep"].map(stands_for).to_numpy()

    need = len(departments) // 2 + 1
    unit_idx, dep_idx = np.nonzero(votes != None)  # noqa: E711 - elementwise on objects
    long = pd.DataFrame({"unit": unit_idx, "dep": dep_idx, "target": votes[unit_idx, dep_idx]})
    tally = long.groupby(["unit", "target"], sort=True).size().rename("n").reset_index()
    tally = tally[(tally["n"] >= need)
                  & (tally["target"].to_numpy() != unit_grid[tally["unit"].to_numpy()])]
    candidates = []
    for i, target in zip(tally["unit"], tally["target"]):
        who = [departments[k] for k in long.loc[(long["unit"] == i) & (long["target"] == target),
                                                 "dep"]]
        candidates.append((int(i), target, who))
    # Strongest agreement first, then bigger units, then unit id: deterministic.
    candidates.sort(key=lambda c: (-len(c[2]), -unit_hh[c[0]], str(units["unit_id"].iloc[c[0]])))

    # cells read back from WGS-84 files: their shared edges agree only to millimetres
    adj = unit_adjacency(units.geometry.to_numpy(), tolerance=SNAP_M)
    comm = units["community_id"].astype(object).to_numpy()
    grid_comm = dict(zip(ours["grid_id"], ours["community_id"]))
    totals = pd.Series(unit_hh).groupby(unit_grid).sum().to_dict()

    def dist(h):  # how far a household count is from the band
        return max(lo - h, 0, h - hi)

    changes, rejected = [], []
    pending = candidates
    while pending:
        progress, left = False, []
        for i, target, who in pending:
            src = unit_grid[i]
            h = int(unit_hh[i])
            why = _refusal(i, src, target, h, unit_grid, comm, grid_comm, adj, totals, dist, lo,
                           hi)
            if why is None:
                unit_grid[i] = target
                totals[src] = totals.get(src, 0) - h
                totals[target] = totals.get(target, 0) + h
                changes.append(_change(units, i, src, target, h, who, len(departments)))
                progress = True
            else:
                left.append((i, target, who, why))
        if not progress:
            for i, target, who, why in left:
                row = _change(units, i, unit_grid[i], target, int(unit_hh[i]), who,
                              len(departments))
                row["reason"], row["reason_zh"] = why
                rejected.append(row)
            break
        pending = [(i, t, w) for i, t, w, _ in left]
    return (pd.DataFrame(changes, columns=cols).astype({"households": "int64"}),
            pd.DataFrame(rejected, columns=cols).astype({"households": "int64"}), unit_grid)


def _refusal(i, src, target, h, unit_grid, comm, grid_comm, adj, totals, dist, lo, hi):
    """Why unit ``i`` cannot move from ``src`` to ``target`` (None when it can)."""
    if grid_comm.get(target) != comm[i]:
        return (f"{target} is in another community", f"{target} 属于其他社区")
    members = np.flatnonzero(unit_grid == target)
    if not adj[[i]][:, members].nnz:
        return (f"the unit does not border {target}", f"该单元与 {target} 不相邻")
    rest = np.flatnonzero((unit_grid == src) & (np.arange(len(unit_grid)) != i))
    if len(rest) == 0:
        return (f"{src} would be left empty", f"{src} 将没有任何单元")
    n_parts, _ = connected_components(adj[rest][:, rest], directed=False)
    if n_parts > 1:
        return (f"{src} would fall into {n_parts} pieces", f"{src} 将被分割为 {n_parts} 块")
    for grid, before, after in ((src, totals[src], totals[src] - h),
                                (target, totals.get(target, 0), totals.get(target, 0) + h)):
        # In band afterwards, or out of band before and closer to it afterwards.
        if not (lo <= after <= hi or dist(after) < dist(before)):
            return (f"{grid} would hold {after} households, outside {lo}-{hi}",
                    f"{grid} 将有 {after} 户，超出 {lo}–{hi} 户标准")
    return None


def _change(units, i, src, target, h, who, n_dep) -> dict:
    names = ", ".join(who)
    return {
        "unit_id": str(units["unit_id"].iloc[i]),
        "community_id": str(units["community_id"].iloc[i]),
        "from_grid": str(src), "to_grid": str(target), "households": int(h),
        "votes": names,
        "reason": f"{len(who)} of {n_dep} departments ({names}) put this unit in {target}",
        "reason_zh": f"{n_dep} 个部门中有 {len(who)} 个（{'、'.join(who)}）将该单元划入 {target}",
    }


def _unified(ours, units, unit_grid, unit_of, changes, member, hh, weight, lo, hi
             ) -> gpd.GeoDataFrame:
    """Our grids with the accepted moves applied: polygons, households and figures."""
    out = ours.copy()
    out["changed"] = False
    if len(changes):
        geoms, changed = _moved_geometries(out, units, changes)
        out = out.set_geometry(geoms)
        out.loc[changed, "changed"] = True
        # Households follow their unit.
        grid_of_row = member[OURS].to_numpy(dtype=object).copy()
        has = unit_of >= 0
        original = units["grid_id"].astype(object).to_numpy()
        moved_rows = np.zeros(len(grid_of_row), dtype=bool)
        moved_rows[has] = unit_grid[unit_of[has]] != original[unit_of[has]]
        grid_of_row[moved_rows] = unit_grid[unit_of[moved_rows]]
        # the one computation of grid figures (gridplan.grids.figures)
        fig = grid_figures(out.geometry.to_numpy(), out["grid_id"].to_numpy(object), grid_of_row,
                           weight, band=(lo, hi),
                           population=hh["population"] if "population" in hh.columns else None,
                           building=_column(hh, "building_id"), estate=_column(hh, "estate_id"))
        for col in ("households", "status", *FIGURE_COLUMNS[2:]):
            if col in ("households", "status") or col in out.columns:
                out[col] = fig[col].to_numpy()
        if "reason" in out.columns:
            out["reason"] = pd.array([_reason(s, int(h), lo, hi) for s, h in
                                      zip(out["status"], out["households"])], dtype="str")
    out = out.to_crs(4326)
    if "grid_code" not in out.columns:
        out = grid_codes(out)
    return out


def _column(frame: pd.DataFrame, col: str):
    return frame[col].to_numpy(object) if col in frame.columns else None


def _reason(status: str, households: int, lo: int, hi: int) -> str | None:
    """The "<code>: <detail>" reason of a reconciled grid out of the band (as a plan edit)."""
    if status == "under":
        return Reason("edited_below_min", {"households": households, "lo": lo}).text()
    if status == "over":
        return Reason("edited_over_max", {"households": households, "hi": hi}).text()
    return None


def _moved_geometries(out: gpd.GeoDataFrame, units: gpd.GeoDataFrame, changes: pd.DataFrame
                      ) -> tuple[np.ndarray, list[int]]:
    """Grid polygons after the moves: cells of units that left are cut out, arrivals added."""
    cells = units.geometry.to_numpy()
    pos_of_unit = {u: k for k, u in enumerate(units["unit_id"].astype(str))}
    moved = changes.assign(pos=changes["unit_id"].map(pos_of_unit))
    geoms = out.geometry.to_numpy().copy()
    pos_of = {g: k for k, g in enumerate(out["grid_id"])}
    changed = []
    for g in sorted(set(moved["from_grid"]) | set(moved["to_grid"])):
        k = pos_of[g]
        gone = moved.loc[moved["from_grid"] == g, "pos"].to_numpy(dtype=np.int64)
        came = moved.loc[moved["to_grid"] == g, "pos"].to_numpy(dtype=np.int64)
        geom = geoms[k]
        if len(gone):
            geom = shapely.difference(geom, shapely.union_all(cells[gone]))
        if len(came):
            geom = shapely.union_all(np.r_[np.array([geom], dtype=object), cells[came]])
        geoms[k] = shapely.normalize(shapely.make_valid(geom))
        changed.append(k)
    return geoms, changed


# --- output ----------------------------------------------------------------------------------

def write_reconcile(result: ReconcileResult, folder: str | os.PathLike) -> list[Path]:
    """Write a :class:`ReconcileResult` to ``folder``, all files published together.

    Files: ``overlaps.csv`` (long table), ``matrix_<a>_<b>.csv`` (one overlap matrix per pair of
    layers), ``alignment.csv``, ``changes.csv``, ``rejected.csv``, ``unified.geojson`` and
    ``report.json``. CSV files are UTF-8 with BOM so that Excel shows Chinese names.

    Returns
    -------
    list of Path
    """
    from gridplan.io.atomic import atomic_outputs
    from gridplan.io.files import write, write_json

    def csv(table: pd.DataFrame, path, index=False):
        table.to_csv(path, index=index, encoding="utf-8-sig", lineterminator="\n")

    with atomic_outputs(folder) as out:
        csv(result.overlaps, out.path("overlaps.csv"))
        names = result.report["layers"]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                csv(result.matrix(a, b), out.path(f"matrix_{a}_{b}.csv"), index=True)
        csv(result.alignment, out.path("alignment.csv"))
        csv(result.changes, out.path("changes.csv"))
        csv(result.rejected, out.path("rejected.csv"))
        write(result.unified, out.path("unified.geojson"))
        write_json(result.report, out.path("report.json"))
        return out.commit()
