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

from gridplan.errors import InputError
from gridplan.geometry.adjacency import voronoi_cells
from gridplan.io.projection import local_crs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.report.unified import OURS, OUTSIDE, propose, unified_grids

__all__ = ["ALIGNED_SHARE", "OURS", "OUTSIDE", "ReconcileResult", "reconcile", "write_reconcile"]

#: A grid is aligned with another layer when this share of its households is in one of its grids.
ALIGNED_SHARE = 0.95
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
            return fwd.pivot_table(
                index="grid_a", columns="grid_b", values="households", aggfunc="sum", fill_value=0
            )
        rev = o[(o["layer_a"] == layer_b) & (o["layer_b"] == layer_a)]
        if not len(rev):
            raise KeyError(f"no overlaps between {layer_a!r} and {layer_b!r}")
        return rev.pivot_table(
            index="grid_b", columns="grid_a", values="households", aggfunc="sum", fill_value=0
        ).rename_axis(index="grid_a", columns="grid_b")

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
    weight = (
        hh["households"].fillna(1).to_numpy(dtype=np.int64)
        if "households" in hh
        else np.ones(len(hh), dtype=np.int64)
    )
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
    changes, rejected, unit_grid = propose(
        member, names[1:], unit_gdf, unit_of, ours, weight, min_households, max_households
    )
    unified = unified_grids(
        ours, unit_gdf, unit_grid, unit_of, changes, member, hh, weight, min_households, max_households
    )

    report = {
        "layers": names,
        "households": int(weight.sum()),
        "household_rows": int(len(hh)),
        "aligned_share": aligned_share,
        "pairs": [
            {
                "layer": a,
                "other_layer": b,
                "grids": int(((alignment["layer"] == a) & (alignment["other_layer"] == b)).sum()),
                "disagreeing": int(
                    (
                        (alignment["layer"] == a) & (alignment["other_layer"] == b) & ~alignment["aligned"]
                    ).sum()
                ),
                "households_outside_other": int(member.loc[member[b] == OUTSIDE, "households"].sum()),
            }
            for a in names
            for b in names
            if a != b
        ],
        "changes": int(len(changes)),
        "households_moved": int(changes["households"].sum()) if len(changes) else 0,
        "rejected": int(len(rejected)),
        "unified_status": (
            {k: int(v) for k, v in unified["status"].value_counts().sort_index().items()}
            if "status" in unified.columns
            else {}
        ),
        "units": int(len(unit_gdf)),
        "units_derived": units is None,
    }
    return ReconcileResult(member, overlaps, alignment, unified, changes, rejected, report)


# --- inputs ----------------------------------------------------------------------------------


def _check(grids, households, layers) -> None:
    for col in ("grid_id", "community_id"):
        if col not in grids.columns:
            raise InputError(
                f"our grids lack column '{col}'",
                column=col,
                fix="give the grids written by gridplan partition",
                message_zh=f"网格图层缺少列 '{col}'",
            )
    if grids["grid_id"].duplicated().any():
        raise InputError(
            "our grids repeat a grid_id",
            column="grid_id",
            rows=grids.index[grids["grid_id"].duplicated()].tolist(),
            fix="give the grids written by gridplan partition",
            message_zh="网格编号重复",
        )
    if len(households) == 0 or not (households.geometry.geom_type == "Point").all():
        raise InputError(
            "households must be points",
            file="households",
            fix="give household points (one per household or per building)",
            message_zh="住户数据应为点",
        )
    if not layers:
        raise InputError(
            "no departmental layers to reconcile",
            fix="give at least one --layer NAME=FILE",
            message_zh="没有部门网格图层",
        )
    for name, layer in layers.items():
        if name == OURS:
            raise InputError(
                f"'{OURS}' is the name of our own layer",
                fix="name the department differently",
                message_zh="图层名称冲突",
            )
        if layer.crs is None:
            raise InputError(
                "the layer has no CRS",
                file=name,
                fix="read it with gridplan.io.files",
                message_zh="图层没有坐标系",
            )
        if not layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            raise InputError(
                "a departmental grid layer must be polygons", file=name, message_zh="部门网格图层应为面"
            )


