"""Realistic variations of real files, as planners' systems export them, from ../shared/realdata.

Nothing here is committed data: :func:`make_base` writes the clean layers (Nanjing households,
communities and centres from the OpenStreetMap extract; Yichang communities with generated
households), and each :class:`Case` writes its variant beside them at test time
(tests/test_real_variants.py). Every case is one file as a real system writes it (GBK CSV, title
rows, upper-case Shapefile fields, Gauss-Kruger metres, GCJ-02 points, ...) and states what
gridplan must do with it: give the same result as the clean file ("works"), go on with a warning
("warns"), or stop with exit code 2 naming the file, column or rows and the fix ("error").

Run it alone to write every variant into a folder::

    python tests/data/real_variants/make_variants.py OUT_DIR [../shared/realdata]
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely

from gridplan.io.coords import convert_gdf
from gridplan.io.files import write

#: The Nanjing communities kept (all but the two large ones, for a fast partition).
NANJING_COMMUNITIES = {"C001": "丰富路社区", "C003": "估衣廊社区", "C005": "石鼓路社区", "C006": "莫愁路社区"}
#: The Yichang street whose communities get generated households.
YICHANG_STREET = "学院街办"


@dataclass
class Base:
    """The clean layers every variant is made from, and their files."""

    folder: Path
    network: Path
    households: gpd.GeoDataFrame  # Nanjing: households, building_id, estate_id
    communities: gpd.GeoDataFrame  # Nanjing: community_id, name
    facilities: gpd.GeoDataFrame  # Nanjing: facility_id, name, kind (points)
    outlines: gpd.GeoDataFrame  # the facilities' building outlines
    yc_households: gpd.GeoDataFrame
    yc_communities: gpd.GeoDataFrame  # community_id = name = SQMC, street_name = SSJD
    yc_source: Path  # the Yichang communities file as published (SQMC, SSJD, 类型, 来源)
    yc_centres: Path  # Yichang party-mass centres scraped from Amap (GCJ-02)
    files: dict = field(default_factory=dict)  # clean files: hh, comm, fac, yc_hh, yc_comm


def _round(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Coordinates at 7 decimals (1 cm), as every writer keeps them: the clean file and every
    variant then hold the same numbers."""
    out = gdf.copy()
    out["geometry"] = shapely.transform(out.geometry.values, lambda c: np.round(c, 7))
    return out


def _nanjing(realdata: Path):
    from gridplan.prepare.osm import prepare_from_osm

    layers = prepare_from_osm(realdata / "nanjing" / "nanjing_xinjiekou.osm.pbf")
    comm = layers["communities"]
    comm = comm[comm["community_id"].isin(NANJING_COMMUNITIES)].reset_index(drop=True)
    comm = _round(
        gpd.GeoDataFrame(
            {
                "community_id": comm["community_id"].map(lambda c: f"320102{c[1:]}"),
                "name": comm["community_id"].map(NANJING_COMMUNITIES),
            },
            geometry=comm.geometry.values,
            crs=4326,
        )
    )
    hh = _round(layers["households"])
    hh = hh[hh.within(comm.union_all())].reset_index(drop=True)
    bld = layers["buildings"].set_index("building_id").loc[hh["building_id"]].reset_index()
    # one centre per community: the largest residential building stands in for its building
    joined = gpd.sjoin(
        gpd.GeoDataFrame(bld[["building_id", "footprint_m2"]], crs=4326, geometry=bld.geometry.values),
        comm[["geometry"]],
        predicate="intersects",
    )
    pick = joined.sort_values("footprint_m2", ascending=False).groupby("index_right").head(1)
    outlines = _round(gpd.GeoDataFrame(geometry=bld.geometry.values[pick.index], crs=4326))
    outlines["geometry"] = shapely.make_valid(outlines.geometry.values)
    n = len(outlines)
    fac = _round(
        gpd.GeoDataFrame(
            {
                "facility_id": [f"F{i + 1}" for i in range(n)],
                "name": [
                    f"{NANJING_COMMUNITIES[f'C{c[-3:]}']}党群服务中心"
                    for c in comm["community_id"].to_numpy()[pick["index_right"].to_numpy()]
                ],
                "kind": ["street_centre"] + ["community_centre"] * (n - 1),
            },
            geometry=shapely.point_on_surface(outlines.geometry.values),
            crs=4326,
        )
    )
    for col in ("facility_id", "name", "kind"):
        outlines[col] = fac[col].to_numpy()
    return hh, comm, fac, outlines


