"""Exports for grid-management platforms and reports: GeoJSON, GeoPackage, Excel (Chinese).

- GeoJSON of the grids (RFC 7946: WGS-84, counter-clockwise exteriors, no ``crs`` member),
  written by :func:`gridplan.io.files.write`.
- One GeoPackage with one layer per level of the hierarchy, whichever are present:
  ``streets``, ``communities``, ``grids``, ``micro_grids``, ``households``, ``facilities``,
  ``isochrones``, ``sites`` (all in EPSG:4326).
- An Excel workbook in Chinese: one sheet per table (网格, 社区汇总, 街道汇总, 覆盖情况, 设施标准,
  新增选址, 编码说明), Chinese column headers.

Every grid carries a ``grid_code`` beside the contract's ``grid_id``; the scheme is documented in
:mod:`gridplan.report.codes` (``<street_id>-<community_id>-<NN>``; micro-grids ``<grid_code>-<MM>``).

All outputs are written atomically and are byte-identical for the same input: the GeoPackage's
timestamps are pinned with GDAL's ``OGR_CURRENT_DATE`` and the workbook's zip entries and document
properties carry a fixed date.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gridplan.errors import InputError
from gridplan.grids.numbering import split_grid_id
from gridplan.i18n import columns as i18n_columns
from gridplan.i18n import reason_text
from gridplan.io.atomic import atomic_path
from gridplan.io.files import write_layers
from gridplan.io.projection import WGS84
from gridplan.report.codes import UNKNOWN_STREET, grid_codes, micro_codes

__all__ = [
    "LEVELS",
    "SHEETS_ZH",
    "export_layers",
    "report_tables",
    "write_geopackage",
    "read_geopackage",
    "write_geojson",
    "write_excel",
    "export",
]

#: GeoPackage layers, from the top of the hierarchy down, in the order they are written.
LEVELS = ("streets", "communities", "grids", "micro_grids", "households", "facilities", "isochrones", "sites")


def columns_zh(names) -> dict[str, str]:
    """Chinese headers of the report's columns: the app's labels (:func:`gridplan.i18n.columns`)."""
    return i18n_columns(names, "zh")


#: Sheet names of the Excel report.
SHEETS_ZH = {
    "grids": "网格",
    "communities": "社区汇总",
    "streets": "街道汇总",
    "coverage": "覆盖情况",
    "standards": "设施标准",
    "sites": "新增选址",
    "codes": "编码说明",
}

_STATUS_ZH = {"ok": "达标", "under": "户数偏少", "over": "户数偏多"}
_LEVEL_ZH = {"all": "全部", "grid": "网格", "community": "社区", "street": "街道"}
#: A fixed timestamp for file formats that store one, so that outputs are byte-identical.
_FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)


# --- layers ----------------------------------------------------------------------------------


def export_layers(
    grids: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    micro_grids: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    coverage=None,
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of an export, with codes, in EPSG:4326, keyed by :data:`LEVELS`.

    Parameters
    ----------
    grids : GeoDataFrame
        The grids (``PartitionResult.grids``), or a grids layer already carrying ``grid_code``
        (e.g. from :func:`gridplan.report.codes.carry_codes`), which is kept.
    communities, streets, micro_grids, facilities, sites : GeoDataFrame, optional
        The other levels. Streets are dissolved from the communities' ``street_id`` when not
        given.
    households : GeoDataFrame, optional
        Household points with ``grid_id`` (``PartitionResult.assignment``); they get the
        ``grid_code`` of their grid.
    isochrones : GeoDataFrame, optional
        Isochrone polygons (``CoverageResult.isochrones``).
    coverage : CoverageResult, optional
        Supplies ``households`` (with walk times) and ``isochrones`` when those are not given,
        and per-community coverage for the communities and streets layers.

    Returns
    -------
    dict of str to GeoDataFrame
        Only the levels that are present, in :data:`LEVELS` order.
    """
    if grids is None or len(grids) == 0:
        raise InputError(
            "there are no grids to export", fix="run gridplan partition first", message_zh="没有可导出的网格"
        )
    if coverage is not None:
        if households is None:
            households = getattr(coverage, "households", None)
        elif getattr(coverage, "households", None) is not None:
            households = _add_coverage_fields(households, coverage.households)
        if isochrones is None:
            isochrones = getattr(coverage, "isochrones", None)
    grids = _wgs84(grids)
    if "grid_code" not in grids.columns:
        grids = grid_codes(grids, communities)
    layers: dict[str, gpd.GeoDataFrame] = {}
    if communities is not None:
        layers["communities"] = _community_layer(_wgs84(communities), grids)
        if streets is None and "street_id" in communities.columns:
            streets = _dissolve_streets(layers["communities"])
    if streets is not None:
        layers["streets"] = _street_layer(_wgs84(streets), grids)
    layers["grids"] = grids
    if micro_grids is not None and len(micro_grids):
        layers["micro_grids"] = micro_codes(_wgs84(micro_grids), grids)
    if households is not None:
        hh = _wgs84(households)
        if "grid_id" in hh.columns:
            code = hh["grid_id"].map(grids.set_index("grid_id")["grid_code"])
            hh = hh.drop(columns=["grid_code"], errors="ignore")
            hh.insert(list(hh.columns).index("grid_id") + 1, "grid_code", code.astype("str"))
        layers["households"] = hh
    for name, layer in (("facilities", facilities), ("isochrones", isochrones), ("sites", sites)):
        if layer is not None:
            layers[name] = _wgs84(layer)
    return {name: _for_gdal(layers[name]) for name in LEVELS if name in layers}


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise InputError(
            "a layer to export has no CRS",
            fix="read it with gridplan.io.files",
            message_zh="待导出的图层没有坐标系",
        )
    return gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf.copy()