def _department(name: str, layer: gpd.GeoDataFrame, crs, id_column: str | None) -> gpd.GeoDataFrame:
    d = layer.to_crs(crs).reset_index(drop=True)
    if id_column is None:
        id_column = next((c for c in _ID_CANDIDATES if c in d.columns), None)
    elif id_column not in d.columns:
        raise InputError(
            f"the layer has no column '{id_column}'",
            file=name,
            column=id_column,
            fix="name the column that identifies its grids",
            message_zh=f"图层中没有列 '{id_column}'",
        )
    if id_column is None:
        ids = pd.Series([f"{name}-{i + 1:03d}" for i in range(len(d))])
    else:
        ids = d[id_column].astype("str")
        if ids.isna().any():
            raise InputError(
                "grids without an id",
                file=name,
                column=id_column,
                rows=d.index[ids.isna()].tolist(),
                fix="give every grid an id",
                message_zh="存在没有编号的网格",
            )
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
        for b in names[i + 1 :]:
            t = (
                member.groupby([a, b], sort=True)["households"]
                .sum()
                .reset_index()
                .rename(columns={a: "grid_a", b: "grid_b"})
            )
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
            t = (
                member[member[a] != OUTSIDE]
                .groupby([a, b], sort=True)["households"]
                .sum()
                .reset_index()
                .rename(columns={a: "grid", b: "other"})
            )
            # Per grid: its pieces in the other layer, biggest first (ties by name).
            t = t.sort_values(["grid", "households", "other"], ascending=[True, False, True], kind="stable")
            total = t.groupby("grid", sort=True)["households"].sum()
            inside = t[t["other"] != OUTSIDE].drop_duplicates("grid").set_index("grid")
            piece = t["other"].astype(str) + ":" + t["households"].astype(str)
            split = piece.groupby(t["grid"], sort=True).agg("; ".join)
            out = pd.DataFrame({"households": total})
            out["best_match"] = inside["other"].reindex(out.index)
            out["best_households"] = inside["households"].reindex(out.index).fillna(0)
            out["share"] = np.where(out["households"] > 0, out["best_households"] / out["households"], 0.0)
            out["aligned"] = (out["households"] > 0) & (out["best_households"] >= share * out["households"])
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


def _units(
    units, ours: gpd.GeoDataFrame, hh: gpd.GeoDataFrame, pts: np.ndarray, crs
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Units (unit_id, community_id, grid_id, cell) and the unit position of every household."""
    if units is not None:
        for col in ("unit_id", "grid_id"):
            if col not in units.columns:
                raise InputError(
                    f"units lack column '{col}'",
                    file="units",
                    column=col,
                    fix="give PartitionResult.units or the units file of gridplan partition",
                    message_zh=f"单元缺少列 '{col}'",
                )
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
    cells = gpd.GeoDataFrame({"unit": codes[inside]}, geometry=row_cell[inside], crs=crs).dissolve(
        by="unit", sort=True
    )
    unit_grid = pd.Series(uniques).str.rsplit("/", n=1).str[0]
    u = gpd.GeoDataFrame(
        {
            "unit_id": pd.array(uniques[cells.index], dtype="str"),
            "community_id": unit_grid.iloc[cells.index]
            .map(ours.set_index("grid_id")["community_id"])
            .to_numpy(),
            "grid_id": unit_grid.iloc[cells.index].to_numpy(dtype=object),
        },
        geometry=cells.geometry.to_numpy(),
        crs=crs,
    )
    remap = np.full(len(uniques), -1, dtype=np.int64)
    remap[cells.index.to_numpy()] = np.arange(len(cells))
    return u, remap[codes]


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
            for b in names[i + 1 :]:
                csv(result.matrix(a, b), out.path(f"matrix_{a}_{b}.csv"), index=True)
        csv(result.alignment, out.path("alignment.csv"))
        csv(result.changes, out.path("changes.csv"))
        csv(result.rejected, out.path("rejected.csv"))
        write(result.unified, out.path("unified.geojson"))
        write_json(result.report, out.path("report.json"))
        return out.commit()
