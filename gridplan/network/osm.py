"""Which OSM ways a pedestrian can use, and reading them from .osm / .osm.bz2 / .osm.pbf files.

The walkable filter (applied to OSM files, GraphML files and line files that carry a ``highway``
column; lines without the column are all kept):

- kept: ``highway`` in :data:`WALKABLE_HIGHWAYS` (footway, path, pedestrian, steps, living_street,
  residential, service, unclassified, tertiary/secondary/primary and their links, track, corridor,
  crossing, cycleway, bridleway, elevator, road);
- ``trunk`` / ``trunk_link`` only with a sidewalk on the way itself (``sidewalk`` in both/left/
  right/yes) or an explicit ``foot`` in yes/designated/permissive: Chinese urban expressways
  (快速路) are tagged trunk and are not walkable;
- dropped: motorway and motorway_link always; ``foot=no``; ``access=no`` unless ``foot`` allows
  walking; ways under construction or proposed;
- ``access=private`` (and customers/destination/permissive) is KEPT: gated estates (小区) tag their
  internal roads private, and the residents whose walk we measure are exactly the people allowed
  on them. Without those roads households inside estates snap to the street outside the wall;
- ``area=yes`` (pedestrian squares drawn as closed ways) is kept for pedestrian/footway and walked
  along its outline (a conservative approximation: crossing the square is shorter); other
  ``area=yes`` highways are dropped.

pyosmium is used for all three OSM encodings because OSMnx cannot read .pbf; one reader keeps the
filter identical across formats.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import NetworkError

__all__ = ["WALKABLE_HIGHWAYS", "walkable_mask", "read_osm_ways"]

WALKABLE_HIGHWAYS = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "steps",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "track",
        "corridor",
        "crossing",
        "cycleway",
        "bridleway",
        "elevator",
        "road",
    }
)
TRUNK_HIGHWAYS = frozenset({"trunk", "trunk_link"})
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
SIDEWALK_ON_WAY = frozenset({"both", "left", "right", "yes"})
#: Tags read from OSM ways (all others are ignored).
OSM_TAGS = ("highway", "name", "foot", "access", "sidewalk", "area")


def _first(value):
    # OSMnx GraphML keeps merged ways' tags as lists ("['footway', 'service']"): use any walkable
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        return [s.strip(" '\"") for s in value[1:-1].split(",")]
    return [value]


def walkable_mask(ways: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
    """Which rows of ``ways`` are walkable, by the rule in this module's docstring.

    Parameters
    ----------
    ways : DataFrame
        With a ``highway`` column and optionally ``foot``, ``access``, ``sidewalk``, ``area``.

    Returns
    -------
    mask : ndarray of bool
    dropped : dict
        Number of ways dropped per reason.
    """

    def col(name):
        if name in ways.columns:
            return ways[name].astype(object).where(ways[name].notna(), "").astype(str).str.lower()
        return pd.Series("", index=ways.index)

    hw = col("highway")
    foot, access, sidewalk, area = col("foot"), col("access"), col("sidewalk"), col("area")
    any_walkable = hw.isin(WALKABLE_HIGHWAYS).to_numpy(copy=True)
    # only list-valued tags (merged ways in OSMnx graphs) need the slow per-value look
    # (str() of a list starts with "[")
    listy = np.flatnonzero(hw.str.startswith("[").to_numpy(bool))
    if len(listy):
        any_walkable[listy] = [
            any(str(x).lower() in WALKABLE_HIGHWAYS for x in _first(v))
            for v in ways["highway"].to_numpy()[listy]
        ]
    is_trunk = hw.isin(TRUNK_HIGHWAYS).to_numpy()
    foot_ok = foot.isin(FOOT_ALLOWED).to_numpy()
    trunk_ok = is_trunk & (sidewalk.isin(SIDEWALK_ON_WAY).to_numpy() | foot_ok)
    foot_no = (foot == "no").to_numpy()
    access_no = (access == "no").to_numpy() & ~foot_ok
    area_bad = (area == "yes").to_numpy() & ~hw.isin({"pedestrian", "footway"}).to_numpy()
    base = any_walkable | trunk_ok
    mask = base & ~foot_no & ~access_no & ~area_bad
    dropped = {
        "not_walkable_highway": int((~base).sum()),
        "foot_no": int((base & foot_no).sum()),
        "access_no": int((base & ~foot_no & access_no).sum()),
        "area": int((base & ~foot_no & ~access_no & area_bad).sum()),
    }
    return mask, dropped


def read_osm_ways(path: str | Path) -> gpd.GeoDataFrame:
    """Every way with a ``highway`` tag in an OSM file, as WGS-84 LineStrings.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``.

    Returns
    -------
    GeoDataFrame
        Columns ``osmid`` and the tags in :data:`OSM_TAGS` (missing tags are null), EPSG:4326,
        sorted by ``osmid``.
    """
    import osmium

    path = Path(path)
    osmids, tags, xs, ys, idx = [], {k: [] for k in OSM_TAGS}, [], [], []
    try:
        # Nodes are read only to fill the location cache; the filter passes highway ways alone.
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        # The loop runs once per way at load time (I/O bound), never on a hot path.
        for way in fp:
            nodes = way.nodes
            try:
                lon = [n.lon for n in nodes]
                lat = [n.lat for n in nodes]
            except osmium.InvalidLocationError:
                # A way whose nodes are outside the extract: keep the part with locations.
                loc = [(n.lon, n.lat) for n in nodes if n.location.valid()]
                lon = [p[0] for p in loc]
                lat = [p[1] for p in loc]
            if len(lon) < 2:
                continue
            k = len(osmids)
            osmids.append(way.id)
            for key in OSM_TAGS:
                tags[key].append(way.tags.get(key))
            xs.extend(lon)
            ys.extend(lat)
            idx.extend([k] * len(lon))
    except (RuntimeError, OSError) as exc:
        raise NetworkError(
            f"cannot read the OSM file: {exc}",
            file=str(path),
            fix="give an .osm, .osm.bz2 or .osm.pbf file exported from OpenStreetMap",
            message_zh=f"无法读取 OSM 文件：{exc}",
            fix_zh="请提供从 OpenStreetMap 导出的 .osm、.osm.bz2 或 .osm.pbf 文件",
        ) from exc
    geometry = (
        shapely.linestrings(np.c_[xs, ys], indices=np.asarray(idx, dtype=np.int64))
        if osmids
        else np.empty(0, dtype=object)
    )
    gdf = gpd.GeoDataFrame(
        {
            "osmid": np.asarray(osmids, dtype=np.int64),
            **{k: pd.Series(v, dtype=object) for k, v in tags.items()},
        },
        geometry=geometry,
        crs="EPSG:4326",
    )
    return gdf.sort_values("osmid", kind="stable").reset_index(drop=True)
