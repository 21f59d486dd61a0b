"""The partition's inputs in the metric CRS: community checks, the community and estate of
every household, barrier lines, kept grids and the previous plan of a replan.

The household checks themselves are :mod:`gridplan.io.checks` (one copy for every stage).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.norms import COMMUNITY_SNAP_M

__all__ = [
    "outside_rejects",
    "barrier_lines",
    "check_communities",
    "community_of",
    "estate_ids",
    "id_column",
    "in_crs",
    "kept_by_community",
    "previous_ids",
    "previous_totals",
    "unchanged",
]


def check_communities(comm: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communities with a string ``community_id``, checked for the partition.

    Parameters
    ----------
    comm : GeoDataFrame
        Community polygons with ``community_id``.

    Returns
    -------
    GeoDataFrame
        A copy, ``community_id`` as str.

    Raises
    ------
    InputError
        No ``community_id`` column, duplicated ids, rows without a polygon.
    """
    if "community_id" not in comm.columns:
        raise InputError(
            "communities have no 'community_id' column",
            file="communities",
            column="community_id",
            fix="map a column to it, e.g. --map community_id=SQMC",
            message_zh="社区图层缺少 community_id 列",
            fix_zh="用 --map community_id=列名 指定",
        )
    ids = comm["community_id"].astype(str)
    dup = np.flatnonzero(ids.duplicated(keep=False).to_numpy())
    if len(dup):
        raise InputError(
            "community_id values are not unique",
            file="communities",
            column="community_id",
            rows=dup,
            fix="give every community its own id",
            message_zh="community_id 有重复",
            fix_zh="为每个社区设置唯一编号",
        )
    geom = comm.geometry.values
    bad = np.flatnonzero(
        shapely.is_missing(geom) | shapely.is_empty(geom) | ~np.isin(shapely.get_type_id(geom), [3, 6])
    )
    if len(bad):
        raise InputError(
            "community rows without a polygon",
            file="communities",
            rows=bad,
            fix="give every community a boundary polygon",
        )
    out = comm.copy()
    out["community_id"] = ids.to_numpy(object)
    return out


def _wgs84(metric: gpd.GeoSeries, given: gpd.GeoSeries | None):
    """The WGS-84 geometries: the input's own when it is in EPSG:4326 (no round trip)."""
    if given is not None and given.crs is not None and given.crs.equals("EPSG:4326"):
        return given.values
    return metric.to_crs(4326).values


def community_of(
    hh_m: gpd.GeoDataFrame,
    comm_m: gpd.GeoDataFrame,
    hh_count: np.ndarray,
    hh_wgs: gpd.GeoSeries | None = None,
) -> tuple[np.ndarray, int]:
    """The community of every household row.

    The join itself is :func:`gridplan.io.validate._join_households`, so that partition, validate
    and coverage agree on every household (a given ``community_id`` wins; in an overlap the
    community whose representative point is nearest, ties to the lowest id).

    Parameters
    ----------
    hh_m, comm_m : GeoDataFrame
        Households and communities in the metric CRS.
    hh_count : ndarray of int
        Households per row.
    hh_wgs : GeoSeries, optional
        The households' own geometry (used as is when in EPSG:4326).

    Returns
    -------
    pos : ndarray of int
        Position in ``comm_m`` of every row's community.
    snapped : int
        Rows in gaps between communities joined to the nearest one.

    Raises
    ------
    InputError
        An unknown ``community_id``, or so many rows outside every community that a coordinate
        mix-up is likely (all of them, or GCJ-02/BD-09 points read as WGS-84); fewer are rejects
        (position -1), planned without. Rows farther than ``COMMUNITY_SNAP_M`` from every
        community.
    """
    from gridplan.io.validate import ValidationResult, _join_households

    ids = comm_m["community_id"].to_numpy(object)
    cols = {"households": hh_count}
    if "community_id" in hh_m.columns:
        given = hh_m["community_id"]
        cols["community_id"] = (
            given.astype(object)
            .where(given.notna(), None)
            .map(lambda v: None if v is None else str(v))
            .to_numpy(object)
        )
    hh4 = gpd.GeoDataFrame(cols, geometry=_wgs84(hh_m.geometry, hh_wgs), crs=4326)
    comm4 = gpd.GeoDataFrame({"community_id": ids}, geometry=comm_m.geometry.to_crs(4326).values, crs=4326)
    checked = ValidationResult()
    _join_households(hh4, comm4, checked, {"households": "households", "communities": "communities"})
    if checked.frames.get("households") is None:
        bad = next(p for p in checked.problems if p.code == "unknown_community_id")
        raise InputError(
            "community_id not found among the communities",
            file="households",
            column="community_id",
            rows=bad.rows,
            fix="use the ids of the communities file, or drop the column to find communities by location",
            message_zh="户点的 community_id 不在社区图层中",
            fix_zh="请更正编号，或删除该列按位置匹配社区",
        )
    joined = checked.frames["households"]["community_id"]
    pos = pd.Index(ids).get_indexer(joined.where(joined.notna(), None).to_numpy(object))
    miss = np.flatnonzero(pos < 0)
    if len(miss):
        pts = hh_m.geometry.values
        tree = shapely.STRtree(comm_m.geometry.values)
        mi, mc = tree.query_nearest(pts[miss], max_distance=COMMUNITY_SNAP_M, all_matches=False)
        pos[miss[mi]] = mc
        still = np.flatnonzero(pos < 0)
        if len(still):
            _stop_if_datum_mixup(hh_m, comm_m, still, hh_wgs)
    return pos, len(miss) - int((pos[miss] < 0).sum())