def _yichang(realdata: Path):
    src = gpd.read_file(realdata / "yichang" / "yichang_communities.geojson")
    src = src[src["SSJD"] == YICHANG_STREET].reset_index(drop=True)
    comm = _round(
        gpd.GeoDataFrame(
            {"community_id": src["SQMC"], "name": src["SQMC"], "street_name": src["SSJD"]},
            geometry=src.geometry.values,
            crs=4326,
        )
    )
    rng = np.random.default_rng(20240601)
    metric = comm.to_crs(32649)
    pts, counts = [], []
    for poly in metric.geometry.values:
        x0, y0, x1, y1 = poly.bounds
        step = max(np.sqrt(poly.area / 25), 20.0)  # about 25 buildings per community
        xs, ys = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
        cand = shapely.points(xs.ravel(), ys.ravel())
        cand = cand[shapely.contains(poly, cand)]
        pts.extend(cand)
        counts.extend(rng.integers(12, 90, len(cand)))
    hh = gpd.GeoDataFrame(
        {
            "households": np.asarray(counts, dtype=np.int64),
            "building_id": [f"YB{i:04d}" for i in range(len(pts))],
        },
        geometry=pts,
        crs=32649,
    ).to_crs(4326)
    return _round(hh), comm, src


def make_base(folder: Path, realdata: Path) -> Base:
    """Write the clean layers into ``folder`` and return them."""
    folder.mkdir(parents=True, exist_ok=True)
    hh, comm, fac, outlines = _nanjing(realdata)
    yc_hh, yc_comm, yc_src = _yichang(realdata)
    base = Base(
        folder,
        realdata / "nanjing" / "nanjing_xinjiekou.osm.pbf",
        hh,
        comm,
        fac,
        outlines,
        yc_hh,
        yc_comm,
        realdata / "yichang" / "yichang_communities.geojson",
        realdata / "yichang" / "yichang_party_mass_centres_gcj02.geojson",
    )
    for key, gdf in (("hh", hh), ("comm", comm), ("fac", fac), ("yc_hh", yc_hh), ("yc_comm", yc_comm)):
        base.files[key] = write(gdf, folder / f"clean_{key}.geojson")
    return base


# --- writers of planners' formats --------------------------------------------------------------


def lonlat_table(
    gdf: gpd.GeoDataFrame, names: dict | None = None, lon: str = "lon", lat: str = "lat"
) -> pd.DataFrame:
    """A point layer as the table a spreadsheet holds: lon/lat first, columns renamed."""
    table = pd.DataFrame({lon: gdf.geometry.x.to_numpy(), lat: gdf.geometry.y.to_numpy()})
    for col in gdf.columns.drop("geometry"):
        table[(names or {}).get(col, col)] = gdf[col].to_numpy()
    return table


def csv_file(table: pd.DataFrame, path: Path, *, encoding="utf-8", sep=",", title=(), tail="") -> Path:
    """A CSV as Excel and survey systems write it: title lines, encoding, trailing rows."""
    text = table.to_csv(index=False, sep=sep, lineterminator="\r\n")
    width = len(table.columns)
    head = "".join(t + sep * (width - 1) + "\r\n" for t in title)
    path.write_bytes((head + text + tail).encode(encoding))
    return path


def xlsx_file(
    table: pd.DataFrame, path: Path, *, title=(), sheet="Sheet1", before=None, empty_every: int = 0
) -> Path:
    """An .xlsx workbook: title rows above the header, a notes sheet before the data sheet,
    empty rows between blocks of data."""
    book = openpyxl.Workbook()
    ws = book.active
    if before is not None:
        ws.title = before
        ws.append(["说明：本表由社区网格员填报，坐标为 WGS-84 经纬度。"])
        ws = book.create_sheet(sheet)
    else:
        ws.title = sheet
    for t in title:
        ws.append([t])
    ws.append(list(table.columns))
    for i, row in enumerate(table.itertuples(index=False)):
        if empty_every and i and i % empty_every == 0:
            ws.append([])
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
    book.save(path)
    return path


