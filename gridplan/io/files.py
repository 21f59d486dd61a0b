"""Read and write every format of the data contract.

Readers return GeoDataFrames in EPSG:4326 with the contract's column names and dtypes (ids as
strings, ``households`` as int64 >= 1). Bad input raises :class:`gridplan.errors.InputError` naming
the file, column, rows and the fix; repairs and guesses are issued as warnings
(:class:`gridplan.errors.RepairWarning` / :class:`gridplan.errors.GridplanWarning`).

Writers choose the format by extension and write atomically (temporary file, then rename).

Formats: GeoJSON, GeoPackage, zipped Shapefile (read only), GeoParquet, CSV and Excel with
longitude/latitude columns (``lon``/``lat``, ``lng``, ``longitude``/``latitude``, ``经度``/``纬度``,
``x``/``y``), CSV in UTF-8, UTF-8 with BOM or GBK.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gridplan.errors import InputError, OutputError
from gridplan.io.atomic import atomic_path
from gridplan.io.coords import COORD_SYSTEMS, convert_gdf
from gridplan.io.problems import ROW_NUMBERS, Problem, emit_warnings, raise_first_error
from gridplan.io.readers import GDAL_ERRORS, JSON_BOOLEANS, columns_of, read_any, source_name
from gridplan.io.schema import KINDS, conform, mappable_fields

__all__ = [
    "read_layer",
    "read_households",
    "read_communities",
    "read_facilities",
    "read_buildings",
    "read_estates",
    "read_barriers",
    "read_checked",
    "split_columns",
    "pick_layer",
    "write",
    "WRITE_FORMATS",
    "GEOJSON_PRECISION",
    "GPKG_DATE",
    "gdal_config",
    "write_geojson_file",
    "write_layers",
]

# pyogrio logs "Created N records" at INFO, which the CLI's INFO logging would print on every write.
logging.getLogger("pyogrio").setLevel(logging.WARNING)

#: Decimal places of coordinates in GeoJSON and CSV output (7 decimals ~ 1 cm).
GEOJSON_PRECISION = 7
WRITE_FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".csv": "csv",
}
#: Fixed GeoPackage timestamp so that the same data gives the same bytes.
GPKG_DATE = "2000-01-01T00:00:00.000Z"


def read_checked(
    path, kind: str, *, columns: dict | None = None, coords: str = "wgs84", layer: str | None = None, crs=None
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Read and conform one file, returning the frame (None if unreadable) and every Problem.

    Never raises for bad data; :func:`read_layer` is the raising variant. A mapping entry whose
    column is not in the file (after title rows are skipped) is an error, never dropped; split
    one mapping over several files with :func:`split_columns` first.

    Problems name rows both ways: ``rows``, 0-based positions in the frame, and ``row_numbers``,
    as the user's program numbers them (which messages show). The frame carries the latter in
    ``attrs[ROW_NUMBERS]``; fully empty rows are dropped (with a note).
    """
    if kind not in KINDS:
        raise InputError(
            f"unknown layer kind '{kind}'",
            fix=f"use one of {', '.join(KINDS)}",
            message_zh=f"未知的数据类型 '{kind}'",
        )
    coords = str(coords).lower()
    if coords not in COORD_SYSTEMS:
        raise InputError(
            f"unknown coordinate system '{coords}'",
            fix="use wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu)",
            message_zh=f"未知坐标系 '{coords}'",
        )
    name = source_name(path)  # a file's name, or "table T in postgresql://host:port/db"
    columns = dict(columns or {})
    lonlat = None
    if "lon" in columns or "lat" in columns:
        lonlat = (columns.pop("lon", "lon"), columns.pop("lat", "lat"))
    try:
        if layer is None:
            layer = pick_layer(path, kind)
        raw, problems = read_any(path, layer=layer, lonlat=lonlat)
        raw = _declared_crs(raw, path, crs)
    except InputError as exc:
        return None, [
            Problem(
                "error",
                "unreadable",
                exc.file or name,
                exc.column,
                exc.rows,
                exc.message,
                exc.fix or "",
                exc.message_zh or "",
                exc.fix_zh or "",
                exc.row_numbers,
            )
        ]
    raw = _mapped(raw, columns, name, problems)
    projected = raw.crs is not None and not CRS.from_user_input(raw.crs).is_geographic
    numbers = raw.attrs.get(ROW_NUMBERS)
    gdf, more = conform(raw, kind, name, numbers=numbers)
    problems += more
    gdf.attrs[ROW_NUMBERS] = numbers
    if any(p.severity == "error" for p in problems):
        return (gdf if len(gdf.columns) else None), problems
    if coords != "wgs84":
        if projected:
            problems.append(
                Problem(
                    "warning",
                    "coords_ignored",
                    name,
                    None,
                    [],
                    f"--coords {coords} ignored: the file has a projected CRS, and GCJ-02/BD-09 only "
                    "apply to longitude/latitude",
                    "",
                    f"文件为投影坐标系，忽略 --coords {coords}",
                )
            )
        else:
            gdf = convert_gdf(gdf, coords, "wgs84")
    return gdf, problems