def _add_coverage_fields(households: gpd.GeoDataFrame, covered: pd.DataFrame) -> gpd.GeoDataFrame:
    if len(covered) != len(households):
        raise InputError(
            f"coverage has {len(covered)} household rows but the households layer has {len(households)}",
            fix="export the coverage computed on the same households",
            message_zh="覆盖结果与住户图层行数不一致",
        )
    out = households.copy()
    for col in ("walk_min", "nearest_facility_id", "covered", "snap_m", "off_network"):
        if col in covered.columns and col not in out.columns:
            out[col] = covered[col].to_numpy()
    return out


def _grid_totals(grids: pd.DataFrame, key: str) -> pd.DataFrame:
    status = grids["status"] if "status" in grids.columns else pd.Series("ok", index=grids.index)
    frame = pd.DataFrame(
        {
            key: grids[key].to_numpy(),
            "households": grids["households"].to_numpy(dtype="int64"),
            "n_ok": (status == "ok").to_numpy(dtype="int64"),
            "n_under": (status == "under").to_numpy(dtype="int64"),
            "n_over": (status == "over").to_numpy(dtype="int64"),
        }
    )
    if "population" in grids.columns:
        frame["population"] = pd.to_numeric(grids["population"]).to_numpy()
    agg = frame.groupby(key, sort=True).agg(
        n_grids=("households", "size"),
        households=("households", "sum"),
        **({"population": ("population", "sum")} if "population" in frame else {}),
        n_ok=("n_ok", "sum"),
        n_under=("n_under", "sum"),
        n_over=("n_over", "sum"),
    )
    return agg


def _with_grid_totals(
    layer: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, key: str, drop=("n_grids", "households")
) -> gpd.GeoDataFrame:
    """``layer`` with the number of grids and households of each ``key`` (0 where none)."""
    out = layer.drop(columns=list(drop), errors="ignore")
    totals = _grid_totals(grids, key)
    out = out.join(totals[["n_grids", "households"]], on=key)
    out["n_grids"] = out["n_grids"].fillna(0).astype("int64")
    out["households"] = out["households"].fillna(0).astype("int64")
    return out


