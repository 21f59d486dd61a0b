"""Bring one table to the data contract: column names, dtypes, CRS, geometry types.

Used by the readers (which raise on the first error) and by gridplan.io.validate (which collects every
problem). Never raises for bad data: it returns the best frame it can and a list of Problems.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from gridplan.io.fields import Kinds, facility_points, header_key, row_positions, to_id
from gridplan.io.problems import Problem, number_rows

__all__ = ["KINDS", "SCHEMAS", "conform", "china_box_share", "CHINA_BOX", "mappable_fields"]

KINDS = ("households", "communities", "facilities", "buildings", "estates", "barriers")

#: lon_min, lat_min, lon_max, lat_max of mainland China and its near seas (a generous box).
CHINA_BOX = (73.0, 17.0, 136.0, 54.0)


SCHEMAS: dict[str, dict] = {
    "households": dict(
        geom=("Point",),
        order=["households", "population", "building_id", "estate_id", "community_id"],
        ids=["building_id", "estate_id", "community_id"],
        required_ids=[],
    ),
    "communities": dict(
        geom=("Polygon", "MultiPolygon"),
        order=["community_id", "name", "street_id", "street_name"],
        ids=["community_id", "street_id"],
        required_ids=["community_id"],
        unique="community_id",
    ),
    "facilities": dict(
        geom=("Point",),
        order=["facility_id", "name", "kind", "area_m2", "community_id"],
        ids=["facility_id", "community_id"],
        required_ids=["facility_id"],
        unique="facility_id",
    ),
    "buildings": dict(
        geom=("Polygon", "MultiPolygon"),
        order=["building_id", "estate_id", "levels", "households", "name", "kind"],
        ids=["building_id", "estate_id"],
        required_ids=[],
        unique="building_id",
    ),
    "estates": dict(
        geom=("Polygon", "MultiPolygon"),
        order=["estate_id", "name", "community_id"],
        ids=["estate_id", "community_id"],
        required_ids=["estate_id"],
        unique="estate_id",
    ),
    "barriers": dict(
        geom=("LineString", "MultiLineString"),
        order=["kind", "name"],
        ids=[],
        required_ids=[],
    ),
}


def mappable_fields(kind: str) -> tuple[str, ...]:
    """The contract fields a user may map to a file column for ``kind`` (``--map FIELD=COLUMN``,
    the app's column step): the layer's fields, plus ``lon``/``lat`` for point layers."""
    spec = SCHEMAS[kind]
    extra = ("grid_id",) if kind == "households" else ()  # a previous plan's assignment
    return tuple(spec["order"]) + extra + (("lon", "lat") if spec["geom"] == ("Point",) else ())


#: Column names planners' systems use for a contract field: the one list, read when the field
#: itself is absent. Headers are compared case-insensitively and without a trailing unit in
#: brackets, so ``HOUSEHOLDS`` (Shapefile upper case) and ``户数(户)`` / ``户数（户）`` match.
ALIASES = {
    "households": (
        "households",
        "户数",
        "总户数",
        "住户数",
        "户数合计",
        "合计户数",
        "居民户数",
        "实有户数",
        "家庭户数",
        "hh",
        "n_households",
        "household",
        "hh_count",
    ),
    "population": ("population", "人口", "人数", "总人口", "人口数", "实有人口", "pop"),
    "name": ("name", "名称", "name_zh"),
    "levels": ("levels", "层数", "floors", "building:levels"),
    # not "type": web-map POI exports carry their own category there (政府机构及社会团体;...)
    "kind": ("kind", "类型", "设施类型", "级别"),
}


def china_box_share(x: np.ndarray, y: np.ndarray) -> float:
    """Share of finite (x, y) pairs inside :data:`CHINA_BOX`."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return 0.0
    x, y = x[ok], y[ok]
    inside = (x >= CHINA_BOX[0]) & (x <= CHINA_BOX[2]) & (y >= CHINA_BOX[1]) & (y <= CHINA_BOX[3])
    return float(inside.mean())


def conform(
    gdf, kind: str, file: str | None = None, *, numbers: Sequence[int] | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Contract column names/dtypes, EPSG:4326 and valid geometries for one ``kind`` of table.

    Parameters
    ----------
    gdf : GeoDataFrame
        Columns already renamed with the user's mapping.
    kind : str
        One of :data:`KINDS`.
    file : str, optional
        Name used in messages.
    numbers : sequence of int, optional
        The file's number of every row, as messages name them
        (:data:`gridplan.io.problems.ROW_NUMBERS`); without it, 0-based positions.

    Returns
    -------
    (GeoDataFrame, list of Problem)
    """
    schema = SCHEMAS[kind]
    problems: list[Problem] = []

    def add(severity, code, message, *, column=None, rows=(), fix="", message_zh="", fix_zh=""):
        rows = list(rows)
        problems.append(
            Problem(
                severity,
                code,
                file,
                column,
                rows,
                message,
                fix,
                message_zh,
                fix_zh,
                number_rows(numbers, rows),
            )
        )

    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        add(
            "error",
            "no_geometry",
            "the table has no geometry column",
            fix="give a GeoDataFrame or a file with geometries or lon/lat columns",
            message_zh="数据没有几何列",
            fix_zh="请提供带几何或经纬度列的数据",
        )
        return gpd.GeoDataFrame(), problems
    gdf = gdf.copy()
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    gdf.columns = [str(c) for c in gdf.columns]
    if len(gdf) == 0:
        add(
            "error",
            "empty_file",
            f"no {kind} in the file (0 rows)",
            fix=f"check that this is the right file for {kind}",
            message_zh=f"文件中没有{kind}数据（0行）",
            fix_zh="请检查文件是否正确",
        )
        return gdf, problems

    gdf = _conform_crs(gdf, kind, add)
    if gdf is None:
        return gpd.GeoDataFrame(), problems
    _conform_geometry(gdf, kind, schema, add)

    _conform_columns(gdf, schema, add)
    if schema.get("unique") in gdf.columns:
        _check_unique(gdf[schema["unique"]], add, numbers)
    getattr(Kinds, kind)(gdf, add)

    order = [c for c in schema["order"] if c in gdf.columns]
    rest = [c for c in gdf.columns if c not in order and c != "geometry"]
    gdf = gdf[order + rest + ["geometry"]]
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=4326), problems


def _conform_columns(gdf: gpd.GeoDataFrame, schema: dict, add) -> None:
    """Aliased columns (户数 -> households) where the contract column is absent; ids as text;
    required ids present and filled. Mutates ``gdf``."""
    for fld, names in ALIASES.items():
        if fld in schema["order"] and fld not in gdf.columns:
            hit = [c for c in gdf.columns if header_key(c) in names]
            if len(hit) == 1:
                gdf[fld] = gdf[hit[0]]
                add(
                    "warning",
                    "column_alias",
                    f"column '{hit[0]}' used as '{fld}'",
                    column=fld,
                    fix=f"rename the column to '{fld}' or pass --map {fld}={hit[0]}",
                    message_zh=f"列 '{hit[0]}' 被当作 '{fld}' 使用",
                )

    for col in schema["ids"]:
        if col in gdf.columns:
            gdf[col] = to_id(gdf[col])
    for col in schema["required_ids"]:
        if col not in gdf.columns:
            add(
                "error",
                "missing_column",
                f"required column '{col}' is missing; the file has "
                f"columns {', '.join(c for c in gdf.columns if c != 'geometry') or '(none)'}",
                column=col,
                fix=f"add a '{col}' column or map one with --map {col}=COLUMN (columns={{...}} in Python)",
                message_zh=f"缺少必需的列 '{col}'",
                fix_zh=f"添加 '{col}' 列，或用 --map {col}=列名 指定",
            )
            continue
        null = gdf[col].isna().to_numpy()
        if null.any():
            add(
                "error",
                "missing_id",
                f"{int(null.sum())} row(s) have no {col}",
                column=col,
                rows=row_positions(null),
                fix=f"fill in {col} for these rows",
                message_zh=f"{int(null.sum())} 行缺少 {col}",
                fix_zh=f"请为这些行填写 {col}",
            )


def _check_unique(ids: pd.Series, add, numbers) -> None:
    """An id column whose filled values repeat: the error names each value with its rows."""
    dup = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    if not dup.any():
        return
    pos = pd.Series(np.flatnonzero(dup), index=ids[dup].astype(str).to_numpy())
    groups = [(v, number_rows(numbers, p.to_numpy())) for v, p in pos.groupby(level=0, sort=True)]
    shown = ", ".join(f"{v} (rows {', '.join(map(str, r))})" for v, r in groups[:5])
    shown_zh = "，".join(f"{v}（第 {'、'.join(map(str, r))} 行）" for v, r in groups[:5])
    more = f" and {len(groups) - 5} more" if len(groups) > 5 else ""
    col = ids.name
    add(
        "error",
        "duplicate_id",
        f"{col} values are not unique: {shown}{more}",
        column=col,
        fix=f"give every row its own {col} (or map a unique column with --map {col}=COLUMN)",
        message_zh=f"{col} 有重复值：{shown_zh}",
        fix_zh=f"请保证每行的 {col} 唯一",
    )


def _conform_crs(gdf, kind, add):
    b = gdf.geometry.bounds.to_numpy()
    finite = np.isfinite(b).all(axis=1)
    xs = np.r_[b[finite, 0], b[finite, 2]]
    ys = np.r_[b[finite, 1], b[finite, 3]]
    geographic = gdf.crs is None or CRS.from_user_input(gdf.crs).is_geographic
    if geographic and finite.any() and china_box_share(xs, ys) < 0.5 and china_box_share(ys, xs) > 0.9:
        # lon/lat swapped: a place in China read as (lat, lon). Checked before the degree-range
        # test because a swapped latitude column holds values above 90.
        gdf["geometry"] = shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1])
        xs, ys = ys, xs
        add(
            "repaired",
            "lonlat_swapped",
            "longitude and latitude are swapped (the values only make sense the other way "
            "round in China); swapped them back",
            column="geometry",
            fix="check the lon/lat column order in the source",
            message_zh="经度和纬度颠倒，已自动交换",
            fix_zh="请检查原始数据的经纬度列顺序",
        )
    degrees_like = bool(finite.any()) and (np.abs(xs) <= 180).all() and (np.abs(ys) <= 90).all()
    if gdf.crs is None:
        gdf = _assume_wgs84(gdf, degrees_like and china_box_share(xs, ys) > 0.99, add)
        if gdf is None:
            return None
    try:
        crs = CRS.from_user_input(gdf.crs)
    except CRSError:
        add(
            "error",
            "unknown_crs",
            f"the coordinate reference system '{gdf.crs}' is not understood",
            fix="give the file a standard CRS (an EPSG code) or export it as GeoJSON in WGS-84",
            message_zh="无法识别的坐标系",
        )
        return None
    if crs.is_geographic and finite.any() and not degrees_like:
        big = max(np.abs(xs).max(), np.abs(ys).max())
        add(
            "error",
            "metres_as_degrees",
            f"the file declares longitude/latitude degrees but holds coordinates up to "
            f"{big:,.0f}, which look like metres of a projected system",
            fix=f"a CSV/Excel table of x/y metres: name its CRS with --crs {kind}=EPSG:CODE "
            "(e.g. EPSG:4549, CGCS2000 Gauss-Kruger CM 120E; crs= in Python); a GIS file: "
            "declare its projected CRS (.prj, GeoJSON crs member); or convert it to WGS-84",
            message_zh=f"文件声明为经纬度，但坐标值高达 {big:,.0f}，看似投影坐标（米）",
            fix_zh=f"CSV/Excel 表格请用 --crs {kind}=EPSG:代码 指定坐标系（如 EPSG:4549，"
            "CGCS2000 高斯-克吕格 中央经线 120°）；GIS 文件请声明其投影坐标系，或转换为 WGS-84 经纬度",
        )
        return None
    if not crs.equals(CRS.from_epsg(4326)):
        try:
            gdf = gdf.to_crs(4326)
        except (CRSError, ProjError) as exc:
            add(
                "error",
                "unknown_crs",
                f"cannot transform from {crs.name} to WGS-84: {exc}",
                fix="export the file in WGS-84 (EPSG:4326)",
                message_zh="无法转换到 WGS-84",
            )
            return None
    return gdf


def _assume_wgs84(gdf, in_china_degrees: bool, add):
    """A file without a CRS: WGS-84 when its coordinates are degrees in China (with a warning),
    else an error (None): nothing else can be guessed safely."""
    if in_china_degrees:
        add(
            "warning",
            "crs_assumed_wgs84",
            "no coordinate reference system is declared (.prj missing?); the coordinates look "
            "like degrees in China, so WGS-84 is assumed",
            fix="add the .prj file from the data provider if this is not WGS-84 "
            "(or --coords gcj02/bd09 for web-map coordinates)",
            message_zh="未声明坐标系（缺少 .prj？）；坐标看似中国境内的经纬度，按 WGS-84 处理",
            fix_zh="如不是 WGS-84，请补充数据提供方的 .prj 文件",
        )
        return gdf.set_crs(4326)
    add(
        "error",
        "unknown_crs",
        "no coordinate reference system is declared and the coordinates are not "
        "longitude/latitude degrees in China, so their meaning is unknown",
        fix="add the .prj file (shapefile) or a CRS to the file, or export it as GeoJSON in WGS-84",
        message_zh="未声明坐标系，且坐标不是中国境内的经纬度，无法确定其含义",
        fix_zh="请补充 .prj 文件或坐标系定义，或导出为 WGS-84 的 GeoJSON",
    )
    return None


def _conform_geometry(gdf, kind, schema, add):
    geoms = gdf.geometry.values
    null = np.asarray(geoms.isna()) | np.asarray(shapely.is_empty(np.asarray(geoms)))
    if null.any():
        add(
            "error",
            "empty_geometry",
            f"{int(null.sum())} row(s) have no geometry (missing or empty coordinates)",
            column="geometry",
            rows=row_positions(null),
            fix="fill in the coordinates of these rows or remove them",
            message_zh=f"{int(null.sum())} 行没有几何（坐标缺失或为空）",
            fix_zh="请补全这些行的坐标或删除这些行",
        )
    arr = np.asarray(geoms)
    types = np.asarray(shapely.get_type_id(arr))
    want = schema["geom"]
    # One-point MultiPoints are points in all but name: unwrap them.
    if "Point" in want:
        single = (types == 4) & (shapely.get_num_geometries(arr) == 1)
        if single.any():
            arr = arr.copy()
            arr[single] = shapely.get_geometry(arr[single], 0)
            types = np.asarray(shapely.get_type_id(arr))
    if kind == "facilities":
        arr, types = facility_points(arr, types, null, add)
    ids = {
        "Point": 0,
        "LineString": 1,
        "Polygon": 3,
        "MultiPoint": 4,
        "MultiLineString": 5,
        "MultiPolygon": 6,
    }
    ok_types = [ids[w] for w in want]
    wrong = ~np.isin(types, ok_types) & ~null
    if wrong.any():
        found = sorted(set(shapely.get_type_id(arr[wrong]).tolist()))
        names = {v: k for k, v in ids.items()} | {7: "GeometryCollection", 2: "LinearRing"}
        hint = (
            " (building footprints? use `gridplan households` to turn buildings into household counts)"
            if kind == "households" and 3 in found
            else ""
        )
        add(
            "error",
            "wrong_geometry_type",
            f"{kind} must be {' or '.join(want)} geometries, found "
            f"{', '.join(names.get(t, str(t)) for t in found)}{hint}",
            column="geometry",
            rows=row_positions(wrong),
            fix=f"give a {kind} layer of {'/'.join(want)} geometries",
            message_zh=f"{kind} 的几何类型应为 {'/'.join(want)}",
        )
    if "Polygon" in want:
        invalid = ~np.asarray(shapely.is_valid(arr)) & ~null & ~wrong
        if invalid.any():
            fixed = shapely.make_valid(arr[invalid], method="structure", keep_collapsed=False)
            arr = arr.copy()
            arr[invalid] = fixed
            add(
                "repaired",
                "invalid_geometry",
                f"{int(invalid.sum())} polygon(s) were invalid (self-intersecting, bow-tie, ...) "
                "and were repaired with shapely.make_valid",
                column="geometry",
                rows=row_positions(invalid),
                fix="check these outlines in the source data",
                message_zh=f"{int(invalid.sum())} 个多边形无效（自相交等），已自动修复",
                fix_zh="请在源数据中检查这些边界",
            )
    gdf["geometry"] = gpd.GeoSeries(arr, index=gdf.index, crs=gdf.crs)
