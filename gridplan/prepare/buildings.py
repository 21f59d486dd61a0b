"""Households from building footprints, when there are no household points.

households = footprint area (m², in the data's UTM zone) x levels / gross floor area per household,
rounded, at least 1; buildings without ``levels`` get ``norms.default_levels`` floors; footprints
smaller than ``norms.min_dwelling_footprint_m2`` (kiosks, sheds, garages) are not dwellings and get
0. The norms live in :mod:`gridplan.norms`.

Residential buildings in OpenStreetMap (:func:`buildings_from_osm`): a closed way or multipolygon
relation with a ``building`` tag is residential when

- ``building`` is one of :data:`RESIDENTIAL_BUILDING_TAGS` (residential, apartments, house, ...), or
- ``building`` is one of :data:`GENERIC_BUILDING_TAGS` (``yes`` and the like) and its
  representative point lies in a ``landuse=residential`` area of the same file, or the building
  itself carries ``building:use``/``building:flats`` tags that say it is residential.

Everything else (school, office, commercial, ...) is not residential. Reading OSM needs a
per-object callback (pyosmium is a streaming reader): that loop is at the file boundary, every
geometric step after it is vectorised.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.io.fields import parse_numbers
from gridplan.io.problems import emit_warnings, raise_first_error
from gridplan.io.projection import local_crs
from gridplan.io.schema import conform
from gridplan.norms import DEFAULT_NORMS, Norms

__all__ = [
    "households_from_buildings",
    "buildings_from_osm",
    "RESIDENTIAL_BUILDING_TAGS",
    "GENERIC_BUILDING_TAGS",
]

RESIDENTIAL_BUILDING_TAGS = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "dormitory",
        "terrace",
        "semidetached_house",
        "bungalow",
        "farm",
        "cabin",
        "houseboat",
        "static_caravan",
    }
)
#: Tags that say "a building" without saying what for.
GENERIC_BUILDING_TAGS = frozenset({"yes", "building", "1", "true"})


def households_from_buildings(
    buildings: gpd.GeoDataFrame, *, norms: Norms = DEFAULT_NORMS
) -> gpd.GeoDataFrame:
    """Estimate households per building from footprint area and floors.

    Parameters
    ----------
    buildings : GeoDataFrame
        Building polygons; optional ``levels`` and ``households`` (kept where given and >= 0).
    norms : Norms
        ``gross_m2_per_household``, ``default_levels`` and ``min_dwelling_footprint_m2``.

    Returns
    -------
    GeoDataFrame
        The buildings (same rows and order, EPSG:4326) with ``households`` (int64),
        ``footprint_m2``, ``levels_used``, ``households_estimated`` (bool) and ``dwelling``
        (bool: footprint large enough to count).
    """
    gdf, problems = conform(buildings, "buildings", "buildings")
    raise_first_error(problems)
    emit_warnings(problems)
    metric = gdf.geometry.to_crs(local_crs(gdf))
    footprint = metric.area.to_numpy()
    levels = gdf["levels"].to_numpy(dtype=float) if "levels" in gdf.columns else np.full(len(gdf), np.nan)
    levels_used = np.where(np.isfinite(levels), levels, float(norms.default_levels))
    dwelling = footprint >= norms.min_dwelling_footprint_m2
    estimate = np.where(
        dwelling, np.maximum(1, np.rint(footprint * levels_used / norms.gross_m2_per_household)), 0
    ).astype(np.int64)
    if "households" in gdf.columns:
        given = gdf["households"]
        has = given.notna().to_numpy()
        hh = np.where(has, given.fillna(0).to_numpy(dtype=np.int64), estimate)
    else:
        has = np.zeros(len(gdf), bool)
        hh = estimate
    out = gdf.copy()
    out["households"] = hh.astype(np.int64)
    out["footprint_m2"] = np.round(footprint, 2)
    out["levels_used"] = levels_used
    out["households_estimated"] = ~has
    out["dwelling"] = dwelling | has
    return out


def _is_residential_use(tags: dict) -> bool:
    use = tags.get("building:use", "")
    return use in RESIDENTIAL_BUILDING_TAGS or bool(tags.get("building:flats"))


def buildings_from_osm(path, *, residential: bool = True) -> gpd.GeoDataFrame:
    """Building polygons from an OpenStreetMap file (.osm, .osm.bz2, .osm.pbf).

    Parameters
    ----------
    path : str or path-like
    residential : bool
        Keep only residential buildings (rule in the module docstring); False keeps all.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 with ``building_id`` ("w<way id>" or "r<relation id>"), ``name``, ``levels``
        (from ``building:levels``; NaN when absent), ``kind`` (the ``building`` tag) and
        ``residential`` (bool), sorted by ``building_id``.
    """
    import osmium

    path = Path(path)
    if not path.exists():
        raise InputError(
            f"file not found: {path}", file=path.name, fix="check the path", message_zh=f"找不到文件：{path}"
        )
    wkb = osmium.geom.WKBFactory()
    ids, names, levels, kinds, uses, geoms = [], [], [], [], [], []
    landuse = []
    try:
        processor = osmium.FileProcessor(str(path)).with_areas()
        for obj in processor:
            if not obj.is_area():
                continue
            tags = obj.tags
            is_building = "building" in tags and tags["building"] != "no"
            is_resi_landuse = tags.get("landuse") == "residential"
            if not (is_building or is_resi_landuse):
                continue
            try:
                geom = wkb.create_multipolygon(obj)
            except RuntimeError:
                # osmium cannot build broken rings; such an area has no footprint to count.
                continue
            if is_resi_landuse:
                landuse.append(geom)
            if is_building:
                ids.append(("w" if obj.from_way() else "r") + str(obj.orig_id()))
                names.append(tags.get("name"))
                levels.append(tags.get("building:levels"))
                kinds.append(tags["building"])
                uses.append(_is_residential_use(dict(tags)))
                geoms.append(geom)
    except RuntimeError as exc:
        raise InputError(
            f"cannot read the OpenStreetMap file: {exc}",
            file=path.name,
            fix="give a complete .osm, .osm.bz2 or .osm.pbf file",
            message_zh="无法读取 OpenStreetMap 文件",
        ) from exc
    geom_arr = (
        shapely.from_wkb(np.array(geoms, dtype=object), on_invalid="ignore")
        if geoms
        else np.array([], dtype=object)
    )
    lv, _, _ = parse_numbers(
        pd.Series(levels, dtype="object").astype("string").str.extract(r"([0-9]+(?:\.[0-9]+)?)")[0]
    )
    gdf = gpd.GeoDataFrame(
        {
            "building_id": pd.Series(ids, dtype="str"),
            "name": pd.Series(names, dtype="str"),
            "levels": lv.to_numpy(dtype=float) if len(ids) else np.array([], float),
            "kind": pd.Series(kinds, dtype="str"),
        },
        geometry=gpd.GeoSeries(geom_arr, crs=4326),
    )
    kind = gdf["kind"].to_numpy(dtype=object)
    resi = np.isin(kind, list(RESIDENTIAL_BUILDING_TAGS)) | np.asarray(uses, dtype=bool)
    generic = np.isin(kind, list(GENERIC_BUILDING_TAGS))
    if generic.any() and landuse:
        zones = shapely.from_wkb(np.array(landuse, dtype=object))
        tree = shapely.STRtree(zones)
        rep = shapely.point_on_surface(np.asarray(gdf.geometry.values)[generic])
        hit = np.unique(tree.query(rep, predicate="intersects")[0])
        in_zone = np.zeros(int(generic.sum()), bool)
        in_zone[hit] = True
        resi[np.flatnonzero(generic)[in_zone]] = True
    gdf["residential"] = resi
    gdf = gdf[gdf.geometry.notna()]
    if residential:
        gdf = gdf[gdf["residential"]]
    return gdf.sort_values("building_id", kind="stable").reset_index(drop=True)