def xls_file(table: pd.DataFrame, path: Path) -> Path:
    """A legacy .xls workbook (Excel 97-2003), as older district systems still export."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("住户")
    for j, c in enumerate(table.columns):
        ws.write(0, j, str(c))
    for i, row in enumerate(table.itertuples(index=False), start=1):
        for j, v in enumerate(row):
            ws.write(i, j, v.item() if hasattr(v, "item") else v)
    book.save(str(path))
    return path


def shapefile_zip(gdf: gpd.GeoDataFrame, path: Path, *, encoding="UTF-8", cpg=True, upper=False) -> Path:
    """A zipped Shapefile: field names upper-cased (ArcGIS), text in GBK, with or without .cpg."""
    out = gdf.copy()
    if upper:
        out.columns = [c if c == "geometry" else c.upper() for c in out.columns]
    folder = path.with_suffix("")
    folder.mkdir(exist_ok=True)
    shp = folder / f"{path.stem}.shp"
    pyogrio.write_dataframe(out, shp, driver="ESRI Shapefile", encoding=encoding)
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix.lower() == ".cpg" and not cpg:
                continue
            zf.write(part, part.name)
    return path


def gpkg_file(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """A GeoPackage with one or several layers (as a GIS project exports them)."""
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", append=path.exists())
    return path


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One variant: what a planner's system wrote, and what gridplan must do with it."""

    name: str
    command: str  # partition (Nanjing), coverage (Nanjing + walking network), yc_partition,
    #               validate
    outcome: str  # works | warns | error
    what: str
    build: Callable[[Base, Path], tuple[dict, list]]  # -> ({layer: file}, extra arguments)
    texts: tuple = ()  # what the message must say (errors and warnings)
    added: tuple = ()  # rows of the variant that the clean file does not have


HH_ZH = {"households": "户数", "building_id": "楼栋编号", "estate_id": "小区编号"}
MAP_ZH = ["--map", "building_id=楼栋编号,estate_id=小区编号"]


def _hh(base: Base, **names) -> pd.DataFrame:
    return lonlat_table(base.households, names or None)


def _gbk_csv(b, d):
    t = lonlat_table(b.households, HH_ZH, "经度", "纬度")
    return {"households": csv_file(t, d / "住户_GBK.csv", encoding="gbk")}, MAP_ZH


def _bom_csv(b, d):
    t = lonlat_table(b.households, HH_ZH, "经度", "纬度")
    return {"households": csv_file(t, d / "住户_BOM.csv", encoding="utf-8-sig")}, MAP_ZH


def _title_xlsx(b, d):
    t = lonlat_table(b.households, HH_ZH, "经度", "纬度")
    return {
        "households": xlsx_file(
            t, d / "住户统计.xlsx", title=("鼓楼区住户统计表", "填报单位：各社区  2024年6月")
        )
    }, MAP_ZH


def _second_sheet(b, d):
    return {"households": xlsx_file(_hh(b), d / "second_sheet.xlsx", sheet="住户", before="说明")}, []


def _named_sheet(b, d):
    path = xlsx_file(_hh(b), d / "named_sheet.xlsx", sheet="住户", before="说明")
    return {"households": path}, ["--sheet", "households=住户"]


def _two_point_sheets(b, d):
    path = xlsx_file(_hh(b), d / "two_sheets.xlsx", sheet="住户", before="说明")
    book = openpyxl.load_workbook(path)
    copy = book.copy_worksheet(book["住户"])
    copy.title = "住户_旧"
    book.save(path)
    return {"households": path}, []


def _count_header(header):
    def build(b, d):
        t = _hh(b, households=header)
        return {"households": csv_file(t, d / "hh_count_header.csv", encoding="gbk")}, []

    return build


def _count_unmapped(b, d):
    return {"households": csv_file(_hh(b, households="登记户数"), d / "hh_登记户数.csv")}, []