def _community_layer(communities: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _with_grid_totals(communities, grids, "community_id", drop=("n_grids", "households", "population"))


def _dissolve_streets(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cols = ["street_id"] + (["street_name"] if "street_name" in communities.columns else [])
    known = communities[communities["street_id"].notna()]
    streets = known[cols + ["geometry"]].dissolve(by=cols, sort=True, as_index=False)
    # Dissolving in degrees is fine for topology; nothing is measured here.
    streets["geometry"] = streets.geometry.make_valid()
    return streets


def _street_layer(streets: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "street_id" not in streets.columns or "street_id" not in grids.columns:
        return streets
    return _with_grid_totals(streets, grids, "street_id")


def _for_gdal(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GDAL can store as they are (containers become JSON text), geometry last."""
    geom = gdf.geometry.name
    out = gdf[[c for c in gdf.columns if c != geom] + [geom]].copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if s.dtype == object:
            if s.map(lambda v: isinstance(v, (list, dict, tuple, set))).any():
                out[col] = s.map(
                    lambda v: (
                        None
                        if v is None
                        else json.dumps(
                            sorted(v) if isinstance(v, set) else v,
                            ensure_ascii=False,
                            sort_keys=True,
                            default=str,
                        )
                    )
                ).astype("str")
            elif s.map(lambda v: v is None or isinstance(v, str)).all():
                out[col] = s.astype("str")
    return out


# --- GeoPackage ------------------------------------------------------------------------------


def write_geopackage(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Write ``layers`` to one GeoPackage, one layer each, atomically.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name -> data (e.g. from :func:`export_layers`); empty layers are skipped.
    path : path-like
        The ``.gpkg`` file; replaced as a whole when everything is written.

    Returns
    -------
    Path
    """
    return write_layers(layers, path)


def read_geopackage(path: str | os.PathLike) -> dict[str, gpd.GeoDataFrame]:
    """Read every layer of an exported GeoPackage, restoring the declared field types.

    GDAL hands integer fields with nulls to pandas as floats, and text fields holding only nulls
    as untyped objects; their declared type is in the file, so they come back as nullable
    ``Int64`` and text.
    """
    path = Path(path)
    out = {}
    for name, _ in pyogrio.list_layers(path):
        gdf = pyogrio.read_dataframe(path, layer=name)
        declared = pyogrio.read_info(path, layer=name)
        for field, dtype in zip(declared["fields"], declared["dtypes"]):
            if str(dtype).startswith("int") and gdf[field].dtype.kind == "f":
                gdf[field] = gdf[field].astype("Int64")
            elif str(dtype) == "object" and gdf[field].dtype == object:
                # A text field whose values are all null comes back untyped.
                gdf[field] = gdf[field].astype("str")
        out[name] = gdf
    return out


# --- GeoJSON ---------------------------------------------------------------------------------


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write a layer as RFC 7946 GeoJSON (WGS-84, counter-clockwise exteriors), atomically.

    Goes through :func:`gridplan.io.files.write` so that every GeoJSON gridplan writes is the same.
    """
    from gridplan.io.files import write

    path = Path(path)
    write(_for_gdal(_wgs84(gdf)), path)
    return path


# --- Excel -----------------------------------------------------------------------------------


def report_tables(
    grids: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    coverage=None,
    sites: gpd.GeoDataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of the Excel report, with Chinese headers, keyed by sheet name.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids (``grid_code`` added when absent).
    communities : GeoDataFrame, optional
        For community names and street ids.
    coverage : CoverageResult, optional
        Its ``summary`` and ``standards`` become the sheets 覆盖情况 and 设施标准.
    sites : GeoDataFrame, optional
        Recommended sites (新增选址), with their longitude and latitude.

    Returns
    -------
    dict of str to DataFrame
        Sheet name (Chinese) -> table with Chinese column headers.
    """
    if "grid_code" not in grids.columns:
        grids = grid_codes(grids, communities)
    tables: dict[str, pd.DataFrame] = {}
    g = pd.DataFrame(grids.drop(columns=grids.geometry.name))
    if "status" in g.columns:
        g["status"] = g["status"].map(lambda s: _STATUS_ZH.get(s, s))
    if "reason" in g.columns:
        # The Chinese report says why a grid is out of band in Chinese, figures included.
        g["reason"] = [None if r is None or r != r or r == "" else reason_text(r, "zh") for r in g["reason"]]
    if "street_id" not in g.columns and communities is not None and "street_id" in communities:
        g["street_id"] = g["community_id"].map(
            communities.drop_duplicates("community_id").set_index("community_id")["street_id"]
        )
    tables[SHEETS_ZH["grids"]] = _zh(g.sort_values("grid_code", kind="stable"))

    per_comm = _grid_totals(grids, "community_id").reset_index()
    names = (
        grids.drop_duplicates("community_id").set_index("community_id")["community_name"]
        if "community_name" in grids.columns
        else None
    )
    if names is not None:
        per_comm.insert(1, "community_name", per_comm["community_id"].map(names))
    tables[SHEETS_ZH["communities"]] = _zh(per_comm)

    if "street_id" in g.columns:
        gs = grids.assign(street_id=g["street_id"].fillna(UNKNOWN_STREET).to_numpy())
        per_street = _grid_totals(gs, "street_id").reset_index()
        if "street_name" in grids.columns:
            sn = grids.drop_duplicates("street_id").set_index("street_id")["street_name"]
            per_street.insert(1, "street_name", per_street["street_id"].map(sn))
        tables[SHEETS_ZH["streets"]] = _zh(per_street)

    summary = getattr(coverage, "summary", None) if coverage is not None else None
    if summary is not None and len(summary):
        s = pd.DataFrame(
            summary.drop(columns=summary.geometry.name) if isinstance(summary, gpd.GeoDataFrame) else summary
        )
        if "level" in s.columns:
            s["level"] = s["level"].map(lambda v: _LEVEL_ZH.get(v, v))
        tables[SHEETS_ZH["coverage"]] = _zh(s)
    standards = getattr(coverage, "standards", None) if coverage is not None else None
    if standards is not None and len(standards):
        st = pd.DataFrame(standards)
        if isinstance(standards, gpd.GeoDataFrame):
            st = st.drop(columns=standards.geometry.name)
        tables[SHEETS_ZH["standards"]] = _zh(st)
    if sites is not None and len(sites):
        sw = _wgs84(sites)
        st = pd.DataFrame(sw.drop(columns=sw.geometry.name))
        st["lon"] = sw.geometry.x.round(6).to_numpy()
        st["lat"] = sw.geometry.y.round(6).to_numpy()
        tables[SHEETS_ZH["sites"]] = _zh(st)
    tables[SHEETS_ZH["codes"]] = _code_scheme_table(grids)
    return tables


def _zh(table: pd.DataFrame) -> pd.DataFrame:
    out = table.reset_index(drop=True)
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "是", False: "否"})
    return out.rename(columns=columns_zh(out.columns))


def _code_scheme_table(grids: gpd.GeoDataFrame) -> pd.DataFrame:
    example = str(grids["grid_code"].iloc[0])
    street, _, rest = example.partition("-")
    community, n = split_grid_id(rest)
    number = rest if n is None else f"{n:02d}"
    return pd.DataFrame(
        {
            "part": ["街道编码", "社区编码", "网格序号", "微网格序号"],
            "meaning": [
                f"网格所在街道的编号（未知时为 {UNKNOWN_STREET}）",
                "网格所在社区的编号",
                "社区内网格序号，至少两位；重新划分时未变化的网格保留原编码",
                "网格内微网格序号，至少两位，接在网格编码之后",
            ],
            "example": [street, community, number, f"{example}-01"],
        }
    ).rename(columns=lambda c: columns_zh([c]).get(c, c))


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write tables to an ``.xlsx`` workbook, one sheet each, atomically and reproducibly.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name -> table (e.g. from :func:`report_tables`).
    path : path-like
        The ``.xlsx`` file.

    Returns
    -------
    Path
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(
            f"{path} is not a .xlsx file",
            fix="name the workbook *.xlsx",
            message_zh="Excel 文件名应以 .xlsx 结尾",
        )
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for sheet, table in tables.items():
                table.to_excel(writer, sheet_name=sheet[:31], index=False)
                ws = writer.sheets[sheet[:31]]
                ws.freeze_panes = "A2"
                for i, col in enumerate(table.columns, start=1):
                    width = max(
                        [_display_width(str(col))]
                        + [_display_width(str(v)) for v in table[col].head(200).tolist()]
                    )
                    ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(60, width + 2)
            props = writer.book.properties
            props.creator = "gridplan"
            props.created = _FIXED_TIME
            props.modified = _FIXED_TIME
        _pin_zip_times(tmp)
    return path


def _display_width(text: str) -> int:
    # A CJK character takes two columns in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pin_zip_times(path: Path) -> None:
    """Rewrite a zip container with fixed entry times (openpyxl stamps the current time).

    Written by hand: neither openpyxl nor the standard library offers reproducible zip output.
    """
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    tmp = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            # openpyxl's core.xml may still carry the save time; replace it.
            if info.filename == "docProps/core.xml":
                data = _pin_core_xml(data)
            dst.writestr(fixed, data)
    os.replace(tmp, path)


def _pin_core_xml(data: bytes) -> bytes:
    import re

    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\2", data)


# --- everything at once ----------------------------------------------------------------------


def export(
    grids: gpd.GeoDataFrame,
    *,
    gpkg: str | os.PathLike | None = None,
    xlsx: str | os.PathLike | None = None,
    geojson: str | os.PathLike | None = None,
    png: str | os.PathLike | None = None,
    communities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    micro_grids: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    coverage=None,
    postgis: str | None = None,
    schema: str | None = None,
) -> dict[str, Path]:
    """Export a plan for a grid-management platform and a report.

    Parameters
    ----------
    grids : GeoDataFrame
        The grids (``grid_code`` added as documented in :mod:`gridplan.report.codes` unless present).
    gpkg, xlsx, geojson, png : path-like, optional
        Outputs to write: the GeoPackage with one layer per level, the Excel report in Chinese,
        the grids as RFC 7946 GeoJSON, a PNG map of the grids by status.
    communities, streets, micro_grids, households, facilities, isochrones, sites, coverage
        See :func:`export_layers`.
    postgis : str, optional
        ``postgresql://host:port/database``: the layers and the coverage per grid become tables
        of ``schema`` (:func:`gridplan.io.postgis.write_plan`, one transaction).

    Returns
    -------
    dict of str to Path
        Output kind -> path written.
    """
    layers = export_layers(
        grids,
        communities=communities,
        streets=streets,
        micro_grids=micro_grids,
        households=households,
        facilities=facilities,
        isochrones=isochrones,
        sites=sites,
        coverage=coverage,
    )
    written: dict[str, Path] = {}
    if postgis is not None:
        from gridplan.io.postgis import write_plan

        write_plan({**layers, "coverage": _grid_coverage(coverage, layers["grids"])}, postgis, schema=schema)
    if gpkg is not None:
        written["gpkg"] = write_geopackage(layers, gpkg)
    if geojson is not None:
        written["geojson"] = write_geojson(layers["grids"], geojson)
    if xlsx is not None:
        tables = report_tables(layers["grids"], communities=communities, coverage=coverage, sites=sites)
        written["xlsx"] = write_excel(tables, xlsx)
    if png is not None:
        from gridplan.report.figures import plot_grids

        plot_grids(
            layers["grids"], png, households=layers.get("households"), communities=layers.get("communities")
        )
        written["png"] = Path(png)
    return written


def _grid_coverage(coverage, grids: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Coverage per grid (the summary's grid rows), keyed by ``grid_code``."""
    summary = getattr(coverage, "summary", None)
    if summary is None or "level" not in summary.columns:
        return None
    rows = pd.DataFrame(summary[(summary["level"] == "grid") & summary["id"].notna()]).drop(columns="level")
    rows = rows.rename(columns={"id": "grid_id"}).astype({"grid_id": "str"})
    rows.insert(0, "grid_code", rows["grid_id"].map(grids.set_index("grid_id")["grid_code"]))
    return rows.dropna(subset=["grid_code"]).reset_index(drop=True)
