"""Every input layer from one OpenStreetMap file, for planners who have only OSM.

The tag rules, in one place:

- **buildings** with households: residential buildings by the rule of
  :func:`gridplan.prepare.buildings.buildings_from_osm`, households estimated from footprint x
  levels (:func:`~gridplan.prepare.buildings.households_from_buildings`); footprints too small to
  be dwellings are dropped.
- **households**: one point per building inside its footprint, with its ``households``,
  ``building_id`` and ``estate_id``.
- **estates** (小区): closed ways and multipolygons tagged ``landuse=residential``,
  ``residential=*`` or ``place=neighbourhood`` / ``place=quarter`` (the walled compounds Chinese
  mappers draw), with their ``name``; an estate inside another keeps only the inner one's
  buildings. A building belongs to the estate that contains its representative point.
- **barriers** (lines a grid should not cross): ``highway`` in :data:`BARRIER_HIGHWAYS` (trunk,
  primary, secondary and their links), ``railway`` in :data:`BARRIER_RAILWAYS` above ground
  (tunnels and subways are not barriers), and ``waterway`` in :data:`BARRIER_WATERWAYS` (rivers
  and canals).
- **streets**: every way with a ``highway`` tag: the lines along which grid boundaries are drawn.
- **walking network**: the walkable ways (:mod:`gridplan.network.osm`), read again from the same
  file by :func:`gridplan.network.load.load_network`.
- **communities**, when the user has none: the blocks that the barrier lines enclose
  (``momepy.enclosures``) within the buildings' extent, numbered north to south, west to east;
  only blocks with households are kept. Official boundaries are always better: pass them.

Reading OSM needs pyosmium's per-object loop (a streaming reader); that loop is at the file
boundary, every geometric step after it is vectorised.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.io.projection import local_crs
from gridplan.network.osm import read_osm_ways
from gridplan.norms import DEFAULT_NORMS, Norms
from gridplan.prepare.buildings import buildings_from_osm, households_from_buildings

__all__ = [
    "BARRIER_HIGHWAYS",
    "BARRIER_RAILWAYS",
    "BARRIER_WATERWAYS",
    "prepare_from_osm",
    "estates_from_osm",
]

BARRIER_HIGHWAYS = frozenset(
    {
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "motorway",
        "motorway_link",
    }
)
BARRIER_RAILWAYS = frozenset({"rail", "light_rail", "narrow_gauge", "tram"})
BARRIER_WATERWAYS = frozenset({"river", "canal"})
#: Area tags that mark a residential estate.
ESTATE_TAGS = {"landuse": {"residential"}, "place": {"neighbourhood", "quarter"}}


def estates_from_osm(path: str | Path) -> gpd.GeoDataFrame:
    """Residential estates (小区) of an OSM file: ``estate_id``, ``name``, polygons, EPSG:4326.

    ``estate_id`` is ``"w<way id>"`` or ``"r<relation id>"``; see the module docstring for the
    tags read.
    """
    import osmium

    ids, names, geoms = [], [], []
    wkb = osmium.geom.WKBFactory()
    try:
        for obj in osmium.FileProcessor(str(path)).with_areas():
            if not obj.is_area() or not _is_estate(obj.tags):
                continue
            try:
                geoms.append(wkb.create_multipolygon(obj))
            except RuntimeError:
                continue  # broken rings: no polygon to use
            ids.append(("w" if obj.from_way() else "r") + str(obj.orig_id()))
            names.append(obj.tags.get("name"))
    except RuntimeError as exc:
        raise InputError(
            f"cannot read the OpenStreetMap file: {exc}",
            file=Path(path).name,
            fix="give a complete .osm, .osm.bz2 or .osm.pbf file",
            message_zh="无法读取 OpenStreetMap 文件",
        ) from exc
    geometry = shapely.from_wkb(np.array(geoms, dtype=object)) if geoms else np.empty(0, object)
    gdf = gpd.GeoDataFrame(
        {"estate_id": pd.Series(ids, dtype="str"), "name": pd.Series(names, dtype="object")},
        geometry=gpd.GeoSeries(geometry, crs=4326),
    )
    gdf["name"] = gdf["name"].where(gdf["name"].notna(), gdf["estate_id"])
    return gdf.sort_values("estate_id", kind="stable").reset_index(drop=True)


def _is_estate(tags) -> bool:
    if "residential" in tags and tags.get("building") is None:
        return True
    return any(tags.get(k) in v for k, v in ESTATE_TAGS.items())


def _barriers(ways: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Barrier lines: major roads from the highway ways, rail and water from a second pass."""
    hw = ways["highway"].astype(str).to_numpy()
    roads = ways[np.isin(hw, list(BARRIER_HIGHWAYS))]
    parts = [
        gpd.GeoDataFrame(
            {"kind": "road", "name": roads["name"].to_numpy(object)}, geometry=roads.geometry.values, crs=4326
        )
    ]
    parts.append(_rail_and_water(path))
    out = pd.concat(parts, ignore_index=True)
    out["name"] = out["name"].where(out["name"].notna(), out["kind"])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def _rail_and_water(path: Path) -> gpd.GeoDataFrame:
    import osmium

    kinds, names, xs, ys, idx = [], [], [], [], []
    fp = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    )
    for way in fp:
        tags = way.tags
        if tags.get("tunnel") not in (None, "no") or tags.get("layer", "0").startswith("-"):
            continue
        if tags.get("railway") in BARRIER_RAILWAYS:
            kind = "railway"
        elif tags.get("waterway") in BARRIER_WATERWAYS:
            kind = "river"
        else:
            continue
        loc = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(loc) < 2:
            continue
        idx.extend([len(kinds)] * len(loc))
        kinds.append(kind)
        names.append(tags.get("name"))
        xs.extend(p[0] for p in loc)
        ys.extend(p[1] for p in loc)
    geometry = (
        shapely.linestrings(np.c_[xs, ys], indices=np.asarray(idx, dtype=np.int64))
        if kinds
        else np.empty(0, dtype=object)
    )
    return gpd.GeoDataFrame(
        {"kind": kinds, "name": pd.Series(names, dtype=object)}, geometry=geometry, crs=4326
    )


