"""Low-level file reading for gridplan.io.files: one function per format, each returning a GeoDataFrame
in the file's own CRS (or none) plus the Problems found while reading. Errors become Problems with
severity "error"; nothing here raises for bad data except through :func:`fail`.
"""

from __future__ import annotations

import csv
import io as _io
import json
import re
import struct
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyogrio
import pyogrio.errors
import shapely

from gridplan.errors import InputError
from gridplan.io.problems import ROW_NUMBERS, Problem, RowNumbers, number_rows

__all__ = ["read_any", "LON_NAMES", "LAT_NAMES", "find_lonlat", "table_to_gdf", "EXTENSIONS"]

LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "东经", "point_x")
LAT_NAMES = ("lat", "latitude", "纬度", "北纬", "point_y")
#: x/y are accepted only when no explicit longitude/latitude column exists.
X_NAMES, Y_NAMES = ("x",), ("y",)
WKT_NAMES = ("geometry", "wkt", "geom", "the_geom")
#: Rows searched for the header line of a spreadsheet with title rows above it.
HEADER_SEARCH_ROWS = 20

#: What pyogrio/GDAL raise for unreadable or unwritable data (never a bare Exception: a bug in
#: gridplan must surface as a traceback, not as "cannot read the file").
GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
               pyogrio.errors.FeatureError, pyogrio.errors.FieldError,
               pyogrio.errors.GeometryError, pyogrio.errors.CRSError,
               shapely.errors.GEOSException,  # WKB with unclosed rings, decoded by shapely
               OSError, ValueError)

EXTENSIONS = {
    ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shpzip",
    ".shp": "shp", ".parquet": "parquet", ".geoparquet": "parquet", ".csv": "csv",
    ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
}


def fail(file, message, fix, message_zh="", fix_zh="", column=None, rows=None,
         row_numbers=None):
    raise InputError(message, file=file, column=column, rows=rows, row_numbers=row_numbers,
                     fix=fix, message_zh=message_zh or None, fix_zh=fix_zh or None)


def _name(path: Path) -> str:
    return path.name


