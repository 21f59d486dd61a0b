"""The geometry figures of a partition for its report: how well the grid lines follow the city.

Computed by :func:`gridplan.geometry.quality.geometry_quality` per community whenever footprints
(building polygons), estate polygons or streets are given, so that a planner reads in
``report.json`` what would otherwise need a GIS to check. The area's figures are added up from
the communities' (cut buildings and estates by id, metres of grid line on features), not
measured again over the whole area: at a million households that second pass was half of the
partition's serial time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.geometry.quality import geometry_quality
from gridplan.grids.pool import Mapper

__all__ = [
    "QUALITY_KEYS",
    "QualityLayers",
    "community_figures",
    "empty_quality",
    "partition_quality",
    "quality_layers",
]

#: The report keys of the figures, None when they cannot be computed.
QUALITY_KEYS = ("buildings_cut", "estates_cut", "buildings_split", "boundary_on_features")


def empty_quality() -> dict:
    """The figures when neither footprints, estates nor streets were given."""
    return dict.fromkeys(QUALITY_KEYS)


def _metric(gdf: gpd.GeoDataFrame | None, crs, kinds: tuple[str, ...], key: str | None = None):
    """``gdf`` in ``crs`` with only geometries of ``kinds`` (and its ``key`` column, the only
    one the figures read), or None when nothing is left."""
    # a building table without geometry gives estates, not footprints
    if not isinstance(gdf, gpd.GeoDataFrame) or not len(gdf) or gdf._geometry_column_name not in gdf.columns:
        return None
    g = gdf[gdf.geom_type.isin(kinds).to_numpy()]
    if not len(g):
        return None
    cols = [c for c in (key,) if c is not None and c in g.columns]
    return gpd.GeoDataFrame(g[cols].reset_index(drop=True), geometry=g.geometry.values, crs=g.crs).to_crs(crs)


def _near(gdf: gpd.GeoDataFrame | None, polys: np.ndarray) -> list[np.ndarray] | None:
    """Per polygon of ``polys``, the rows of ``gdf`` touching it (sorted): one query for all."""
    if gdf is None:
        return None
    pi, fi = gdf.sindex.query(polys, predicate="intersects")
    order = np.lexsort((fi, pi))
    bounds = np.searchsorted(pi[order], np.arange(len(polys) + 1))
    return [fi[order[bounds[c] : bounds[c + 1]]] for c in range(len(polys))]


def community_figures(task: dict) -> dict:
    """The figures of one community's grids: what :func:`partition_quality` maps over its
    communities (in worker processes), a pure function of plain data.

    Parameters
    ----------
    task : dict
        ``grids`` (its grids), ``community`` (its row), ``layers`` (the features near it, as in
        :func:`gridplan.geometry.quality.geometry_quality`), ``estate_grids`` (estate id -> the
        grids holding its households, or None), ``split`` (buildings split on purpose) and
        ``n_split`` (their number, None without footprints).

    Returns
    -------
    dict
        The report's figures with the metres behind the share, and ``buildings_split``.
    """
    layers, split = task["layers"], task["split"]
    q = geometry_quality(
        task["grids"],
        task["community"],
        buildings=layers["buildings"],
        estates=layers["estates"],
        estate_grids=task["estate_grids"],
        streets=None if layers["streets"] is None else layers["streets"].geometry,
        barriers=None if layers["barriers"] is None else layers["barriers"].geometry,
        split_buildings=split,
    )
    out = {k: q[k] for k in (*_SHOWN, "boundary_on_features_m", "boundary_m")}
    out["buildings_split"] = (
        None
        if task["n_split"] is None
        else int(np.isin(np.asarray(split, dtype=object), _ids(layers["buildings"])).sum())
    )
    return out


#: The figures of the report (ids: the first ten).
_SHOWN = ("buildings_cut", "buildings_cut_ids", "estates_cut", "estates_cut_ids", "boundary_on_features")


def _shown(q: dict) -> dict:
    out = {k: q[k] for k in _SHOWN}
    out["buildings_cut_ids"] = list(q["buildings_cut_ids"])[:10]
    out["estates_cut_ids"] = list(q["estates_cut_ids"])[:10]
    return out


def _added(per: list[dict], layers: dict) -> dict:
    """The area's figures from its communities' (see the module docstring)."""
    out: dict = {}
    for key, layer in (("buildings_cut", "buildings"), ("estates_cut", "estates")):
        ids = sorted({i for q in per for i in q[f"{key}_ids"]})
        known = layers[layer] is not None and any(q[key] is not None for q in per)
        out[key], out[f"{key}_ids"] = (len(ids) if known else None), ids
    on = sum(q["boundary_on_features_m"] for q in per)
    total = sum(q["boundary_m"] for q in per)
    out["boundary_on_features"] = round(on / total, 4) if total > 0 else None
    return out


@dataclass(frozen=True)
class QualityLayers:
    """The features the figures are measured against: the area's layers in the metric CRS, and
    per community (in order) those inside it; ``local`` is None when there is nothing to measure
    (neither footprints, estates nor streets)."""

    layers: dict
    local: list[dict] | None


def quality_layers(
    comm_m: gpd.GeoDataFrame,
    crs,
    *,
    buildings: gpd.GeoDataFrame | None,
    estates: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame | None,
) -> QualityLayers:
    """The features of :func:`partition_quality`, which do not depend on the grids: the partition
    gathers them while its workers plan.

    Parameters
    ----------
    comm_m : GeoDataFrame
        Communities in ``crs``.
    crs
        The metric CRS.
    buildings, estates, streets, barriers : GeoDataFrame, optional
        The input layers; only building polygons count as footprints.

    Returns
    -------
    QualityLayers
    """
    layers = {
        "buildings": _metric(buildings, crs, ("Polygon", "MultiPolygon"), "building_id"),
        "estates": _metric(estates, crs, ("Polygon", "MultiPolygon"), "estate_id"),
        "streets": _metric(streets, crs, ("LineString", "MultiLineString")),
        "barriers": _metric(barriers, crs, ("LineString", "MultiLineString")),
    }
    if layers["estates"] is not None and "estate_id" not in layers["estates"].columns:
        layers["estates"] = None
    if all(layers[k] is None for k in ("buildings", "estates", "streets")):
        return QualityLayers(layers, None)
    if layers["buildings"] is not None and "building_id" not in layers["buildings"].columns:
        # cut footprints are added up over communities by id: give them one
        layers["buildings"] = layers["buildings"].assign(
            building_id=np.arange(len(layers["buildings"])).astype(str)
        )
    polys = comm_m.geometry.values
    # a neighbour's features touching the boundary do not count here
    near = {k: _near(v, shapely.buffer(np.asarray(polys), -0.5)) for k, v in layers.items()}
    estates_in = _clipped(layers["estates"], near["estates"], np.asarray(polys))
    if estates_in is not None and not any(e is not None for e in estates_in):
        layers["estates"] = None  # no estate lies in a community: none can be cut
    local = [
        {
            k: (None if near[k] is None else layers[k].take(near[k][c]))
            for k in ("buildings", "streets", "barriers")
        }
        | {"estates": None if estates_in is None else estates_in[c]}
        for c in range(len(polys))
    ]
    return QualityLayers(layers, local)


def partition_quality(
    grids: gpd.GeoDataFrame,
    comm_m: gpd.GeoDataFrame,
    crs,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    estates: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    estate: np.ndarray | None,
    grid_of: np.ndarray,
    split: list,
    mapper: Mapper | None = None,
    prepared: QualityLayers | None = None,
) -> tuple[dict, dict]:
    """The geometry figures of a partition, in total and per community.

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_id``, ``community_id`` and polygons.
    comm_m : GeoDataFrame
        Communities in ``crs`` (``community_id``).
    crs
        The metric CRS the figures are measured in.
    buildings, estates, streets, barriers : GeoDataFrame, optional
        The input layers (any CRS); only building polygons count as footprints. Not read when
        ``prepared`` is given.
    estate : ndarray of object or None
        Estate id per household row.
    grid_of : ndarray of object
        Grid id per household row.
    split : list of str
        Ids of the buildings split by entrance on purpose (never counted as cut).
    mapper : callable, optional
        ``mapper(community_figures, tasks)``, as the partition maps its planner
        (:mod:`gridplan.grids.pool`); default: in this process.
    prepared : QualityLayers, optional
        :func:`quality_layers` of the same communities and layers, when gathered already.

    Returns
    -------
    total : dict
        ``buildings_cut``, ``estates_cut``, ``buildings_split``, ``boundary_on_features`` and
        the first ids of the cut buildings and estates; all None without footprints, estates
        and streets.
    per_community : dict
        ``community_id`` -> the same figures.
    """
    prep = prepared or quality_layers(
        comm_m, crs, buildings=buildings, estates=estates, streets=streets, barriers=barriers
    )
    layers, cids = prep.layers, comm_m["community_id"].tolist()
    if prep.local is None:
        return empty_quality(), {c: empty_quality() for c in cids}
    g = grids.to_crs(crs) if grids.crs is not None and grids.crs != crs else grids
    held_by = None if estate is None else _estate_grids(estate, grid_of)
    n_split = len(split) if layers["buildings"] is not None else None
    at = g.groupby("community_id", sort=False).indices
    none = np.empty(0, dtype=np.int64)
    tasks = []
    for c, cid in enumerate(cids):
        mine = g.take(at.get(cid, none))
        local = prep.local[c]
        held = None
        if held_by is not None and local["estates"] is not None:
            own = set(mine["grid_id"])
            ids = local["estates"]["estate_id"].astype(str).unique()
            held = pd.Series({e: held_by[e] for e in ids if e in held_by and held_by[e] & own}, dtype=object)
        tasks.append(
            {"grids": mine, "community": comm_m.iloc[[c]], "layers": local, "estate_grids": held}
            | {"split": split, "n_split": n_split}
        )
    per = dict(zip(cids, (mapper or _in_process)(community_figures, tasks)))
    total = _shown(_added(list(per.values()), layers))
    total["buildings_split"] = n_split
    return total, {cid: _shown(q) | {"buildings_split": q["buildings_split"]} for cid, q in per.items()}


def _in_process(fn: Callable[[dict], dict], tasks: list[dict]) -> list[dict]:
    return [fn(t) for t in tasks]


def _clipped(
    estates: gpd.GeoDataFrame | None, near: list[np.ndarray] | None, polys: np.ndarray
) -> list[gpd.GeoDataFrame | None] | None:
    """Per community, the polygonal parts of the estates ``near`` it inside it (None where
    there are none): an estate drawn past the communities (OSM landuse) can only be kept whole
    where grids are drawn. One vectorised intersection for every (community, estate) pair."""
    if estates is None or near is None:
        return None
    comm = np.repeat(np.arange(len(polys)), [len(n) for n in near])
    est = np.concatenate(near) if len(comm) else np.empty(0, dtype=np.int64)
    g = shapely.make_valid(shapely.intersection(estates.geometry.values[est], polys[comm]))
    odd = np.flatnonzero(~np.isin(shapely.get_type_id(g), [3, 6]))
    for k in odd:  # collections with lines or points: their polygonal parts put together
        parts = shapely.get_parts(g[k])
        parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
        g[k] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    keep = shapely.area(g) > 0
    bounds = np.searchsorted(comm, np.arange(len(polys) + 1))
    out: list[gpd.GeoDataFrame | None] = []
    for c in range(len(polys)):
        m = np.arange(bounds[c], bounds[c + 1])
        m = m[keep[m]]
        out.append(
            None
            if not len(m)
            else gpd.GeoDataFrame(
                {"estate_id": estates["estate_id"].to_numpy(object)[est[m]]},
                geometry=gpd.array.from_shapely(g[m], crs=estates.crs),
            )
        )
    return out


def _estate_grids(estate: np.ndarray, grid_of: np.ndarray) -> dict[str, set]:
    """Estate id (as text) -> the set of grids holding its households."""
    ok = pd.notna(estate) & pd.notna(grid_of)
    e_code, e_ids = pd.factorize(pd.Series(estate[ok]).astype(str))
    g_code, g_ids = pd.factorize(pd.Series(grid_of[ok]))
    pairs = np.unique(e_code.astype(np.int64) * len(g_ids) + g_code)
    out: dict[str, set] = {}
    for e, gg in zip((pairs // len(g_ids)).tolist(), (pairs % len(g_ids)).tolist()):
        out.setdefault(e_ids[e], set()).add(g_ids[gg])
    return out


def _ids(buildings: gpd.GeoDataFrame | None) -> np.ndarray:
    if buildings is None or "building_id" not in buildings.columns:
        return np.empty(0, dtype=object)
    return buildings["building_id"].astype(str).to_numpy(object)
