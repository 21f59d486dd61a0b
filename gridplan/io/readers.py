"""Low-level file reading for gridplan.io.files: one function per format, each returning a GeoDataFrame
in the file's own CRS (or none) plus the Problems found while reading. Errors become Problems with
severity "error"; nothing here raises for bad data except through :func:`fail`.
"""

from __future__ import annotations

import json
import re
import struct
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow
import pyogrio
import pyogrio.errors
import shapely

from gridplan.io.postgis import is_postgis, read_source, source_columns
from gridplan.io.postgis import source_name as postgis_name
from gridplan.io.problems import ROW_NUMBERS, Problem, RowNumbers
from gridplan.io.tables import (
    JSON_BOOLEANS,
    csv_table,
    drop_empty_rows,
    excel_table,
    fail,
    read_csv_layer,
    read_excel_layer,
    table_to_gdf,
)

__all__ = ["read_any", "columns_of", "source_name", "EXTENSIONS", "GDAL_ERRORS", "JSON_BOOLEANS"]


#: What pyogrio/GDAL raise for unreadable or unwritable data (never a bare Exception: a bug in
#: gridplan must surface as a traceback, not as "cannot read the file").
GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
    shapely.errors.GEOSException,  # WKB with unclosed rings, decoded by shapely
    OSError,
    ValueError,
)

EXTENSIONS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shpzip",
    ".shp": "shp",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}


def _name(path: Path) -> str:
    return path.name


def source_name(source) -> str:
    """How messages name an input: the file name, or the table of a ``postgresql://`` source."""
    return postgis_name(source) if is_postgis(source) else Path(source).name