def _map_typo(b, d):
    t = lonlat_table(b.households, HH_ZH, "经度", "纬度")
    return {"households": csv_file(t, d / "hh_typo.csv")}, MAP_ZH + ["--map", "households=户 数"]


def _text_counts(b, d):
    t = _hh(b)
    t["households"] = [f"{v}户" for v in t["households"]]
    return {"households": csv_file(t, d / "hh_units.csv", encoding="gbk")}, []


def _bad_text_count(b, d):
    t = _hh(b)
    t["households"] = t["households"].astype(str)
    t.loc[[5, 40], "households"] = ["约30", "待核实"]
    return {"households": csv_file(t, d / "hh_bad_text.csv", title=("住户表",))}, []


def _blank_count(b, d):
    t = _hh(b)
    t["households"] = t["households"].astype("Int64")
    t.loc[17, "households"] = pd.NA
    return {"households": csv_file(t, d / "hh_blank.csv")}, []


def _trailing_empty(b, d):
    t = _hh(b)
    return {"households": csv_file(t, d / "hh_trailing.csv", tail=",,,,\r\n" * 5)}, []


def _empty_rows_xlsx(b, d):
    return {"households": xlsx_file(_hh(b), d / "hh_blocks.xlsx", empty_every=40)}, []


def _tab_txt(b, d):
    return {"households": csv_file(_hh(b), d / "住户.txt", sep="\t", encoding="gbk")}, []


def _bar_txt(b, d):
    return {"households": csv_file(_hh(b), d / "hh_bar.txt", sep="|")}, []


def _xls(b, d):
    t = lonlat_table(b.households, HH_ZH, "经度", "纬度")
    return {"households": xls_file(t, d / "住户.xls")}, MAP_ZH


def _gk_table(b):
    gk = b.households.to_crs(4549)  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    t = pd.DataFrame({"X": gk.geometry.x.round(4), "Y": gk.geometry.y.round(4)})
    for col in ("households", "building_id", "estate_id"):
        t[col] = b.households[col].to_numpy()
    return t


def _gk_csv(b, d):
    path = csv_file(_gk_table(b), d / "hh_cgcs2000_gk.csv")
    return {"households": path}, ["--crs", "households=EPSG:4549"]


def _gk_no_crs(b, d):
    return {"households": csv_file(_gk_table(b), d / "hh_gk_nocrs.csv")}, []


def _webmerc_gpkg(b, d):
    return {"households": gpkg_file({"住户": b.households.to_crs(3857)}, d / "hh_3857.gpkg")}, []


def _multilayer(b, d):
    path = gpkg_file({"社区": b.communities, "住户": b.households}, d / "project.gpkg")
    return {"households": path, "communities": path}, []


def _two_polygon_layers(b, d, layer_arg=False):
    streets = gpd.GeoDataFrame(
        {"street_id": ["320102"], "name": ["华侨路街道"]}, geometry=[b.communities.union_all()], crs=4326
    )
    path = gpkg_file({"社区": b.communities, "街道": streets}, d / f"bounds_{layer_arg}.gpkg")
    return {"communities": path}, (["--layer", "communities=社区"] if layer_arg else [])


def _hh_gcj02(b, d):
    t = lonlat_table(_round(convert_gdf(b.households, "wgs84", "gcj02")))
    return {"households": csv_file(t, d / "hh_amap_gcj02.csv")}, ["--coords", "households=gcj02"]


def _hh_shp(cpg):
    def build(b, d):
        enc = "UTF-8" if cpg else "GBK"
        hh = b.households.assign(address=[f"汉中路{i + 1}号" for i in range(len(b.households))])
        path = shapefile_zip(hh, d / f"hh_shp_{cpg}.zip", encoding=enc, cpg=cpg, upper=True)
        return {"households": path}, ["--map", "building_id=BUILDING_I,estate_id=ESTATE_ID"]

    return build


def _hh_parquet(b, d):
    return {"households": write(b.households, d / "hh.parquet")}, []


def _comm_shp(cpg):
    def build(b, d):
        src = gpd.GeoDataFrame(
            {"SQBM": b.communities["community_id"], "SQMC": b.communities["name"]},
            geometry=b.communities.geometry.values,
            crs=4326,
        )
        path = shapefile_zip(src, d / f"社区_{cpg}.zip", encoding="GBK", cpg=cpg)
        return {"communities": path}, ["--map", "community_id=SQBM,name=SQMC"]

    return build