def _mapped(raw: gpd.GeoDataFrame, columns: dict, name: str, problems: list[Problem]) -> gpd.GeoDataFrame:
    """``raw`` with each mapped file column copied to its contract field; a mapped column that
    is not in the file is an error (never dropped)."""
    raw = raw.copy()
    raw.columns = [str(c) for c in raw.columns]
    for fld, col in columns.items():
        if col not in raw.columns:
            problems.append(
                Problem(
                    "error",
                    "mapped_column_missing",
                    name,
                    col,
                    [],
                    f"column '{col}' (mapped to '{fld}') is not in the file; its columns are "
                    f"{', '.join(c for c in raw.columns if c != raw.geometry.name)}",
                    "check the spelling of --map / columns=",
                    f"指定给 '{fld}' 的列 '{col}' 不在文件中",
                    "请检查 --map 中的列名",
                )
            )
            continue
        if fld != col:
            raw[fld] = raw[col]
            flagged = raw.attrs.get(JSON_BOOLEANS, {})
            if col in flagged:
                flagged[fld] = flagged[col]
    return raw


def split_columns(
    columns: dict[str, str], paths: dict[str, str | os.PathLike], layers: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """Split one field -> column mapping (one ``--map`` for several files) by file.

    An entry applies to every file whose layer takes the field and that has the column, as the
    reader sees the columns (encoding decided, title rows skipped: :func:`columns_of`). An entry
    that fits no file is an error: a dropped mapping would silently count one household per row.

    Parameters
    ----------
    columns : dict
        Contract field -> file column.
    paths : dict
        Layer kind (``households``, ``communities``, ...) -> file.
    layers : dict, optional
        Layer kind -> GeoPackage layer or Excel sheet (default: :func:`pick_layer`).

    Returns
    -------
    dict
        Layer kind -> its own mapping (possibly empty), for every kind in ``paths``.

    Raises
    ------
    InputError
        An entry names a column that no file taking the field has; or a file cannot be read.
    """
    out: dict[str, dict[str, str]] = {kind: {} for kind in paths}
    if not columns:
        return out
    layers = dict(layers or {})
    found = {
        kind: set(columns_of(path, layer=layers.get(kind) or pick_layer(path, kind)))
        for kind, path in paths.items()
    }
    for fld, col in columns.items():
        kinds = [k for k in paths if fld in mappable_fields(k)]
        hits = [k for k in kinds if col in found[k]]
        if not hits:
            files = ", ".join(source_name(paths[k]) for k in kinds) or ", ".join(
                source_name(p) for p in paths.values()
            )
            cols = "; ".join(f"{source_name(paths[k])}: {', '.join(sorted(found[k]))}" for k in kinds)
            raise InputError(
                f"--map {fld}={col}: no input file that takes '{fld}' has a column '{col}'"
                + (f" (columns: {cols})" if cols else f" ('{fld}' is not a field of these layers)"),
                file=files,
                column=col,
                fix="check the spelling of the column in --map (it is case-sensitive)",
                message_zh=f"--map {fld}={col}：输入文件中没有列 '{col}'",
                fix_zh="请检查 --map 中的列名（区分大小写）",
            )
        for k in hits:
            out[k][fld] = col
    return out


def read_layer(
    path, kind: str, *, columns: dict | None = None, coords: str = "wgs84", layer: str | None = None, crs=None
) -> gpd.GeoDataFrame:
    """Read one input file of ``kind`` into a contract GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path : str or path-like
        GeoJSON, GeoPackage, zipped Shapefile (.zip) or .shp, GeoParquet, CSV or XLSX; or a
        PostGIS table or query, ``postgresql://host:port/db?table=NAME`` (``?sql=SELECT ...``;
        credentials from the environment, see :mod:`gridplan.io.postgis`).
    kind : {"households", "communities", "facilities", "buildings", "estates", "barriers"}
    columns : dict, optional
        Contract field -> file column, e.g. ``{"community_id": "SQMC", "name": "SQMC"}``; one
        file column may feed several fields. ``lon``/``lat`` name the coordinate columns of a
        table.
    coords : {"wgs84", "gcj02", "bd09"}
        Coordinate system of longitude/latitude inputs; converted to WGS-84 after reading.
    layer : str, optional
        GeoPackage layer, Excel sheet or shapefile name inside a zip. Without it, a GeoPackage
        is read from its one layer of the kind's geometry type (:func:`pick_layer`).
    crs : optional
        Coordinate system of a table's x/y columns (e.g. ``"EPSG:4548"``, CGCS2000 Gauss-Kruger
        metres), or of a GIS file that declares none. Default: longitude/latitude degrees.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    gridplan.errors.InputError
        Unreadable file, missing columns, bad values or geometries (all named in the message).
    """
    gdf, problems = read_checked(path, kind, columns=columns, coords=coords, layer=layer, crs=crs)
    raise_first_error(problems)
    emit_warnings(problems, stacklevel=3)
    return gdf


#: The geometry types of each kind's layer, as GDAL names them.
_LAYER_TYPES = {
    "households": ("Point", "MultiPoint"),
    "facilities": ("Point", "MultiPoint", "Polygon", "MultiPolygon"),
    "barriers": ("LineString", "MultiLineString"),
}


def pick_layer(path, kind: str) -> str | None:
    """The GeoPackage layer to read for ``kind`` when the user named none.

    The only layer; else the only one of the kind's geometry type (points for households,
    polygons for communities, ...). ``None`` for other formats.

    Raises
    ------
    InputError
        Several layers fit (they are listed, with ``--layer`` as the fix).
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or not path.exists():
        return None
    try:
        layers = pyogrio.list_layers(path)
    except GDAL_ERRORS:
        return None  # the reader reports the file
    if len(layers) <= 1:
        return None
    wanted = _LAYER_TYPES.get(kind, ("Polygon", "MultiPolygon"))
    fits = [str(n) for n, g in layers if str(g).replace(" Z", "") in wanted]
    if len(fits) == 1:
        return fits[0]
    listed = ", ".join(f"{n} ({g})" for n, g in layers)
    raise InputError(
        f"the GeoPackage has {len(layers)} layers and {len(fits) or 'none'} of them fit {kind}: {listed}",
        file=path.name,
        fix=f"name the layer: --layer {kind}=LAYER (layer= in Python)",
        message_zh=f"GeoPackage 有 {len(layers)} 个图层，无法确定 {kind} 用哪一个：{listed}",
        fix_zh=f"请用 --layer {kind}=图层名 指定",
    )


def _declared_crs(raw: gpd.GeoDataFrame, path, crs) -> gpd.GeoDataFrame:
    """Apply a user-declared CRS: to a table's x/y columns (read as degrees), or to a GIS file
    without one. A GIS file that declares another CRS is refused rather than guessed."""
    if crs is None:
        return raw
    declared = CRS.from_user_input(crs)
    table = Path(path).suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm", ".xls")
    if table or raw.crs is None:
        return raw.set_crs(declared, allow_override=True).to_crs(4326)
    if not CRS.from_user_input(raw.crs).equals(declared):
        raise InputError(
            f"the file declares {CRS.from_user_input(raw.crs).name}, not {declared.name}",
            file=source_name(path),
            fix="drop --crs for this file (its own CRS is used)",
            message_zh="文件自带的坐标系与 --crs 不一致",
        )
    return raw


def _reader(kind: str):
    def read(
        path, *, columns: dict | None = None, coords: str = "wgs84", layer: str | None = None, crs=None
    ) -> gpd.GeoDataFrame:
        gdf, problems = read_checked(path, kind, columns=columns, coords=coords, layer=layer, crs=crs)
        raise_first_error(problems)
        emit_warnings(problems, stacklevel=3)  # point at the caller's line
        return gdf

    read.__name__ = f"read_{kind}"
    read.__qualname__ = read.__name__
    read.__doc__ = (
        f"Read {kind} (see :func:`read_layer` for the parameters).\n\n"
        "Returns\n-------\ngeopandas.GeoDataFrame\n    EPSG:4326, contract columns.\n"
    )
    return read


read_households = _reader("households")
read_communities = _reader("communities")
read_facilities = _reader("facilities")
read_buildings = _reader("buildings")
read_estates = _reader("estates")
read_barriers = _reader("barriers")


# --- writers ----------------------------------------------------------------------------------


def write(gdf: gpd.GeoDataFrame, path, *, layer: str | None = None) -> Path:
    """Write ``gdf`` to ``path``, the format chosen by extension, atomically.

    - ``.geojson``: RFC 7946 (WGS-84, no ``crs`` member, counter-clockwise exteriors and
      clockwise holes, 7 decimals), same bytes for the same data.
    - ``.gpkg``: GeoPackage, layer ``layer`` (default: the file stem), CRS kept.
    - ``.parquet``: GeoParquet, CRS kept.
    - ``.csv``: UTF-8 with BOM (Excel opens Chinese correctly); ``lon``/``lat`` columns for
      point layers, a WKT ``geometry`` column otherwise; WGS-84.

    Parameters
    ----------
    gdf : GeoDataFrame
    path : str or path-like
    layer : str, optional
        GeoPackage layer name.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    fmt = WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot write '{path.suffix or path.name}' files",
            file=path.name,
            fix="use .geojson, .gpkg, .parquet or .csv as the output extension",
            message_zh=f"不支持输出为 '{path.suffix}' 文件",
            fix_zh="输出文件扩展名请使用 .geojson、.gpkg、.parquet 或 .csv",
        )
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            "only GeoDataFrames can be written", file=path.name, fix="pass a geopandas.GeoDataFrame"
        )
    if gdf.crs is None:
        raise InputError(
            "the data has no CRS", file=path.name, fix="set one with gdf.set_crs(...) before writing"
        )
    out = _prepare(gdf)
    with atomic_path(path) as tmp:
        if fmt == "geojson":
            write_geojson_file(out, tmp, path.stem)
        elif fmt == "gpkg":
            with gdal_config({"OGR_CURRENT_DATE": GPKG_DATE}):
                pyogrio.write_dataframe(out, tmp, driver="GPKG", layer=layer or path.stem)
        elif fmt == "parquet":
            out.to_parquet(tmp, index=False)
        else:
            _write_csv(out, tmp)
    return path


