"""Tables read as layers: CSV/TXT and Excel files with longitude/latitude (or WKT) columns.

Text encodings (UTF-8 or GBK), separators, title rows above the header, empty rows and sheets are
found here, the same way for the reader and for the app's column step; :mod:`gridplan.io.readers`
dispatches to these functions by file type.
"""

from __future__ import annotations

import csv
import io as _io
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.io.problems import ROW_NUMBERS, Problem, RowNumbers, number_rows

__all__ = [
    "LON_NAMES",
    "LAT_NAMES",
    "WKT_NAMES",
    "HEADER_SEARCH_ROWS",
    "fail",
    "drop_empty_rows",
    "find_lonlat",
    "table_to_gdf",
    "JSON_BOOLEANS",
    "csv_table",
    "excel_table",
    "read_csv_layer",
    "read_excel_layer",
]

#: ``GeoDataFrame.attrs`` key: rows per column where GDAL read a JSON true/false as a number.
JSON_BOOLEANS = "gridplan_json_booleans"


LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "东经", "point_x")


LAT_NAMES = ("lat", "latitude", "纬度", "北纬", "point_y")


#: x/y are accepted only when no explicit longitude/latitude column exists.
X_NAMES, Y_NAMES = ("x",), ("y",)


WKT_NAMES = ("geometry", "wkt", "geom", "the_geom")


#: Rows searched for the header line of a spreadsheet with title rows above it.
HEADER_SEARCH_ROWS = 20


def fail(file, message, fix, message_zh="", fix_zh="", column=None, rows=None, row_numbers=None):
    raise InputError(
        message,
        file=file,
        column=column,
        rows=rows,
        row_numbers=row_numbers,
        fix=fix,
        message_zh=message_zh or None,
        fix_zh=fix_zh or None,
    )


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
        text = (
            values.astype("string").str.strip()
            if values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
            else values
        )
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
        kept.attrs[JSON_BOOLEANS] = {
            k: [int(new_pos[r]) for r in v if not blank[r]] for k, v in frame.attrs[JSON_BOOLEANS].items()
        }
    problems.append(
        Problem(
            "repaired",
            "empty_rows",
            name,
            None,
            [],
            f"skipped {len(dropped)} empty row(s) (no value in any column)",
            "delete the empty rows in the source to silence this note",
            f"跳过了 {len(dropped)} 个空行（所有列均无值）",
            "可在源文件中删除这些空行",
            row_numbers=dropped,
        )
    )
    return kept


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
        fail(
            name,
            "the text is neither UTF-8 nor GBK/GB18030",
            "save the file as UTF-8 CSV",
            "文本编码既不是 UTF-8 也不是 GBK",
            "请另存为 UTF-8 编码的 CSV",
        )
    problems.append(
        Problem(
            "repaired",
            "encoding_gbk",
            name,
            None,
            [],
            "the file is not UTF-8; it was read as GBK/GB18030 (common for Excel exports in China)",
            "save it as UTF-8 CSV to avoid this guess",
            "文件不是 UTF-8 编码，已按 GBK/GB18030 读取",
            "建议另存为 UTF-8 编码的 CSV",
        )
    )
    return text


def _utf8_ok(raw, name):
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        fail(
            name,
            "the file starts with a UTF-8 mark but is not valid UTF-8",
            "save the file again as UTF-8 CSV",
            "文件以 UTF-8 标记开头但内容不是有效的 UTF-8",
        )


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
    sample = "\n".join(text.splitlines()[: HEADER_SEARCH_ROWS + 5])
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