def _comm_gk_shp(b, d):
    src = b.communities.to_crs(4549)
    src.columns = ["SQBM", "SQMC", "geometry"]
    src = src.set_geometry("geometry")
    path = shapefile_zip(src, d / "社区_gk.zip", encoding="GBK")
    return {"communities": path}, ["--map", "community_id=SQBM,name=SQMC"]


def _comm_webmerc(b, d):
    return {"communities": gpkg_file({"社区": b.communities.to_crs(3857)}, d / "comm_3857.gpkg")}, []


def _comm_wkt_csv(b, d):
    t = pd.DataFrame(
        {
            "社区编码": b.communities["community_id"],
            "社区名称": b.communities["name"],
            "wkt": shapely.to_wkt(b.communities.geometry.values, rounding_precision=7),
        }
    )
    path = csv_file(t, d / "社区_wkt.csv", encoding="gbk")
    return {"communities": path}, ["--map", "community_id=社区编码,name=社区名称"]


def _comm_dup(b, d):
    comm = b.communities.copy()
    comm.loc[2, "community_id"] = comm.loc[0, "community_id"]
    return {"communities": write(comm, d / "社区_重复.geojson")}, []


def _comm_no_id(b, d):
    comm = b.communities.drop(columns="community_id").rename(columns={"name": "SQMC"})
    return {"communities": write(comm, d / "社区_无编码.geojson")}, []


def _stray(b, d):
    t = _hh(b)
    far = t.iloc[[3]].assign(lon=118.90, lat=32.20)  # a geocoder's guess 20 km away
    t = pd.concat([t.iloc[:20], far, t.iloc[20:]], ignore_index=True)
    return {"households": csv_file(t, d / "hh_stray.csv")}, []


def _implausible(b, d):
    t = _hh(b)
    t.loc[7, "households"] = 38_000  # the street's total typed into one building's row
    return {"households": csv_file(t, d / "hh_total_row.csv")}, []


def _fac_gcj02(b, d):
    gcj = _round(convert_gdf(b.facilities, "wgs84", "gcj02"))
    return {"facilities": write(gcj, d / "centres_amap.geojson")}, ["--coords", "facilities=gcj02"]


def _fac_bd09(b, d):
    t = lonlat_table(_round(convert_gdf(b.facilities, "wgs84", "bd09")))
    return {"facilities": csv_file(t, d / "centres_baidu.csv")}, ["--coords", "facilities=bd09"]


def _fac_polygons(b, d):
    return {"facilities": write(b.outlines, d / "centres_outlines.geojson")}, []


def _fac_chinese(b, d):
    kinds = {"street_centre": "街道党群服务中心", "community_centre": "社区党群服务中心"}
    t = lonlat_table(
        b.facilities.assign(kind=b.facilities["kind"].map(kinds)),
        {"facility_id": "编号", "name": "名称", "kind": "类型"},
        "经度",
        "纬度",
    )
    path = xlsx_file(t, d / "党群服务中心.xlsx", title=("党群服务阵地一览表",))
    return {"facilities": path}, ["--map", "facility_id=编号"]


def _fac_dup(b, d):
    fac = b.facilities.copy()
    fac["facility_id"] = ["F1", "F2", "F2", "F4"][: len(fac)]
    return {"facilities": csv_file(lonlat_table(fac), d / "centres_dup.csv")}, []


def _yc_source(b, d):
    return {"communities": b.yc_source}, ["--map", "community_id=SQMC,name=SQMC"]


def _yc_shp_nocpg(b, d):
    src = gpd.read_file(b.yc_source)
    src = src[src["SSJD"] == YICHANG_STREET].reset_index(drop=True)
    path = shapefile_zip(src, d / "宜昌社区.zip", encoding="GBK", cpg=False)
    return {"communities": path}, ["--map", "community_id=SQMC,name=SQMC"]


def _yc_centres(mapped):
    def build(b, d):
        args = ["--coords", "facilities=gcj02"]
        return {"facilities": b.yc_centres}, (args + ["--map", "facility_id=poi_id"] if mapped else args)

    return build