def previous_ids(replan, hh_m: gpd.GeoDataFrame, crs, rows: tuple | None = None) -> np.ndarray:
    """Previous grid_id per household: from a households file (same point) or a grids file.

    Parameters
    ----------
    replan : GeoDataFrame
        The previous households (points with ``grid_id``) or grids (polygons with ``grid_id``).
    hh_m : GeoDataFrame
        The households in ``crs`` (the planned rows).
    crs
        The metric CRS.
    rows : (ndarray of int, GeoDataFrame), optional
        When rows were split by entrance: the input row of every planned row, and the input
        rows in ``crs``. A households file holds the input rows (a tower at its entrance, its
        parts in ``grid_parts``), so it is matched on them: each part takes its own previous
        grid when the previous run split the row into as many parts, else the row's.

    Returns
    -------
    ndarray of object
        grid_id per household row, None where no previous grid holds it.

    Raises
    ------
    InputError
        The file has no ``grid_id`` column.
    """
    prev = replan.to_crs(crs)
    if "grid_id" not in prev.columns:
        raise InputError(
            "the replan file has no 'grid_id' column",
            file="replan",
            column="grid_id",
            fix="pass the households.geojson or grids.geojson of a previous run",
        )
    gt = shapely.get_type_id(prev.geometry.values)
    tree = shapely.STRtree(prev.geometry.values)
    ids = prev["grid_id"].astype(str).to_numpy(object)
    if (gt == 0).all():
        pts = (hh_m if rows is None else rows[1]).geometry.values
        out = np.empty(len(pts), dtype=object)
        i, j = tree.query_nearest(pts, max_distance=1.0, all_matches=False)
        out[i] = ids[j]
        if rows is None:
            return out
        texts = np.full(len(pts), None, dtype=object)
        if "grid_parts" in prev.columns:
            texts[i] = prev["grid_parts"].to_numpy(object)[j]
        return _per_part(out, np.asarray(rows[0]), texts)
    out = np.empty(len(hh_m), dtype=object)
    i, j = tree.query(hh_m.geometry.values, predicate="intersects")
    order = np.lexsort((j, i))[::-1]
    out[i[order]] = ids[j[order]]
    return out