def write_layers(layers: Mapping[str, pd.DataFrame | None], path: str | os.PathLike) -> Path:
    """Write several layers (and plain tables) to one GeoPackage, replacing ``path`` only when
    every layer is written: the one multi-layer writer (exports, saved plans).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or DataFrame
        Layer name -> data; ``None`` and empty layers are skipped. A DataFrame without geometry
        becomes an attribute table.
    path : path-like
        The ``.gpkg`` file.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        ``path`` is not a ``.gpkg``.
    OutputError
        GDAL could not write a layer (the file is left as it was).
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InputError(
            f"{path} is not a .gpkg file",
            fix="name the GeoPackage *.gpkg",
            message_zh="GeoPackage 文件名应以 .gpkg 结尾",
        )
    with gdal_config({"OGR_CURRENT_DATE": GPKG_DATE}), atomic_path(path) as tmp:
        for name, frame in layers.items():
            if frame is None or len(frame) == 0:
                continue
            try:
                _write_gpkg_layer(frame, tmp, name)
            except GDAL_ERRORS as exc:
                raise OutputError(
                    f"cannot write layer '{name}' to {path}: {exc}",
                    fix="check the folder is writable and has space",
                ) from exc
    return path


def _write_gpkg_layer(frame: pd.DataFrame, tmp: Path, name: str) -> None:
    frame = frame.copy()
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for col in frame.columns:
        # A GeoPackage column has one type: mixed cells (None beside numbers) go as text.
        if (
            col != geometry
            and frame[col].dtype == object
            and not frame[col].map(lambda v: v is None or isinstance(v, (str, bool))).all()
        ):
            frame[col] = frame[col].map(lambda v: None if v is None or v is pd.NA else str(v))
    if not isinstance(frame, gpd.GeoDataFrame):
        pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
        return
    types = set(frame.geometry.geom_type.dropna())
    # single and multi parts stay as they are, so a layer reads back exactly as written
    geometry_type = types.pop() if len(types) == 1 else "Unknown"
    pyogrio.write_dataframe(
        frame, tmp, layer=name, driver="GPKG", geometry_type=geometry_type, promote_to_multi=False
    )


class gdal_config:
    """Set GDAL config options for the duration of a block (restored afterwards)."""

    def __init__(self, options: dict) -> None:
        self.options = options

    def __enter__(self):
        self.old = {k: pyogrio.get_gdal_config_option(k) for k in self.options}
        pyogrio.set_gdal_config_options(self.options)

    def __exit__(self, *exc):
        pyogrio.set_gdal_config_options(self.old)


def _prepare(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if out.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    out = out.reset_index(drop=True)
    # Nullable and pandas-3 string columns are written as plain types every driver knows.
    for c in out.columns:
        if c == "geometry":
            continue
        dt = out[c].dtype
        if isinstance(dt, pd.CategoricalDtype):
            out[c] = out[c].astype("str")
        elif pd.api.types.is_object_dtype(dt):
            kinds = out[c].dropna().map(type).unique()
            if len(kinds) > 1:
                # Mixed cells (12 and "12户") cannot be typed by Arrow/GDAL: write them as text.
                out[c] = out[c].astype("string").astype("str")
    return out


def write_geojson_file(gdf: gpd.GeoDataFrame, tmp: Path, name: str) -> None:
    """Write RFC 7946 GeoJSON (WGS-84, rings oriented, 7 decimals) to ``tmp``: the one GeoJSON
    writer, used by :func:`write` and by the sample generator."""
    gdf = gdf.to_crs(4326) if not CRS.from_user_input(gdf.crs).equals(CRS.from_epsg(4326)) else gdf
    geoms = np.asarray(gdf.geometry.values)
    # RFC 7946: exterior rings counter-clockwise, holes clockwise.
    gdf = gdf.set_geometry(shapely.orient_polygons(geoms, exterior_cw=False))
    pyogrio.write_dataframe(
        gdf,
        tmp,
        driver="GeoJSON",
        layer=name,
        RFC7946="YES",
        COORDINATE_PRECISION=GEOJSON_PRECISION,
        WRITE_NAME="NO",
        WRITE_BBOX="NO",
    )


def _write_csv(gdf: gpd.GeoDataFrame, tmp: Path) -> None:
    if not CRS.from_user_input(gdf.crs).equals(CRS.from_epsg(4326)):
        gdf = gdf.to_crs(4326)
    geoms = np.asarray(gdf.geometry.values)
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    types = shapely.get_type_id(geoms)
    present = ~shapely.is_missing(geoms)
    if present.any() and (types[present] == 0).all():
        xy = np.full((len(geoms), 2), np.nan)
        empty = shapely.is_empty(geoms)
        ok = present & ~empty
        xy[ok] = shapely.get_coordinates(geoms[ok])
        df["lon"] = np.round(xy[:, 0], GEOJSON_PRECISION)
        df["lat"] = np.round(xy[:, 1], GEOJSON_PRECISION)
    else:
        df["geometry"] = shapely.to_wkt(geoms, rounding_precision=GEOJSON_PRECISION, trim=True)
    df.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n", float_format=None)


def write_json(obj, path) -> Path:
    """Write a JSON report: UTF-8 (Chinese as is), sorted keys, two-space indent, final newline.

    The same object always gives the same bytes, so reruns can be compared file by file.
    """
    import json

    path = Path(path)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    return path