CASES = [
    # households (Nanjing, partition: the same grids as the clean GeoJSON)
    Case("gbk_csv_chinese_headers", "partition", "works", "GBK CSV, 经度/纬度/户数", _gbk_csv),
    Case("bom_csv_chinese_headers", "partition", "works", "UTF-8 BOM CSV (Excel)", _bom_csv),
    Case("xlsx_title_rows", "partition", "works", "two title rows above the header", _title_xlsx),
    Case(
        "xlsx_second_sheet",
        "partition",
        "warns",
        "data on the 2nd sheet, notes first",
        _second_sheet,
        ("read sheet '住户'",),
    ),
    Case("xlsx_sheet_named", "partition", "works", "--sheet households=住户", _named_sheet),
    Case("count_户数(户)", "partition", "works", "count column 户数(户)", _count_header("户数(户)")),
    Case("count_HOUSEHOLDS", "partition", "works", "count column HOUSEHOLDS", _count_header("HOUSEHOLDS")),
    Case("count_总户数", "partition", "works", "count column 总户数", _count_header("总户数")),
    Case("count_户数（户）", "partition", "works", "full-width brackets", _count_header("户数（户）")),
    Case("text_counts_12户", "partition", "works", "counts written as '12户'", _text_counts),
    Case("csv_trailing_empty_rows", "partition", "works", "',,,,' rows below the data", _trailing_empty),
    Case("xlsx_empty_rows_between_blocks", "partition", "works", "an empty row every 40", _empty_rows_xlsx),
    Case("tab_separated_txt_gbk", "partition", "works", "tab-separated .txt in GBK", _tab_txt),
    Case("bar_separated_txt", "partition", "works", "'|'-separated .txt", _bar_txt),
    Case("legacy_xls", "partition", "works", "Excel 97-2003 .xls", _xls),
    Case("gauss_kruger_csv_with_crs", "partition", "works", "X/Y in CGCS2000 GK CM 120E", _gk_csv),
    Case("web_mercator_gpkg", "partition", "works", "EPSG:3857 GeoPackage", _webmerc_gpkg),
    Case("multilayer_gpkg", "partition", "works", "one GeoPackage: 住户 points, 社区 polygons", _multilayer),
    Case("gcj02_households_with_coords", "partition", "works", "Amap points, --coords", _hh_gcj02),
    Case("shp_upper_case_with_cpg", "partition", "works", "HOUSEHOLDS, BUILDING_I, .cpg", _hh_shp(True)),
    Case(
        "shp_upper_case_gbk_no_cpg",
        "partition",
        "warns",
        "GBK .dbf without .cpg",
        _hh_shp(False),
        ("no .cpg file",),
    ),
    Case("geoparquet", "partition", "works", "GeoParquet", _hh_parquet),
    Case(
        "implausible_total_row",
        "partition",
        "warns",
        "38,000 households in one row",
        _implausible,
        ("hold more than 5,000 households", "rows 9"),
    ),
    # household errors: exit 2, file + column/rows + fix, nothing written
    Case(
        "xlsx_two_point_sheets",
        "partition",
        "error",
        "two sheets with lon/lat",
        _two_point_sheets,
        ("two_sheets.xlsx", "住户, 住户_旧", "--sheet households="),
    ),
    Case(
        "count_column_unmapped",
        "partition",
        "error",
        "count column 登记户数",
        _count_unmapped,
        ("hh_登记户数.csv", "column '登记户数'", "--map households=登记户数"),
    ),
    Case(
        "map_typo",
        "partition",
        "error",
        "--map households=户 数 (typo)",
        _map_typo,
        ("hh_typo.csv", "户 数", "check the spelling"),
    ),
    Case(
        "text_count_not_a_number",
        "partition",
        "error",
        "'约30', '待核实' as counts",
        _bad_text_count,
        ("hh_bad_text.csv", "column 'households'", "rows 8, 43", "Fix:"),
    ),
    Case(
        "blank_count",
        "partition",
        "error",
        "one empty count cell",
        _blank_count,
        ("hh_blank.csv", "column 'households'", "rows 19", "Fix:"),
    ),
    Case(
        "gauss_kruger_csv_without_crs",
        "partition",
        "error",
        "X/Y metres, no --crs",
        _gk_no_crs,
        ("hh_gk_nocrs.csv", "look like metres", "--crs households=EPSG:"),
    ),
    # communities (Nanjing, partition)
    Case("comm_shp_gbk_with_cpg", "partition", "works", "SQBM/SQMC in GBK, .cpg", _comm_shp(True)),
    Case(
        "comm_shp_gbk_no_cpg", "partition", "warns", "GBK without .cpg", _comm_shp(False), ("no .cpg file",)
    ),
    Case("comm_shp_gauss_kruger", "partition", "works", "CGCS2000 GK .prj", _comm_gk_shp),
    Case("comm_web_mercator_gpkg", "partition", "works", "EPSG:3857 GeoPackage", _comm_webmerc),
    Case("comm_wkt_csv_gbk", "partition", "works", "WKT column, Chinese headers, GBK", _comm_wkt_csv),
    Case(
        "comm_gpkg_layer_named",
        "partition",
        "works",
        "社区 + 街道 layers, --layer",
        lambda b, d: _two_polygon_layers(b, d, True),
    ),
    Case(
        "comm_gpkg_two_polygon_layers",
        "partition",
        "error",
        "社区 + 街道 layers",
        lambda b, d: _two_polygon_layers(b, d, False),
        ("bounds_False.gpkg", "社区", "街道", "--layer communities="),
    ),
    Case(
        "comm_duplicated_ids",
        "partition",
        "error",
        "two communities share an id",
        _comm_dup,
        ("社区_重复.geojson", "column 'community_id'", "320102001 (rows 1, 3)", "Fix:"),
    ),
    Case(
        "comm_names_only",
        "partition",
        "error",
        "no id column, SQMC only",
        _comm_no_id,
        ("社区_无编码.geojson", "community_id", "--map community_id="),
    ),
    # facilities and households (Nanjing, coverage: the same walk_min)
    Case("centres_gcj02_with_coords", "coverage", "works", "Amap centres, --coords", _fac_gcj02),
    Case("centres_bd09_csv", "coverage", "works", "Baidu centres, --coords", _fac_bd09),
    Case(
        "centres_as_building_outlines",
        "coverage",
        "warns",
        "centres drawn as polygons",
        _fac_polygons,
        ("are polygons",),
    ),
    Case(
        "centres_xlsx_chinese",
        "coverage",
        "works",
        "编号/名称/类型 (社区党群服务中心), title",
        _fac_chinese,
        ("column '类型' used as 'kind'",),
    ),
    Case(
        "stray_point_far_away", "coverage", "works", "one household geocoded 20 km off", _stray, added=(20,)
    ),
    Case(
        "centres_duplicated_ids",
        "coverage",
        "error",
        "two centres share an id",
        _fac_dup,
        ("centres_dup.csv", "column 'facility_id'", "F2 (rows 3, 4)", "Fix:"),
    ),
    # Yichang communities as published (partition with generated households)
    Case("yichang_source_mapped", "yc_partition", "works", "SQMC as id, --map", _yc_source),
    Case(
        "yichang_shp_gbk_no_cpg",
        "yc_partition",
        "warns",
        "GBK .dbf, no .cpg",
        _yc_shp_nocpg,
        ("no .cpg file",),
    ),
    Case(
        "yichang_centres_no_id",
        "validate",
        "error",
        "Amap POIs without facility_id",
        _yc_centres(False),
        ("facility_id", "poi_id", "--map facility_id="),
    ),
    Case("yichang_centres_mapped", "validate", "works", "poi_id as id, --coords gcj02", _yc_centres(True)),
]


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    realdata = (
        Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
    )
    base = make_base(out / "clean", realdata)
    for case in CASES:
        folder = out / case.name
        folder.mkdir(parents=True, exist_ok=True)
        files, args = case.build(base, folder)
        shown = " ".join(str(f) for f in files.values())
        print(f"{case.name:34s} {case.outcome:6s} {case.what}: {shown} {' '.join(args)}")


if __name__ == "__main__":
    main(sys.argv[1:])