def _communities_from_blocks(barriers: gpd.GeoDataFrame, households: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Blocks enclosed by the barrier lines within the households' extent (see the docstring)."""
    import momepy

    crs = local_crs(households)
    pts = households.to_crs(crs)
    extent = shapely.box(*pts.total_bounds).buffer(50.0, join_style="mitre")
    limit = gpd.GeoSeries([extent], crs=crs)
    lines = barriers.to_crs(crs).geometry if len(barriers) else gpd.GeoSeries([], crs=crs)
    blocks = momepy.enclosures(lines, limit=limit).geometry
    blocks = blocks[blocks.area > 1.0].reset_index(drop=True)
    has = np.zeros(len(blocks), bool)
    hit = shapely.STRtree(blocks.values).query(pts.geometry.values, predicate="within")[1]
    has[np.unique(hit)] = True
    blocks = blocks[has].reset_index(drop=True)
    rep = shapely.get_coordinates(shapely.point_on_surface(blocks.values))
    order = np.lexsort((np.round(rep[:, 0], -1), -np.round(rep[:, 1], -1)))
    ids = [f"C{k + 1:03d}" for k in range(len(order))]
    return gpd.GeoDataFrame(
        {"community_id": ids, "name": [f"街区{k + 1}" for k in range(len(order))]},
        geometry=blocks.values[order],
        crs=crs,
    ).to_crs(4326)


def prepare_from_osm(
    path: str | Path, *, communities: gpd.GeoDataFrame | None = None, norms: Norms = DEFAULT_NORMS
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer partition and coverage need, from one OSM file (rules in the docstring).

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf``.
    communities : GeoDataFrame, optional
        Community boundaries; when absent, blocks enclosed by barrier lines stand in for them.
    norms : Norms
        Floor area per household and default levels for the household estimate.

    Returns
    -------
    dict of str to GeoDataFrame
        ``buildings``, ``households``, ``estates``, ``barriers``, ``streets`` and
        ``communities`` (the given ones, or the derived blocks), all EPSG:4326.

    Raises
    ------
    InputError
        The file cannot be read, or holds no residential building.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"file not found: {path}", file=path.name, fix="check the path", message_zh=f"找不到文件：{path}"
        )
    bld = households_from_buildings(buildings_from_osm(path), norms=norms)
    bld = bld[bld["dwelling"]].drop(columns=["dwelling"]).reset_index(drop=True)
    if not len(bld):
        raise InputError(
            "no residential building in the OpenStreetMap file",
            file=path.name,
            fix="check the area of the extract",
            message_zh="OSM 文件中没有住宅建筑",
        )
    estates = estates_from_osm(path)
    rep = shapely.point_on_surface(bld.geometry.values)
    bld["estate_id"] = _containing(rep, estates)
    estates = estates[estates["estate_id"].isin(set(bld["estate_id"].dropna()))]
    households = gpd.GeoDataFrame(
        {
            "building_id": bld["building_id"],
            "estate_id": bld["estate_id"],
            "households": bld["households"].astype(np.int64),
        },
        geometry=rep,
        crs=4326,
    )
    ways = read_osm_ways(path)
    barriers = _barriers(ways, path)
    streets = gpd.GeoDataFrame(
        {"highway": ways["highway"], "name": ways["name"]}, geometry=ways.geometry.values, crs=4326
    )
    if communities is None:
        communities = _communities_from_blocks(barriers, households)
    return {
        "buildings": bld,
        "households": households,
        "estates": estates.reset_index(drop=True),
        "barriers": barriers,
        "streets": streets,
        "communities": communities,
    }


def _containing(points: np.ndarray, polygons: gpd.GeoDataFrame) -> pd.Series:
    """Id of the smallest polygon holding each point (nested estates: the inner one), or None."""
    out = np.full(len(points), None, dtype=object)
    if not len(polygons):
        return pd.Series(out, dtype="object")
    geoms = polygons.geometry.values
    area = shapely.area(polygons.to_crs(local_crs(polygons)).geometry.values)
    pt, poly = shapely.STRtree(geoms).query(points, predicate="within")
    order = np.lexsort((-area[poly], pt))  # per point, the smallest polygon last
    ids = polygons["estate_id"].to_numpy(object)
    out[pt[order]] = ids[poly[order]]
    return pd.Series(out, dtype="object")
