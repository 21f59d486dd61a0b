"""The unified layer of :func:`gridplan.report.reconcile.reconcile` (一张网): which units move
to the grid most departments put them in, which moves are refused and why, and our grids with the
accepted moves applied.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components

from gridplan.geometry.adjacency import SNAP_M, unit_adjacency
from gridplan.grids.figures import FIGURE_COLUMNS, grid_figures
from gridplan.grids.reasons import Reason
from gridplan.report.codes import grid_codes

__all__ = ["OURS", "OUTSIDE", "propose", "unified_grids"]

#: Column of our own grid in the membership table.
OURS = "ours"
#: Grid label of households that lie in no grid of a layer.
OUTSIDE = "(outside)"


def propose(member, departments, units, unit_of, ours, weight, lo, hi):
    n_units = len(units)
    unit_grid = units["grid_id"].astype(object).to_numpy().copy()
    has = unit_of >= 0
    unit_hh = np.bincount(unit_of[has], weights=weight[has], minlength=n_units).astype(np.int64)
    cols = ["unit_id", "community_id", "from_grid", "to_grid", "households", "votes", "reason", "reason_zh"]
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
    tally = tally[(tally["n"] >= need) & (tally["target"].to_numpy() != unit_grid[tally["unit"].to_numpy()])]
    candidates = []
    for i, target in zip(tally["unit"], tally["target"]):
        who = [departments[k] for k in long.loc[(long["unit"] == i) & (long["target"] == target), "dep"]]
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
            why = _refusal(i, src, target, h, unit_grid, comm, grid_comm, adj, totals, dist, lo, hi)
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
                row = _change(units, i, unit_grid[i], target, int(unit_hh[i]), who, len(departments))
                row["reason"], row["reason_zh"] = why
                rejected.append(row)
            break
        pending = [(i, t, w) for i, t, w, _ in left]
    return (
        pd.DataFrame(changes, columns=cols).astype({"households": "int64"}),
        pd.DataFrame(rejected, columns=cols).astype({"households": "int64"}),
        unit_grid,
    )


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
    for grid, before, after in (
        (src, totals[src], totals[src] - h),
        (target, totals.get(target, 0), totals.get(target, 0) + h),
    ):
        # In band afterwards, or out of band before and closer to it afterwards.
        if not (lo <= after <= hi or dist(after) < dist(before)):
            return (
                f"{grid} would hold {after} households, outside {lo}-{hi}",
                f"{grid} 将有 {after} 户，超出 {lo}–{hi} 户标准",
            )
    return None


def _change(units, i, src, target, h, who, n_dep) -> dict:
    names = ", ".join(who)
    return {
        "unit_id": str(units["unit_id"].iloc[i]),
        "community_id": str(units["community_id"].iloc[i]),
        "from_grid": str(src),
        "to_grid": str(target),
        "households": int(h),
        "votes": names,
        "reason": f"{len(who)} of {n_dep} departments ({names}) put this unit in {target}",
        "reason_zh": f"{n_dep} 个部门中有 {len(who)} 个（{'、'.join(who)}）将该单元划入 {target}",
    }


def unified_grids(ours, units, unit_grid, unit_of, changes, member, hh, weight, lo, hi) -> gpd.GeoDataFrame:
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
        fig = grid_figures(
            out.geometry.to_numpy(),
            out["grid_id"].to_numpy(object),
            grid_of_row,
            weight,
            band=(lo, hi),
            population=hh["population"] if "population" in hh.columns else None,
            building=_column(hh, "building_id"),
            estate=_column(hh, "estate_id"),
        )
        for col in ("households", "status", *FIGURE_COLUMNS[2:]):
            if col in ("households", "status") or col in out.columns:
                out[col] = fig[col].to_numpy()
        if "reason" in out.columns:
            out["reason"] = pd.array(
                [_reason(s, int(h), lo, hi) for s, h in zip(out["status"], out["households"])], dtype="str"
            )
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


def _moved_geometries(
    out: gpd.GeoDataFrame, units: gpd.GeoDataFrame, changes: pd.DataFrame
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