def read_any(path, *, layer=None, lonlat=None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read ``path`` by its extension.

    Parameters
    ----------
    lonlat : tuple of str, optional
        File columns holding longitude and latitude (from the user's column mapping).
    """
    if is_postgis(path):  # a PostGIS table or query: postgresql://host/db?table=...
        problems: list[Problem] = []
        gdf = read_source(path, problems, lonlat=lonlat)
        gdf.attrs.setdefault(ROW_NUMBERS, RowNumbers(range(1, len(gdf) + 1)))
        return drop_empty_rows(gdf, source_name(path), problems), problems
    path = Path(path)
    name = _name(path)
    if not path.exists():
        fail(name, f"file not found: {path}", "check the path", f"找不到文件：{path}", "请检查路径")
    if path.is_dir():
        fail(name, "is a folder, not a file", "give the path of a data file", "这是文件夹，不是文件")
    suffixes = "".join(path.suffixes[-2:]).lower()
    ext = path.suffix.lower()
    if suffixes.endswith(".shp.zip"):
        ext = ".zip"
    if ext in (".osm", ".pbf", ".bz2"):
        fail(
            name,
            "an OpenStreetMap file is not a table of households or boundaries",
            "use `gridplan households --from-osm FILE` to estimate households from buildings",
            "OSM 文件不是户数或边界表",
            "请使用 `gridplan households --from-osm 文件`",
        )
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        fail(
            name,
            f"unsupported file type '{ext or '(no extension)'}'",
            "use GeoJSON (.geojson), GeoPackage (.gpkg), zipped Shapefile (.zip), GeoParquet "
            "(.parquet), CSV (.csv) or Excel (.xlsx)",
            f"不支持的文件类型 '{ext}'",
            "请使用 GeoJSON、GeoPackage、Shapefile 压缩包、GeoParquet、CSV 或 Excel",
        )
    if path.stat().st_size == 0:
        fail(
            name,
            "the file is empty (0 bytes)",
            "export the data again",
            "文件为空（0 字节）",
            "请重新导出数据",
        )
    problems = []
    reader = {
        "geojson": _read_gdal,
        "gpkg": _read_gpkg,
        "shpzip": _read_shp,
        "shp": _read_shp,
        "parquet": _read_parquet,
        "csv": read_csv_layer,
        "excel": read_excel_layer,
    }[fmt]
    gdf = reader(path, name, problems, layer=layer, lonlat=lonlat)
    if fmt not in ("csv", "excel"):  # tables are numbered and cleaned before their geometry
        gdf.attrs.setdefault(ROW_NUMBERS, RowNumbers(range(1, len(gdf) + 1)))
        gdf = drop_empty_rows(gdf, name, problems)
    return gdf, problems


def _read_gdal(path, name, problems, *, layer=None, lonlat=None, source=None, **kw):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(source or path, layer=layer, **kw)
    except GDAL_ERRORS as exc:
        fail(
            name,
            f"cannot read the file as {path.suffix.lstrip('.').upper() or 'data'}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
            "check that the file is complete and that its extension matches its content",
            "无法读取文件",
            "请检查文件是否完整、扩展名是否与内容相符",
        )
    if not isinstance(gdf, gpd.GeoDataFrame):
        fail(
            name,
            "the file holds a table without geometries",
            "add geometries or lon/lat columns",
            "文件中没有几何数据",
        )
    if source is None and path.suffix.lower() in (".geojson", ".json"):
        gdf.attrs[JSON_BOOLEANS] = _json_booleans(path, gdf)
    return gdf


_JSON_BOOL = re.compile(rb'"([^"\\]{1,200})"\s*:\s*(?:true|false)\b')


def _json_booleans(path: Path, gdf: gpd.GeoDataFrame) -> dict[str, list[int]]:
    """Rows where a numeric column holds a JSON boolean that GDAL turned into 1 or 0.

    GDAL types a GeoJSON property holding both numbers and ``true`` as a number column and reads
    ``true`` as 1: a household count of "true" would silently become one household. A byte scan
    finds such properties; only then is the file parsed again to name the rows.
    """
    keys = {m.decode("utf-8", "replace") for m in _JSON_BOOL.findall(path.read_bytes())}
    numeric = [
        k
        for k in keys
        if k in gdf.columns
        and pd.api.types.is_numeric_dtype(gdf[k].dtype)
        and not pd.api.types.is_bool_dtype(gdf[k].dtype)
    ]
    if not numeric:
        return {}
    try:
        features = json.loads(path.read_text("utf-8")).get("features", [])
    except (ValueError, AttributeError):
        return {}
    if len(features) != len(gdf):
        return {}
    props = [(f or {}).get("properties") or {} for f in features]
    return {k: [i for i, p in enumerate(props) if isinstance(p.get(k), bool)] for k in numeric}


def _read_gpkg(path, name, problems, *, layer=None, lonlat=None):
    if layer is None:
        try:
            layers = pyogrio.list_layers(path)
        except GDAL_ERRORS as exc:
            fail(
                name,
                f"cannot read the file as GeoPackage: {exc}",
                "check that the file is a complete GeoPackage",
                "无法读取 GeoPackage 文件",
            )
        if len(layers) == 0:
            fail(name, "the GeoPackage has no layers", "export the data again", "GeoPackage 中没有图层")
        layer = layers[0][0]
        if len(layers) > 1:
            problems.append(
                Problem(
                    "warning",
                    "several_layers",
                    name,
                    None,
                    [],
                    f"the GeoPackage has {len(layers)} layers "
                    f"({', '.join(str(x) for x in layers[:, 0][:5])}); read the first, '{layer}'",
                    "name the layer with layer=... (Python) or --layer (convert)",
                    f"GeoPackage 有 {len(layers)} 个图层，已读取第一个 '{layer}'",
                )
            )
    return _read_gdal(path, name, problems, layer=layer)


def _dbf_records_encoding(dbf: bytes) -> str | None:
    """Guess the text encoding of a .dbf's records: None if ASCII, else "UTF-8" or "GB18030".

    Hand-written because GDAL falls back to ISO-8859-1 without a .cpg, and no library sniffs
    Chinese .dbf encodings. The header length is the little-endian uint16 at byte 8.
    """
    if len(dbf) < 32:
        return None
    header_len = struct.unpack("<H", dbf[8:10])[0]
    body = dbf[header_len:]
    if body.isascii():
        return None
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return None


def _read_shp(path, name, problems, *, layer=None, lonlat=None):
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = zf.namelist()
                shps = sorted(m for m in members if m.lower().endswith(".shp"))
                if not shps:
                    fail(
                        name,
                        "the zip file holds no .shp file",
                        "zip the .shp together with its .shx, .dbf, .prj (and .cpg) files",
                        "压缩包中没有 .shp 文件",
                        "请将 .shp、.shx、.dbf、.prj（及 .cpg）一起压缩",
                    )
                shp = shps[0]
                if layer is not None:
                    match = [m for m in shps if Path(m).stem == layer]
                    if match:
                        shp = match[0]
                stem = shp[:-4]
                lower = {m.lower(): m for m in members}
                has_cpg = (stem + ".cpg").lower() in lower
                dbf_name = lower.get((stem + ".dbf").lower())
                dbf = zf.read(dbf_name) if dbf_name else b""
        except zipfile.BadZipFile:
            fail(
                name,
                "the file is not a valid zip archive",
                "zip the shapefile's files again",
                "不是有效的 zip 压缩包",
                "请重新压缩 Shapefile 文件",
            )
        source = f"/vsizip/{path.resolve()}/{shp}"
    else:
        stem_path = path.with_suffix("")
        has_cpg = any(stem_path.with_suffix(s).exists() for s in (".cpg", ".CPG"))
        dbf_path = next(
            (stem_path.with_suffix(s) for s in (".dbf", ".DBF") if stem_path.with_suffix(s).exists()), None
        )
        dbf = dbf_path.read_bytes() if dbf_path else b""
        source = str(path)
    kw = {}
    if not has_cpg:
        enc = _dbf_records_encoding(dbf)
        if enc is not None:
            kw["encoding"] = enc
            if enc != "UTF-8":
                problems.append(
                    Problem(
                        "warning",
                        "dbf_encoding_guessed",
                        name,
                        None,
                        [],
                        f"the shapefile has no .cpg file; its text was read as {enc} (GBK)",
                        "add a .cpg file containing the encoding (e.g. GBK or UTF-8) to be sure",
                        f"Shapefile 缺少 .cpg 文件，已按 {enc}（GBK）读取文字",
                        "请添加写有编码（如 GBK 或 UTF-8）的 .cpg 文件",
                    )
                )
    return _read_gdal(path, name, problems, source=source, **kw)


def _read_parquet(path, name, problems, *, layer=None, lonlat=None):
    try:
        return gpd.read_parquet(path)
    except ValueError as exc:
        if "geo" not in str(exc).lower():
            fail(
                name,
                f"cannot read the file as GeoParquet: {exc}",
                "check that the file is complete",
                "无法读取 GeoParquet 文件",
            )
    except (pyarrow.ArrowException, OSError, shapely.errors.GEOSException) as exc:
        fail(
            name,
            f"cannot read the file as Parquet: {str(exc)[:200]}",
            "check that the file is complete and really Parquet",
            "无法读取 Parquet 文件",
        )
    # Plain Parquet without geo metadata: a table with lon/lat or WKT columns.
    df = pd.read_parquet(path)
    return table_to_gdf(df, name, problems, lonlat=lonlat)


def columns_of(path, *, layer=None) -> list[str]:
    """The column names a reader will see in ``path``: after the encoding, the separator and
    any title rows above the header are found, exactly as :func:`read_any` reads the file.

    Raises
    ------
    InputError
        The file cannot be read (the same message as :func:`read_any`).
    """
    if is_postgis(path):
        return source_columns(path)
    path = Path(path)
    name = _name(path)
    fmt = EXTENSIONS.get(path.suffix.lower())
    problems: list[Problem] = []
    if fmt == "csv":
        return [str(c).strip() for c in csv_table(path, name, problems).columns]
    if fmt == "excel":
        return [str(c).strip() for c in excel_table(path, name, problems, layer=layer).columns]
    if fmt in ("geojson", "gpkg") and path.exists():
        # field names only: GDAL decodes them from the file's declared (UTF-8) encoding
        try:
            return [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]
        except GDAL_ERRORS:
            pass  # read_any below reports the file with the reader's own message
    gdf, _ = read_any(path, layer=layer)
    return [str(c) for c in gdf.columns if c != gdf.geometry.name]
