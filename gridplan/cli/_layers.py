"""Reading the layers that gridplan itself wrote (grids, units, sites, coverage outputs).

Contract inputs (households, communities, facilities) go through :mod:`gridplan.io.files`; layers that
gridplan wrote earlier only need to be read back and checked for the columns a command uses.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd

from gridplan.errors import InputError
from gridplan.io.postgis import is_postgis, read_source
from gridplan.io.readers import GDAL_ERRORS, source_name


def read_output(path: str | Path, what: str, required: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:4326 from a file gridplan wrote (or a PostGIS table it exported:
    ``postgresql://host/db?table=grids``), with ``required`` columns."""
    if is_postgis(path):
        gdf = read_source(str(path), [])
        return _required(gdf, required, what, source_name(path))
    path = Path(path)
    if not path.exists():
        raise InputError(
            "file not found",
            file=str(path),
            fix=f"check the path of the {what}",
            message_zh=f"找不到{what}文件",
        )
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except GDAL_ERRORS as exc:
        raise InputError(
            f"cannot read the {what}: {exc}",
            file=str(path),
            fix="give a GeoJSON, GeoPackage or GeoParquet file",
            message_zh=f"无法读取{what}文件",
        ) from exc
    return _required(gdf, required, what, str(path))


def _required(gdf: gpd.GeoDataFrame, required: tuple[str, ...], what: str, name: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise InputError(
            f"the {what} lack column(s) {', '.join(missing)}",
            file=name,
            column=missing[0],
            fix=f"give the {what} written by gridplan",
            message_zh=f"{what}缺少列 {', '.join(missing)}",
        )
    return gdf.to_crs(4326)


def read_contract(
    kind: str, path: str | Path, coords: str = "wgs84", columns: dict | None = None
) -> gpd.GeoDataFrame:
    """A contract input (households, communities, facilities) through :mod:`gridplan.io.files`."""
    from gridplan.io.files import read_layer

    return read_layer(path, kind, columns=columns or None, coords=coords)


def read_coverage_folder(folder: str | Path) -> SimpleNamespace:
    """The outputs of ``gridplan coverage --out DIR`` as an object like a CoverageResult."""
    folder = Path(folder)
    if not (folder / "households.geojson").exists():
        raise InputError(
            "not a coverage output folder (no households.geojson)",
            file=str(folder),
            fix="give the --out folder of gridplan coverage",
            message_zh="不是覆盖分析的输出目录",
        )
    result = SimpleNamespace(
        households=read_output(folder / "households.geojson", "coverage households", ("covered",)),
        isochrones=None,
        summary=None,
        standards=None,
    )
    if (folder / "isochrones.geojson").exists():
        result.isochrones = read_output(folder / "isochrones.geojson", "isochrones")
    for name, attr in (("coverage.csv", "summary"), ("standards.csv", "standards")):
        if (folder / name).exists():
            setattr(result, attr, pd.read_csv(folder / name, encoding="utf-8-sig"))
    return result
