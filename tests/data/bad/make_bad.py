"""Write the bad-input corpus (tests/data/bad/): small files that real users send.

Run from the repository root:  .venv/bin/python tests/data/bad/make_bad.py
Every file is deterministic; the expected outcome of each is asserted in tests/test_bad_inputs.py.
Communities are two 1 km x 1.1 km squares in Yichang (C1 west, C2 east) unless a case says
otherwise.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
X0, Y0, X1, XM, Y1 = 111.28, 30.70, 111.30, 111.29, 30.71


def _comm(**extra):
    return gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["解放路社区", "墨池巷社区"], **extra},
        geometry=[shapely.box(X0, Y0, XM, Y1), shapely.box(XM, Y0, X1, Y1)],
        crs=4326,
    )


def _hh_points(n=12, seed=0, y_lo=Y0 + 0.001, y_hi=Y1 - 0.001, x_lo=X0 + 0.001, x_hi=X1 - 0.001):
    rng = np.random.default_rng(seed)
    return (np.round(rng.uniform(x_lo, x_hi, n), 6), np.round(rng.uniform(y_lo, y_hi, n), 6))


def _csv(name, df: pd.DataFrame, encoding="utf-8"):
    (HERE / name).write_bytes(df.to_csv(index=False, lineterminator="\n").encode(encoding))


def _geojson(name, gdf):
    path = HERE / name
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        gdf, path, driver="GeoJSON", layer=Path(name).stem, WRITE_NAME="NO", COORDINATE_PRECISION=7
    )


def _raw_geojson(name, features):
    (HERE / name).write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )


def _hh_frame(n=12, seed=0, **kw):
    x, y = _hh_points(n, seed, **kw)
    return pd.DataFrame(
        {
            "lon": x,
            "lat": y,
            "households": np.arange(1, n + 1) * 10,
            "building_id": [f"B{i}" for i in range(n)],
        }
    )


def _shapefile_zip(name, gdf, *, encoding=None, keep_cpg=True, keep_prj=True):
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "layer.shp"
        kw = {"encoding": encoding} if encoding else {}
        pyogrio.write_dataframe(gdf, shp, **kw)
        with zipfile.ZipFile(HERE / name, "w") as zf:
            for f in sorted(Path(tmp).iterdir()):
                if f.suffix == ".cpg" and not keep_cpg:
                    continue
                if f.suffix == ".prj" and not keep_prj:
                    continue
                info = zipfile.ZipInfo(f.name, date_time=(2020, 1, 1, 0, 0, 0))
                zf.writestr(info, f.read_bytes())


def main() -> None:
    for old in HERE.iterdir():
        if old.name not in ("make_bad.py", "README.md") and old.is_file():
            old.unlink()
    comm = _comm()
    _geojson("communities.geojson", comm)
    good = _hh_frame()
    _csv("hh_good.csv", good)

    # Encodings and spreadsheets.
    zh = good.rename(columns={"lon": "经度", "lat": "纬度", "households": "户数"})
    zh["地址"] = "中山路22号"
    _csv("hh_gbk.csv", zh, encoding="gbk")
    _csv("hh_utf8_bom.csv", zh, encoding="utf-8-sig")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["解放路社区住户统计表（2023年）"])
    ws.append(list(good.columns))
    for row in good.itertuples(index=False):
        ws.append(list(row))
    wb.save(HERE / "hh_title_row.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["地址", "户数"])
    ws.append(["中山路22号", 12])
    wb.save(HERE / "hh_no_lonlat.xlsx")

    # Values.
    units = good.astype({"households": object})
    units["households"] = [f"{v}户" for v in good["households"]]
    _csv("hh_units.csv", units)
    bad = good.astype({"households": object})
    bad.loc[[0, 3], "households"] = [0, -3]
    _csv("hh_nonpositive.csv", bad)
    bad = good.astype({"households": object})
    bad.loc[[4], "households"] = ["many"]
    _csv("hh_non_numeric.csv", bad)
    bad = good.astype({"households": object})
    bad.loc[[2], "households"] = [2.5]
    _csv("hh_fraction.csv", bad)
    bad = good.astype({"households": object})
    bad.loc[[6], "households"] = [None]
    _csv("hh_blank_households.csv", bad)
    _csv("hh_no_households_col.csv", good.drop(columns="households"))
    _csv("hh_missing_lon.csv", good.drop(columns="lon"))
    _csv("hh_header_only.csv", good.iloc[:0])
    (HERE / "hh_zero_bytes.geojson").write_bytes(b"")

    # Coordinates.
    _csv("hh_swapped.csv", good.rename(columns={"lon": "lat", "lat": "lon"}))
    from gridplan.io.coords import wgs84_to_gcj02

    # GCJ-02 lies ~0.0057 deg east of WGS-84 in Yichang: points near the east edge leave C2.
    north = _hh_frame(seed=1, x_lo=X1 - 0.005, x_hi=X1 - 0.0002)
    north.loc[[0, 1], "lon"] = [111.284, 111.285]  # these two stay inside C1 either way
    gx, gy = wgs84_to_gcj02(north["lon"].to_numpy(), north["lat"].to_numpy())
    _csv("hh_gcj02.csv", north.assign(lon=np.round(gx, 7), lat=np.round(gy, 7)))
    nan = good.astype({"lon": object, "lat": object})
    nan.loc[[2, 5], ["lon", "lat"]] = None
    _csv("hh_nan_coords.csv", nan)
    utm = gpd.GeoDataFrame(
        good.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(good.lon, good.lat), crs=4326
    ).to_crs(32649)
    _geojson("hh_metres.geojson", utm.set_crs(None, allow_override=True))
    far = good.copy()
    far.loc[[1, 7], ["lon", "lat"]] = [[116.397, 39.909], [116.40, 39.91]]
    _csv("hh_far_outside.csv", far)
    feats = [
        {
            "type": "Feature",
            "properties": {"households": 5},
            "geometry": {"type": "Point", "coordinates": [111.285, 30.705]},
        },
        {"type": "Feature", "properties": {"households": 7}, "geometry": None},
        {
            "type": "Feature",
            "properties": {"households": 3},
            "geometry": {"type": "Point", "coordinates": [111.295, 30.705]},
        },
    ]
    _raw_geojson("hh_null_geometry.geojson", feats)
    _geojson(
        "hh_lines.geojson",
        gpd.GeoDataFrame(
            {"households": [10, 20]},
            geometry=[
                shapely.LineString([(111.281, 30.701), (111.289, 30.709)]),
                shapely.LineString([(111.291, 30.701), (111.299, 30.709)]),
            ],
            crs=4326,
        ),
    )
    _geojson(
        "hh_polygons.geojson",
        gpd.GeoDataFrame(
            {"households": [10]}, geometry=[shapely.box(111.281, 30.701, 111.282, 30.702)], crs=4326
        ),
    )

    # Files that are not what they claim.
    rng = np.random.default_rng(7)
    (HERE / "garbage.geojson").write_bytes(bytes(rng.integers(0, 256, 512, dtype=np.uint8)))
    (HERE / "hh_csv_named.geojson").write_text(good.to_csv(index=False), encoding="utf-8")
    (HERE / "hh_unknown_ext.dat").write_text(good.to_csv(index=False), encoding="utf-8")
    (HERE / "garbage.zip").write_bytes(b"PK\x03\x04 this is not a zip archive")

    # Communities.
    bowtie = shapely.Polygon([(X0, Y0), (XM, Y1), (XM, Y0), (X0, Y1), (X0, Y0)])
    _geojson(
        "comm_bowtie.geojson",
        gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["a", "b"]},
            geometry=[bowtie, shapely.box(XM, Y0, X1, Y1)],
            crs=4326,
        ),
    )
    multi = shapely.MultiPolygon([shapely.box(X0, Y0, XM, Y0 + 0.005), shapely.box(X0, Y0 + 0.005, XM, Y1)])
    _geojson(
        "comm_multipolygon.geojson",
        gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["a", "b"]},
            geometry=[
                shapely.MultiPolygon(
                    [shapely.box(X0, Y0, XM, Y0 + 0.004), shapely.box(X0, Y0 + 0.006, XM, Y1)]
                ),
                shapely.box(XM, Y0, X1, Y1),
            ],
            crs=4326,
        ),
    )
    del multi
    holed = shapely.Polygon(
        shapely.box(X0, Y0, XM, Y1).exterior.coords,
        [shapely.box(X0 + 0.003, Y0 + 0.003, X0 + 0.006, Y0 + 0.006).exterior.coords],
    )
    _geojson(
        "comm_holes.geojson",
        gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["a", "b"]},
            geometry=[holed, shapely.box(XM, Y0, X1, Y1)],
            crs=4326,
        ),
    )
    _csv(
        "hh_in_hole.csv",
        pd.DataFrame(
            {
                "lon": [111.2845, 111.285, 111.295],
                "lat": [30.7045, 30.708, 30.705],
                "households": [40, 30, 20],
            }
        ),
    )
    _geojson(
        "comm_overlap.geojson",
        gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["a", "b"]},
            geometry=[shapely.box(X0, Y0, XM + 0.002, Y1), shapely.box(XM, Y0, X1, Y1)],
            crs=4326,
        ),
    )
    _csv(
        "hh_in_overlap.csv",
        pd.DataFrame(
            {
                "lon": [111.2902, 111.2915, 111.285, 111.297],
                "lat": [30.705, 30.705, 30.705, 30.705],
                "households": [11, 12, 13, 14],
            }
        ),
    )
    _geojson(
        "comm_gap.geojson",
        gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["a", "b"]},
            geometry=[shapely.box(X0, Y0, XM - 0.001, Y1), shapely.box(XM + 0.001, Y0, X1, Y1)],
            crs=4326,
        ),
    )
    _csv(
        "hh_in_gap.csv",
        pd.DataFrame(
            {"lon": [111.2899, 111.285, 111.295], "lat": [30.705, 30.705, 30.705], "households": [50, 30, 20]}
        ),
    )
    _geojson("comm_dup_ids.geojson", _comm().assign(community_id=["C1", "C1"]))
    _geojson("comm_no_id.geojson", _comm().rename(columns={"community_id": "SQBM"}))
    three = pd.concat(
        [
            _comm(),
            gpd.GeoDataFrame(
                {"community_id": ["C3"], "name": ["远郊村"]},
                geometry=[shapely.box(111.40, 30.80, 111.41, 30.81)],
                crs=4326,
            ),
        ],
        ignore_index=True,
    )
    _geojson("comm_no_households.geojson", three)
    shp = _comm().rename(columns={"community_id": "SQBM", "name": "SQMC"})
    _shapefile_zip("comm_noprj.zip", shp.set_crs(None, allow_override=True), keep_prj=False)
    _shapefile_zip(
        "comm_noprj_metres.zip", shp.to_crs(32649).set_crs(None, allow_override=True), keep_prj=False
    )
    _shapefile_zip("comm_gbk_cpg.zip", shp, encoding="GBK")
    _shapefile_zip("comm_gbk_nocpg.zip", shp, encoding="GBK", keep_cpg=False)
    _shapefile_zip("comm_cgcs2000_gk.zip", shp.to_crs(4546))  # CGCS2000 3-degree GK CM 111E
    geo = json.loads(comm.to_json())
    geo["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
    (HERE / "comm_unknown_crs.geojson").write_text(json.dumps(geo), encoding="utf-8")

    # Facilities.
    fac = gpd.GeoDataFrame(
        {
            "facility_id": ["F1", "F2", "F3"],
            "name": ["a", "b", "c"],
            "kind": ["community_centre", "clinic", "station"],
            "area_m2": [300, 80, 60],
        },
        geometry=gpd.points_from_xy([111.285, 111.295, 111.29], [30.705, 30.705, 30.708]),
        crs=4326,
    )
    _geojson("fac_unknown_kind.geojson", fac)
    _geojson("fac_dup_ids.geojson", fac.assign(facility_id=["F1", "F2", "F2"], kind="community_centre"))


if __name__ == "__main__":
    main()
    print(f"wrote {sum(1 for p in HERE.iterdir() if p.name != 'make_bad.py')} files to {HERE}")


# --- Pipeline cases (partition / coverage / site), appended for tests/test_bad_inputs_pipeline.py.
# `python make_bad.py` writes them after main(); to write only these (keeps the files above
# byte-identical, e.g. the .xlsx timestamps):
#   .venv/bin/python -c "import runpy; ns = runpy.run_path('tests/data/bad/make_bad.py'); \
#       ns['pipeline_cases'](); ns['pipeline_cases_2']()"


def _street_grid(x_lo, x_hi, y_lo, y_hi, step=0.002):
    """Footway lines on a lattice, split at every crossing so that they share vertices (OSM rule)."""
    xs = np.round(np.arange(x_lo, x_hi + 1e-9, step), 6)
    ys = np.round(np.arange(y_lo, y_hi + 1e-9, step), 6)
    lines = [shapely.LineString([(x, ys[i]), (x, ys[i + 1])]) for x in xs for i in range(len(ys) - 1)]
    lines += [shapely.LineString([(xs[i], y), (xs[i + 1], y)]) for y in ys for i in range(len(xs) - 1)]
    return lines


def _net(lines):
    return gpd.GeoDataFrame({"highway": ["footway"] * len(lines)}, geometry=lines, crs=4326)


def _fac(ids, kinds, xs, ys, **extra):
    return gpd.GeoDataFrame(
        {
            "facility_id": ids,
            "name": [f"{i}中心" for i in ids],
            "kind": kinds,
            "area_m2": [400] * len(ids),
            **extra,
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=4326,
    )


def pipeline_cases() -> None:
    # A connected footway lattice (~200 m) over C1 and C2, and the good facilities.
    _geojson("net_good.geojson", _net(_street_grid(X0, X1, Y0, Y1)))
    # Two pieces that never touch: C1's lattice and C2's lattice, 100 m apart.
    west = _street_grid(X0, XM - 0.001, Y0, Y1, step=0.001)
    east = _street_grid(XM + 0.001, X1, Y0, Y1, step=0.001)
    _geojson("net_disconnected.geojson", _net(west + east))
    _geojson(
        "fac_good.geojson",
        _fac(["F1", "F2"], ["community_centre", "street_centre"], [111.285, 111.295], [30.705, 30.705]),
    )
    # F9 stands 1.1 km north of every walkway (more than the 300 m snap limit).
    _geojson(
        "fac_far_from_network.geojson",
        _fac(["F1", "F9"], ["community_centre", "community_centre"], [111.285, 111.295], [30.705, 30.72]),
    )
    # One centre, in C1 only: on net_disconnected.geojson C2's households cannot reach it.
    _geojson("fac_west_only.geojson", _fac(["F1"], ["community_centre"], [111.285], [30.705]))
    # A facilities file with the right columns and no row at all.
    _raw_geojson("fac_none.geojson", [])
    # Only stations: no centre of the kinds coverage counts by default.
    _geojson("fac_stations_only.geojson", _fac(["S1"], ["station"], [111.285], [30.705]))
    # Households that all lie inside the repaired bow-tie (its two triangles) or in C2.
    _csv(
        "hh_in_bowtie.csv",
        pd.DataFrame(
            {
                "lon": [111.2815, 111.2885, 111.295, 111.296],
                "lat": [30.705, 30.705, 30.705, 30.706],
                "households": [40, 30, 20, 10],
            }
        ),
    )
    # An empty communities file (no features).
    _raw_geojson("comm_empty.geojson", [])


def pipeline_cases_2() -> None:
    # An EMPTY point geometry (not null): {"type": "Point", "coordinates": []}.
    _raw_geojson(
        "hh_empty_geometry.geojson",
        [
            {
                "type": "Feature",
                "properties": {"households": 5},
                "geometry": {"type": "Point", "coordinates": [111.285, 30.705]},
            },
            {
                "type": "Feature",
                "properties": {"households": 7},
                "geometry": {"type": "Point", "coordinates": []},
            },
        ],
    )
    # A self-intersecting ring that is not a bow-tie: a tail at C1's south-west corner crosses
    # the southern edge. hh_in_bowtie.csv's points lie inside the repaired shape.
    ring = [
        (X0, Y0),
        (XM, Y0),
        (XM, Y1),
        (X0, Y1),
        (X0, Y0 + 0.001),
        (X0 + 0.002, Y0 + 0.001),
        (X0 + 0.002, Y0 - 0.001),
        (X0, Y0 - 0.001),
        (X0, Y0),
    ]
    _geojson(
        "comm_selfcross.geojson",
        gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["a", "b"]},
            geometry=[shapely.Polygon(ring), shapely.box(XM, Y0, X1, Y1)],
            crs=4326,
        ),
    )


if __name__ == "__main__":
    # main() above removed every file first; the appended cases are written after it.
    pipeline_cases()
    pipeline_cases_2()