def _per_part(row_ids: np.ndarray, src: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Previous grid per planned row from the input rows' (``grid_parts``: ``<grid>:<hh>;...``
    in part order, when the row was split the same way before)."""
    out = row_ids[src]
    order = np.argsort(src, kind="stable")  # a row's parts are consecutive, in part order
    starts = np.searchsorted(src[order], np.arange(len(row_ids) + 1))
    for r in np.flatnonzero(np.diff(starts) > 1):
        text = texts[r]
        if not isinstance(text, str) or not text:
            continue
        grids = [p.rsplit(":", 1)[0] for p in text.split(";")]
        at = order[starts[r] : starts[r + 1]]
        if len(grids) == len(at):
            out[at] = np.array(grids, dtype=object)
    return out


def previous_totals(replan) -> dict | None:
    """Households per previous grid_id.

    Parameters
    ----------
    replan : GeoDataFrame
        As for :func:`previous_ids`.

    Returns
    -------
    dict or None
        Summed over a households file, or the ``households`` column of a grids file (None when
        a grids file has none: changes cannot be told apart).
    """
    gt = shapely.get_type_id(replan.geometry.values)
    ids = replan["grid_id"].astype(str).to_numpy(object)
    if (gt == 0).all():
        w = (
            pd.to_numeric(replan["households"], errors="coerce").fillna(1).to_numpy(np.int64)
            if "households" in replan.columns
            else np.ones(len(replan), dtype=np.int64)
        )
        return pd.Series(w).groupby(ids, sort=True).sum().astype(int).to_dict()
    if "households" not in replan.columns:
        return None
    return dict(
        zip(ids, pd.to_numeric(replan["households"], errors="coerce").fillna(-1).astype(int).tolist())
    )


def unchanged(cid: str, prev: np.ndarray, hh: np.ndarray, totals: dict | None) -> bool:
    """Are the households of community ``cid`` exactly those of its previous grids?

    Parameters
    ----------
    cid : str
    prev : ndarray of object
        Previous grid_id of the community's household rows.
    hh : ndarray of int
        Households per row.
    totals : dict or None
        :func:`previous_totals`.

    Returns
    -------
    bool
        Every row matched to a previous grid of ``cid``, and the same households in every
        previous grid.
    """
    if totals is None or len(prev) == 0:
        return False
    own = f"{cid}-"
    if not all(isinstance(p, str) and p.startswith(own) for p in prev):
        return False
    now = pd.Series(hh).groupby(prev.astype(str), sort=True).sum().astype(int).to_dict()
    before = {g: t for g, t in totals.items() if g.startswith(own) and t != 0}
    return now == before


def id_column(df: pd.DataFrame, col: str) -> np.ndarray | None:
    """Column ``col`` as str ids (None where missing), or None without the column.

    Parameters
    ----------
    df : DataFrame
    col : str

    Returns
    -------
    ndarray of object or None
    """
    if col not in df.columns:
        return None
    s = df[col]
    out = s.astype(object).where(s.notna(), None).to_numpy(object)
    return np.array([None if v is None else str(v) for v in out], dtype=object)


def estate_ids(
    hh_m: gpd.GeoDataFrame,
    building: np.ndarray | None,
    buildings: gpd.GeoDataFrame | None,
    estates: gpd.GeoDataFrame | None,
    crs,
) -> np.ndarray | None:
    """estate_id per household row: the row's own, else its building's, else the estate
    polygon it lies in.

    Parameters
    ----------
    hh_m : GeoDataFrame
        Households in ``crs``.
    building : ndarray of object or None
        building_id per row.
    buildings, estates : GeoDataFrame, optional
        ``building_id`` with ``estate_id``; estate polygons with ``estate_id``.
    crs
        The metric CRS.

    Returns
    -------
    ndarray of object or None
        str ids, None where unknown; None when nothing gives estates.
    """
    n = len(hh_m)
    estate = id_column(hh_m, "estate_id")
    if (
        buildings is not None
        and "building_id" in buildings.columns
        and "estate_id" in buildings.columns
        and building is not None
    ):
        bmap = pd.Series(
            buildings["estate_id"].to_numpy(object),
            index=buildings["building_id"].astype(str).to_numpy(object),
        )
        bmap = bmap[~bmap.index.duplicated()]
        from_b = pd.Series(building, dtype=object).map(bmap).to_numpy(object)
        estate = from_b if estate is None else np.where(pd.isna(estate), from_b, estate)
    if estates is not None and "estate_id" in estates.columns:
        est_m = estates.to_crs(crs)
        tree = shapely.STRtree(est_m.geometry.values)
        need = np.arange(n) if estate is None else np.flatnonzero(pd.isna(estate))
        if len(need):
            pi, ei = tree.query(hh_m.geometry.values[need], predicate="intersects")
            order = np.lexsort((ei, pi))[::-1]
            estate = np.full(n, None, dtype=object) if estate is None else estate.copy()
            estate[need[pi[order]]] = est_m["estate_id"].astype(str).to_numpy(object)[ei[order]]
    if estate is not None:
        estate = np.where(pd.isna(estate), None, estate).astype(object)
        estate = np.array([None if v is None else str(v) for v in estate], dtype=object)
    return estate


def barrier_lines(barriers: gpd.GeoDataFrame | None, crs):
    """The barrier lines in ``crs`` and an STRtree over them.

    Parameters
    ----------
    barriers : GeoDataFrame, optional
    crs
        The metric CRS.

    Returns
    -------
    lines : ndarray of LineString or None
        The (multi)line rows; None without barriers.
    tree : STRtree or None
    """
    if barriers is None or not len(barriers):
        return None, None
    bar = barriers.to_crs(crs).geometry.values
    bar = bar[np.isin(shapely.get_type_id(bar), [1, 2, 5])]
    return bar, shapely.STRtree(bar)


def kept_by_community(keep: gpd.GeoDataFrame | None, crs) -> dict[str, list]:
    """Kept grids per community id.

    Parameters
    ----------
    keep : GeoDataFrame, optional
        Grids with ``grid_id`` (and ``community_id``, else read from the grid_id).
    crs
        The metric CRS.

    Returns
    -------
    dict
        community_id -> list of (grid_id, polygon in ``crs``), by grid_id.

    Raises
    ------
    InputError
        The file has no ``grid_id`` column.
    """
    kept_by: dict = {}
    if keep is None or not len(keep):
        return kept_by
    if "grid_id" not in keep.columns:
        raise InputError(
            "the keep file has no 'grid_id' column",
            file="keep",
            column="grid_id",
            fix="pass a grids file written by gridplan partition",
        )
    kk = keep.to_crs(crs)
    kids = kk["grid_id"].astype(str).to_numpy(object)
    if "community_id" in kk.columns:
        kc = kk["community_id"].astype(str).to_numpy(object)
    else:
        kc = np.array([g.rsplit("-", 1)[0] for g in kids], dtype=object)
    for gid, c, g in sorted(zip(kids, kc, kk.geometry.values), key=lambda t: t[0]):
        kept_by.setdefault(c, []).append((gid, g))
    return kept_by


def _stop_if_datum_mixup(
    hh_m: gpd.GeoDataFrame, comm_m: gpd.GeoDataFrame, still: np.ndarray, hh_wgs: gpd.GeoSeries | None
) -> None:
    """Rows outside every community are rejects, planned without; the run stops only when so
    many are outside that a coordinate mix-up is likely (all of them, or GCJ-02/BD-09 points
    read as WGS-84), and then says so."""
    from gridplan.io.coords import detect_web_offset
    from gridplan.io.join import outside_all
    from gridplan.io.problems import ROW_NUMBERS, number_rows

    outside = np.zeros(len(hh_m), dtype=bool)
    outside[still] = True
    tree = shapely.STRtree(comm_m.geometry.to_crs(4326).values)

    points = gpd.GeoSeries(_wgs84(hh_m.geometry, hh_wgs), crs=4326)
    guess = detect_web_offset(points, outside, lambda x, y: outside_all(x, y, tree))
    if guess is None and len(still) < len(hh_m):
        return
    hint = (
        f"read the households with --coords {guess.system}"
        if guess
        else ("check that households and communities cover the same area and coordinate system")
    )
    raise InputError(
        f"{len(still)} of {len(hh_m)} household rows lie outside every community (more than "
        f"{COMMUNITY_SNAP_M:g} m away)"
        + (f"; {guess.fixed_share:.0%} of them fall inside as {guess.label} coordinates" if guess else ""),
        file="households",
        rows=still,
        row_numbers=number_rows(hh_m.attrs.get(ROW_NUMBERS), still.tolist()),
        fix=hint,
        message_zh=f"{len(still)}/{len(hh_m)} 条住户记录不在任何社区范围内",
        fix_zh=f"请使用 --coords {guess.system} 读取户点"
        if guess
        else "请检查户点与社区是否为同一区域、同一坐标系",
    )


def outside_rejects(
    households: gpd.GeoDataFrame, outside: np.ndarray, hh_count: np.ndarray, report: dict
) -> gpd.GeoDataFrame | None:
    """The rows outside every community, numbered as the user's file numbers them, with their
    reason; counted in ``report["total"]`` (``rejected_rows``, ``rejected_households``).

    Parameters
    ----------
    households : GeoDataFrame
        The input rows.
    outside : ndarray of bool
        Rows outside every community (:func:`community_of` gave -1).
    hh_count : ndarray of int
        Households per row.
    report : dict
        The partition's report (its ``total`` is updated).

    Returns
    -------
    GeoDataFrame or None
        None when every row is inside a community.
    """
    report["total"]["rejected_rows"] = int(outside.sum())
    report["total"]["rejected_households"] = int(hh_count[outside].sum())
    if not outside.any():
        return None
    from gridplan.io.problems import ROW_NUMBERS, number_rows

    pos = np.flatnonzero(outside)
    out = households.iloc[pos].copy()
    out.insert(0, "row", number_rows(households.attrs.get(ROW_NUMBERS), pos.tolist()))
    out.insert(1, "reason", f"outside every community (more than {COMMUNITY_SNAP_M:g} m away)")
    return out


def in_crs(gdf: gpd.GeoDataFrame | pd.DataFrame | None, crs) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """A layer in ``crs``, reprojected once for every stage that reads it.

    Parameters
    ----------
    gdf : GeoDataFrame, DataFrame or None
        An input layer.
    crs
        The metric CRS of the partition.

    Returns
    -------
    GeoDataFrame, DataFrame or None
        ``gdf`` in ``crs`` when it has geometry and a CRS; anything else (a table of ids, a layer
        without CRS) as given, for the stage that reads it to check.
    """
    if isinstance(gdf, gpd.GeoDataFrame) and gdf._geometry_column_name in gdf.columns and gdf.crs is not None:
        return gdf.to_crs(crs)
    return gdf