def read_any(path, *, layer=None, lonlat=None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read ``path`` by its extension.

    Parameters
    ----------
    lonlat : tuple of str, optional
        File columns holding longitude and latitude (from the user's column mapping).
    """
    path = Path(path)
    name = _name(path)
    if not path.exists():
        fail(name, f"file not found: {path}", "check the path", f"找不到文件：{path}", "请检查路径")
    if path.is_dir():
        fail(name, "is a folder, not a file", "give the path of a data file",
             "这是文件夹，不是文件")
    suffixes = "".join(path.suffixes[-2:]).lower()
    ext = path.suffix.lower()
    if suffixes.endswith(".shp.zip"):
        ext = ".zip"
    if ext in (".osm", ".pbf", ".bz2"):
        fail(name, "an OpenStreetMap file is not a table of " "households or boundaries",
             "use `gridplan households --from-osm FILE` to estimate households from buildings",
             "OSM 文件不是户数或边界表", "请使用 `gridplan households --from-osm 文件`")
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        fail(name, f"unsupported file type '{ext or '(no extension)'}'",
             "use GeoJSON (.geojson), GeoPackage (.gpkg), zipped Shapefile (.zip), GeoParquet "
             "(.parquet), CSV (.csv) or Excel (.xlsx)", f"不支持的文件类型 '{ext}'",
             "请使用 GeoJSON、GeoPackage、Shapefile 压缩包、GeoParquet、CSV 或 Excel")
    if path.stat().st_size == 0:
        fail(name, "the file is empty (0 bytes)", "export the data again",
             "文件为空（0 字节）", "请重新导出数据")
    problems: list[Problem] = []
    reader = {"geojson": _read_gdal, "gpkg": _read_gpkg, "shpzip": _read_shp, "shp": _read_shp,
              "parquet": _read_parquet, "csv": _read_csv, "excel": _read_excel}[fmt]
    gdf = reader(path, name, problems, layer=layer, lonlat=lonlat)
    if fmt not in ("csv", "excel"):  # tables are numbered and cleaned before their geometry
        gdf.attrs.setdefault(ROW_NUMBERS, RowNumbers(range(1, len(gdf) + 1)))
        gdf = drop_empty_rows(gdf, name, problems)
    return gdf, problems


def drop_empty_rows(frame: pd.DataFrame, name: str, problems: list[Problem]) -> pd.DataFrame:
    """``frame`` without its fully empty rows (every cell blank, no geometry), with a note.

    Excel writes them below the data of a CSV (``,,,``) and between blocks of a sheet; they
    are not households without coordinates. The rows kept keep their numbers
    (:data:`~gridplan.io.problems.ROW_NUMBERS`) and positions of true/false cells.
    """
    if not len(frame):
        return frame
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    cells = frame.drop(columns=[geom]) if geom else frame
    blank = np.ones(len(frame), dtype=bool)
    for col in cells.columns:
        values = cells[col]
        text = values.astype("string").str.strip() if values.dtype == object or \
            pd.api.types.is_string_dtype(values.dtype) else values
        blank &= (values.isna() | (text == "").fillna(True)).to_numpy(dtype=bool)
    if geom:
        g = np.asarray(frame.geometry.values)
        blank &= shapely.is_missing(g) | shapely.is_empty(g)
    if not blank.any():
        return frame
    numbers = np.asarray(frame.attrs.get(ROW_NUMBERS, range(1, len(frame) + 1)))
    dropped = number_rows(numbers, np.flatnonzero(blank))
    kept = frame.loc[~blank].reset_index(drop=True)
    kept.attrs = dict(frame.attrs)
    kept.attrs[ROW_NUMBERS] = RowNumbers(numbers[~blank])
    new_pos = np.cumsum(~blank) - 1
    if frame.attrs.get(JSON_BOOLEANS):
        kept.attrs[JSON_BOOLEANS] = {k: [int(new_pos[r]) for r in v if not blank[r]]
                                     for k, v in frame.attrs[JSON_BOOLEANS].items()}
    problems.append(Problem(
        "repaired", "empty_rows", name, None, [],
        f"skipped {len(dropped)} empty row(s) (no value in any column)",
        "delete the empty rows in the source to silence this note",
        f"跳过了 {len(dropped)} 个空行（所有列均无值）", "可在源文件中删除这些空行",
        row_numbers=dropped))
    return kept


def _read_gdal(path, name, problems, *, layer=None, lonlat=None, source=None, **kw):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(source or path, layer=layer, **kw)
    except GDAL_ERRORS as exc:
        fail(name, f"cannot read the file as {path.suffix.lstrip('.').upper() or 'data'}: "
             f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
             "check that the file is complete and that its extension matches its content",
             "无法读取文件", "请检查文件是否完整、扩展名是否与内容相符")
    if not isinstance(gdf, gpd.GeoDataFrame):
        fail(name, "the file holds a table without geometries", "add geometries or lon/lat columns",
             "文件中没有几何数据")
    if source is None and path.suffix.lower() in (".geojson", ".json"):
        gdf.attrs[JSON_BOOLEANS] = _json_booleans(path, gdf)
    return gdf


#: ``GeoDataFrame.attrs`` key: rows per column where GDAL read a JSON true/false as a number.
JSON_BOOLEANS = "gridplan_json_booleans"
_JSON_BOOL = re.compile(rb'"([^"\\]{1,200})"\s*:\s*(?:true|false)\b')


def _json_booleans(path: Path, gdf: gpd.GeoDataFrame) -> dict[str, list[int]]:
    """Rows where a numeric column holds a JSON boolean that GDAL turned into 1 or 0.

    GDAL types a GeoJSON property holding both numbers and ``true`` as a number column and reads
    ``true`` as 1: a household count of "true" would silently become one household. A byte scan
    finds such properties; only then is the file parsed again to name the rows.
    """
    keys = {m.decode("utf-8", "replace") for m in _JSON_BOOL.findall(path.read_bytes())}
    numeric = [k for k in keys if k in gdf.columns and pd.api.types.is_numeric_dtype(gdf[k].dtype)
               and not pd.api.types.is_bool_dtype(gdf[k].dtype)]
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
            fail(name, f"cannot read the file as GeoPackage: {exc}",
                 "check that the file is a complete GeoPackage", "无法读取 GeoPackage 文件")
        if len(layers) == 0:
            fail(name, "the GeoPackage has no layers", "export the data again", "GeoPackage 中没有图层")
        layer = layers[0][0]
        if len(layers) > 1:
            problems.append(Problem(
                "warning", "several_layers", name, None, [],
                f"the GeoPackage has {len(layers)} layers "
                f"({', '.join(str(x) for x in layers[:, 0][:5])}); read the first, '{layer}'",
                "name the layer with layer=... (Python) or --layer (convert)",
                f"GeoPackage 有 {len(layers)} 个图层，已读取第一个 '{layer}'"))
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
                    fail(name, "the zip file holds no .shp file",
                         "zip the .shp together with its .shx, .dbf, .prj (and .cpg) files",
                         "压缩包中没有 .shp 文件", "请将 .shp、.shx、.dbf、.prj（及 .cpg）一起压缩")
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
            fail(name, "the file is not a valid zip archive", "zip the shapefile's files again",
                 "不是有效的 zip 压缩包", "请重新压缩 Shapefile 文件")
        source = f"/vsizip/{path.resolve()}/{shp}"
    else:
        stem_path = path.with_suffix("")
        has_cpg = any(stem_path.with_suffix(s).exists() for s in (".cpg", ".CPG"))
        dbf_path = next((stem_path.with_suffix(s) for s in (".dbf", ".DBF")
                         if stem_path.with_suffix(s).exists()), None)
        dbf = dbf_path.read_bytes() if dbf_path else b""
        source = str(path)
    kw = {}
    if not has_cpg:
        enc = _dbf_records_encoding(dbf)
        if enc is not None:
            kw["encoding"] = enc
            if enc != "UTF-8":
                problems.append(Problem(
                    "warning", "dbf_encoding_guessed", name, None, [],
                    f"the shapefile has no .cpg file; its text was read as {enc} (GBK)",
                    "add a .cpg file containing the encoding (e.g. GBK or UTF-8) to be sure",
                    f"Shapefile 缺少 .cpg 文件，已按 {enc}（GBK）读取文字",
                    "请添加写有编码（如 GBK 或 UTF-8）的 .cpg 文件"))
    return _read_gdal(path, name, problems, source=source, **kw)


def _read_parquet(path, name, problems, *, layer=None, lonlat=None):
    try:
        return gpd.read_parquet(path)
    except ValueError as exc:
        if "geo" not in str(exc).lower():
            fail(name, f"cannot read the file as GeoParquet: {exc}",
                 "check that the file is complete", "无法读取 GeoParquet 文件")
    except (pyarrow.ArrowException, OSError, shapely.errors.GEOSException) as exc:
        fail(name, f"cannot read the file as Parquet: {str(exc)[:200]}",
             "check that the file is complete and really Parquet", "无法读取 Parquet 文件")
    # Plain Parquet without geo metadata: a table with lon/lat or WKT columns.
    df = pd.read_parquet(path)
    return table_to_gdf(df, name, problems, lonlat=lonlat)


def _decode_text(raw: bytes, name, problems) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict") if _utf8_ok(raw[3:], name) else ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        fail(name, "the text is neither UTF-8 nor GBK/GB18030",
             "save the file as UTF-8 CSV", "文本编码既不是 UTF-8 也不是 GBK", "请另存为 UTF-8 编码的 CSV")
    problems.append(Problem(
        "repaired", "encoding_gbk", name, None, [],
        "the file is not UTF-8; it was read as GBK/GB18030 (common for Excel exports in China)",
        "save it as UTF-8 CSV to avoid this guess",
        "文件不是 UTF-8 编码，已按 GBK/GB18030 读取", "建议另存为 UTF-8 编码的 CSV"))
    return text


def _utf8_ok(raw, name):
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        fail(name, "the file starts with a UTF-8 mark but is not valid UTF-8",
             "save the file again as UTF-8 CSV", "文件以 UTF-8 标记开头但内容不是有效的 UTF-8")


def _looks_like_header(values, lonlat) -> bool:
    names = {str(v).strip().lower() for v in values if v is not None and not pd.isna(v)}
    if lonlat:
        return {str(c).strip().lower() for c in lonlat} <= names
    has_lon = names & set(LON_NAMES + X_NAMES)
    has_lat = names & set(LAT_NAMES + Y_NAMES)
    return bool(has_lon and has_lat) or bool(names & set(WKT_NAMES))


def _sniff_delimiter(text: str) -> str:
    """The field separator of a delimited text: comma, tab, semicolon or bar.

    ``.txt`` exports from survey and census systems are often tab- or bar-separated; csv.Sniffer
    reads the first lines, and a comma is assumed when it cannot decide.
    """
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS + 5])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _header_line(text: str, sep: str, lonlat) -> int:
    """The 0-based line of a delimited text's header: the first of the first lines that names
    longitude and latitude (title lines above it are common in exports); 0 if none does."""
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    for k, line in enumerate(lines):
        cells = next(csv.reader([line], delimiter=sep, skipinitialspace=True), [])
        if cells and _looks_like_header(cells, lonlat):
            return k
    return 0


def _csv_table(path, name, problems, *, lonlat=None) -> pd.DataFrame:
    """The CSV/TXT file as a string table, with its encoding, separator and header row found,
    its empty rows dropped and every row numbered by its line (the header's line + 1, ...)."""
    text = _decode_text(path.read_bytes(), name, problems)
    if "\x00" in text:
        fail(name, "the file holds binary data, not CSV text",
             "check that the file is really a CSV export", "文件包含二进制数据，不是 CSV 文本")
    sep = _sniff_delimiter(text)
    # Blank lines are kept (as empty rows) so that every row keeps its line number.
    opts = dict(sep=sep, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                skip_blank_lines=False)
    header_at = _header_line(text, sep, lonlat)
    try:
        df = pd.read_csv(_io.StringIO(text), skiprows=header_at, **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        fail(name, f"cannot parse the CSV: {str(exc).splitlines()[0][:200]}",
             "check the separators and quotes of the file (save it from Excel as CSV UTF-8)",
             "无法解析 CSV 文件", "请检查分隔符和引号（可在 Excel 中另存为 CSV UTF-8）")
    if header_at:
        problems.append(Problem("warning", "header_row", name, None, [],
                                f"skipped {header_at} title line(s) above the header", "",
                                f"跳过了表头上方的 {header_at} 行标题"))
    df.attrs[ROW_NUMBERS] = RowNumbers(range(header_at + 2, header_at + 2 + len(df)))
    return drop_empty_rows(df, name, problems)


def _read_csv(path, name, problems, *, layer=None, lonlat=None):
    return table_to_gdf(_csv_table(path, name, problems, lonlat=lonlat), name, problems,
                        lonlat=lonlat)


def _excel_header(rows: pd.DataFrame, lonlat) -> int | None:
    """The position of the header among a sheet's non-blank ``rows``: the first of the first
    rows that names longitude and latitude (or a WKT column); None if none does."""
    for k in range(min(HEADER_SEARCH_ROWS, len(rows))):
        if _looks_like_header(rows.iloc[k].tolist(), lonlat):
            return k
    return None


def _read_sheet(path, name, problems, layer, lonlat) -> pd.DataFrame:
    """The named sheet; else the first, unless only another sheet holds a table of points
    (workbooks often open on a notes sheet: 说明, 封面). Several such sheets: the user names one."""
    try:
        if layer is not None:
            return pd.read_excel(path, sheet_name=layer, header=None, dtype=object)
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except (ValueError, OSError, KeyError, ImportError, zipfile.BadZipFile) as exc:
        # openpyxl/xlrd report damaged or mislabelled workbooks with these types
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        fail(name, f"cannot read the file as Excel: {why}",
             "check that the file is a complete Excel workbook (.xlsx or .xls)",
             "无法读取 Excel 文件", "请检查文件是否为完整的 Excel 工作簿（.xlsx 或 .xls）")
    names = [str(n) for n in sheets]
    tables = list(sheets.values())
    if len(tables) == 1 or _excel_header(tables[0].dropna(how="all"), lonlat) is not None:
        return tables[0]
    fits = [k for k in range(1, len(tables))
            if _excel_header(tables[k].dropna(how="all"), lonlat) is not None]
    if len(fits) > 1:
        listed = ", ".join(names[k] for k in fits)
        fail(name, f"the first sheet '{names[0]}' holds no longitude/latitude columns, and "
             f"{len(fits)} other sheets do: {listed}",
             f"name the sheet: --sheet LAYER=SHEET, e.g. --sheet households={names[fits[0]]} "
             "(layer= in Python)", f"第一个工作表 '{names[0]}' 没有经纬度列，有经纬度列的工作表有：{listed}",
             "请用 --sheet 图层=工作表名 指定")
    if not fits:
        return tables[0]  # reported as a table without longitude/latitude columns
    problems.append(Problem(
        "warning", "sheet_picked", name, None, [],
        f"read sheet '{names[fits[0]]}': the first sheet '{names[0]}' holds no longitude/latitude "
        "columns", f"name the sheet with --sheet LAYER={names[fits[0]]} to be sure",
        f"已读取工作表 '{names[fits[0]]}'：第一个工作表 '{names[0]}' 没有经纬度列"))
    return tables[fits[0]]


def _excel_table(path, name, problems, *, layer=None, lonlat=None) -> pd.DataFrame:
    """The sheet as a string table, with its header row found below any title rows, its empty
    rows dropped and every row numbered as the spreadsheet numbers it."""
    raw = _read_sheet(path, name, problems, layer, lonlat)
    # The sheet's row labels are its 0-based row numbers: kept through to the row numbers.
    sheet = raw.dropna(axis=1, how="all")
    raw = sheet.dropna(how="all")
    if raw.empty:
        return pd.DataFrame()
    header_at = _excel_header(raw, lonlat) or 0
    if header_at:
        problems.append(Problem("warning", "header_row", name, None, [],
                                f"skipped {header_at} title row(s) above the header", "",
                                f"跳过了表头上方的 {header_at} 行标题"))
    header = [str(v).strip() if not pd.isna(v) else f"column_{i}"
              for i, v in enumerate(raw.iloc[header_at].tolist())]
    df = sheet.loc[sheet.index > raw.index[header_at]].copy()
    df.columns = header
    numbers = df.index.to_numpy() + 1
    df = df.reset_index(drop=True)
    # Excel cells are typed individually: make every column a clean string column, as in CSV.
    for c in df.columns:
        col = df[c]
        df[c] = col.map(_cell_text, na_action="ignore").astype("str")
    df.attrs[ROW_NUMBERS] = RowNumbers(numbers)
    return drop_empty_rows(df, name, problems)


def _read_excel(path, name, problems, *, layer=None, lonlat=None):
    return table_to_gdf(_excel_table(path, name, problems, layer=layer, lonlat=lonlat), name,
                        problems, lonlat=lonlat)


def columns_of(path, *, layer=None) -> list[str]:
    """The column names a reader will see in ``path``: after the encoding, the separator and
    any title rows above the header are found, exactly as :func:`read_any` reads the file.

    Raises
    ------
    InputError
        The file cannot be read (the same message as :func:`read_any`).
    """
    path = Path(path)
    name = _name(path)
    fmt = EXTENSIONS.get(path.suffix.lower())
    problems: list[Problem] = []
    if fmt == "csv":
        return [str(c).strip() for c in _csv_table(path, name, problems).columns]
    if fmt == "excel":
        return [str(c).strip() for c in _excel_table(path, name, problems, layer=layer).columns]
    if fmt in ("geojson", "gpkg") and path.exists():
        # field names only: GDAL decodes them from the file's declared (UTF-8) encoding
        try:
            return [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]
        except GDAL_ERRORS:
            pass  # read_any below reports the file with the reader's own message
    gdf, _ = read_any(path, layer=layer)
    return [str(c) for c in gdf.columns if c != gdf.geometry.name]


def _cell_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def find_lonlat(columns, lonlat=None) -> tuple[str | None, str | None]:
    """The (lon, lat) column names of a table, by the accepted spellings."""
    if lonlat:
        return lonlat
    by_lower = {}
    for c in columns:
        by_lower.setdefault(str(c).strip().lower(), c)
    lon = next((by_lower[n] for n in LON_NAMES if n in by_lower), None)
    lat = next((by_lower[n] for n in LAT_NAMES if n in by_lower), None)
    if lon is None and lat is None:
        lon = next((by_lower[n] for n in X_NAMES if n in by_lower), None)
        lat = next((by_lower[n] for n in Y_NAMES if n in by_lower), None)
    return lon, lat


def table_to_gdf(df: pd.DataFrame, name, problems, *, lonlat=None) -> gpd.GeoDataFrame:
    """Points from lon/lat columns (or geometries from a WKT column), in EPSG:4326.

    The rows keep the table's row numbers (:data:`~gridplan.io.problems.ROW_NUMBERS`; 1, 2, ...
    for a table that has none), which errors name.
    """
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    numbers = df.attrs.setdefault(ROW_NUMBERS, RowNumbers(range(1, len(df) + 1)))
    lon, lat = find_lonlat(df.columns, lonlat)
    if lonlat and (lon not in df.columns or lat not in df.columns):
        missing = [c for c in (lon, lat) if c not in df.columns]
        fail(name, f"column(s) {', '.join(missing)} given for lon/lat are not in the file "
             f"(columns: {', '.join(df.columns)})", "check the --map lon=/lat= names",
             "指定的经纬度列不存在", column=missing[0])
    if lon is not None and lat is not None:
        x, bad_x = _coords(df[lon])
        y, bad_y = _coords(df[lat])
        bad = bad_x | bad_y
        if bad.any():
            col = lon if bad_x.any() else lat
            fail(name, "coordinates that are not numbers", "write longitude and latitude as "
                 "decimal degrees, e.g. 111.2859 and 30.6984", "坐标不是数字",
                 "请将经纬度写成十进制度数，如 111.2859 和 30.6984",
                 column=col, rows=np.flatnonzero(bad).tolist(),
                 row_numbers=number_rows(numbers, np.flatnonzero(bad)))
        missing = ~(np.isfinite(x) & np.isfinite(y))
        geoms = shapely.points(np.column_stack([x, y]))
        geoms[missing] = None
        return _with_geometry(df.drop(columns=[lon, lat]), geoms)
    wkt = next((c for c in df.columns if c.lower() in WKT_NAMES), None)
    if wkt is not None:
        text = df[wkt].astype("string")
        geoms = shapely.from_wkt(text.fillna("").to_numpy(dtype=object), on_invalid="ignore")
        geoms = np.asarray(geoms, dtype=object)
        bad = np.asarray([g is None for g in geoms]) & text.fillna("").str.strip().ne("").to_numpy()
        if bad.any():
            fail(name, "geometries that are not valid WKT text", "check the geometry column",
                 "几何列不是有效的 WKT 文本", column=wkt, rows=np.flatnonzero(bad).tolist(),
                 row_numbers=number_rows(numbers, np.flatnonzero(bad)))
        return _with_geometry(df.drop(columns=[wkt]), geoms)
    fail(name, "no longitude/latitude columns found (columns: "
         f"{', '.join(df.columns) if len(df.columns) else '(none)'})",
         "name them lon and lat (also accepted: lng, longitude/latitude, 经度/纬度, x/y) or map "
         "them with --map lon=COLUMN,lat=COLUMN",
         "找不到经纬度列", "请将列命名为 lon 和 lat（或 lng、longitude/latitude、经度/纬度），"
         "或用 --map lon=列名,lat=列名 指定", column="lon")


def _with_geometry(out: pd.DataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index), crs=4326)
    gdf.attrs = dict(out.attrs)
    return gdf


def _coords(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        return v, np.zeros(len(s), bool)
    st = s.astype("string").str.strip()
    blank = (st.isna() | (st == "")).to_numpy(dtype=bool)
    v = pd.to_numeric(st.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v) & ~blank
    # "inf"/"nan" spelled out are not coordinates either.
    return np.where(np.isfinite(v), v, np.nan), bad