def csv_table(path, name, problems, *, lonlat=None) -> pd.DataFrame:
    """The CSV/TXT file as a string table, with its encoding, separator and header row found,
    its empty rows dropped and every row numbered by its line (the header's line + 1, ...)."""
    text = _decode_text(path.read_bytes(), name, problems)
    if "\x00" in text:
        fail(
            name,
            "the file holds binary data, not CSV text",
            "check that the file is really a CSV export",
            "文件包含二进制数据，不是 CSV 文本",
        )
    sep = _sniff_delimiter(text)
    # Blank lines are kept (as empty rows) so that every row keeps its line number.
    opts = dict(
        sep=sep,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=True,
        skip_blank_lines=False,
    )
    header_at = _header_line(text, sep, lonlat)
    try:
        df = pd.read_csv(_io.StringIO(text), skiprows=header_at, **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        fail(
            name,
            f"cannot parse the CSV: {str(exc).splitlines()[0][:200]}",
            "check the separators and quotes of the file (save it from Excel as CSV UTF-8)",
            "无法解析 CSV 文件",
            "请检查分隔符和引号（可在 Excel 中另存为 CSV UTF-8）",
        )
    if header_at:
        problems.append(
            Problem(
                "warning",
                "header_row",
                name,
                None,
                [],
                f"skipped {header_at} title line(s) above the header",
                "",
                f"跳过了表头上方的 {header_at} 行标题",
            )
        )
    df.attrs[ROW_NUMBERS] = RowNumbers(range(header_at + 2, header_at + 2 + len(df)))
    return drop_empty_rows(df, name, problems)


def read_csv_layer(path, name, problems, *, layer=None, lonlat=None):
    return table_to_gdf(csv_table(path, name, problems, lonlat=lonlat), name, problems, lonlat=lonlat)


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
        fail(
            name,
            f"cannot read the file as Excel: {why}",
            "check that the file is a complete Excel workbook (.xlsx or .xls)",
            "无法读取 Excel 文件",
            "请检查文件是否为完整的 Excel 工作簿（.xlsx 或 .xls）",
        )
    names = [str(n) for n in sheets]
    tables = list(sheets.values())
    if len(tables) == 1 or _excel_header(tables[0].dropna(how="all"), lonlat) is not None:
        return tables[0]
    fits = [
        k for k in range(1, len(tables)) if _excel_header(tables[k].dropna(how="all"), lonlat) is not None
    ]
    if len(fits) > 1:
        listed = ", ".join(names[k] for k in fits)
        fail(
            name,
            f"the first sheet '{names[0]}' holds no longitude/latitude columns, and "
            f"{len(fits)} other sheets do: {listed}",
            f"name the sheet: --sheet LAYER=SHEET, e.g. --sheet households={names[fits[0]]} "
            "(layer= in Python)",
            f"第一个工作表 '{names[0]}' 没有经纬度列，有经纬度列的工作表有：{listed}",
            "请用 --sheet 图层=工作表名 指定",
        )
    if not fits:
        return tables[0]  # reported as a table without longitude/latitude columns
    problems.append(
        Problem(
            "warning",
            "sheet_picked",
            name,
            None,
            [],
            f"read sheet '{names[fits[0]]}': the first sheet '{names[0]}' holds no longitude/latitude "
            "columns",
            f"name the sheet with --sheet LAYER={names[fits[0]]} to be sure",
            f"已读取工作表 '{names[fits[0]]}'：第一个工作表 '{names[0]}' 没有经纬度列",
        )
    )
    return tables[fits[0]]


def excel_table(path, name, problems, *, layer=None, lonlat=None) -> pd.DataFrame:
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
        problems.append(
            Problem(
                "warning",
                "header_row",
                name,
                None,
                [],
                f"skipped {header_at} title row(s) above the header",
                "",
                f"跳过了表头上方的 {header_at} 行标题",
            )
        )
    header = [
        str(v).strip() if not pd.isna(v) else f"column_{i}"
        for i, v in enumerate(raw.iloc[header_at].tolist())
    ]
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


def read_excel_layer(path, name, problems, *, layer=None, lonlat=None):
    return table_to_gdf(
        excel_table(path, name, problems, layer=layer, lonlat=lonlat), name, problems, lonlat=lonlat
    )


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
        fail(
            name,
            f"column(s) {', '.join(missing)} given for lon/lat are not in the file "
            f"(columns: {', '.join(df.columns)})",
            "check the --map lon=/lat= names",
            "指定的经纬度列不存在",
            column=missing[0],
        )
    if lon is not None and lat is not None:
        x, bad_x = _coords(df[lon])
        y, bad_y = _coords(df[lat])
        bad = bad_x | bad_y
        if bad.any():
            col = lon if bad_x.any() else lat
            fail(
                name,
                "coordinates that are not numbers",
                "write longitude and latitude as decimal degrees, e.g. 111.2859 and 30.6984",
                "坐标不是数字",
                "请将经纬度写成十进制度数，如 111.2859 和 30.6984",
                column=col,
                rows=np.flatnonzero(bad).tolist(),
                row_numbers=number_rows(numbers, np.flatnonzero(bad)),
            )
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
            fail(
                name,
                "geometries that are not valid WKT text",
                "check the geometry column",
                "几何列不是有效的 WKT 文本",
                column=wkt,
                rows=np.flatnonzero(bad).tolist(),
                row_numbers=number_rows(numbers, np.flatnonzero(bad)),
            )
        return _with_geometry(df.drop(columns=[wkt]), geoms)
    fail(
        name,
        "no longitude/latitude columns found (columns: "
        f"{', '.join(df.columns) if len(df.columns) else '(none)'})",
        "name them lon and lat (also accepted: lng, longitude/latitude, 经度/纬度, x/y) or map "
        "them with --map lon=COLUMN,lat=COLUMN",
        "找不到经纬度列",
        "请将列命名为 lon 和 lat（或 lng、longitude/latitude、经度/纬度），或用 --map lon=列名,lat=列名 指定",
        column="lon",
    )


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
