"""``gridplan coverage``: the 15-minute service circle of party-mass centres.

Writes to ``--out``: households.geojson, isochrones.geojson, coverage.csv, standards.csv,
gaps.geojson and report.json, all published together at the end (nothing half-written).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from gridplan.cli._common import (add_coords, add_engine, add_map, add_quiet,
                                  engine_options, parse_map)
from gridplan.errors import InputError

HELP = "walking time to the nearest party-mass centre (15-minute circle), gaps and norms"

log = logging.getLogger(__name__)

#: Which --map fields apply to which input (a field applies only when the file has the column).
LAYER_FIELDS = {
    "households": ("households", "population", "community_id", "grid_id", "building_id", "estate_id"),
    "facilities": ("facility_id", "name", "kind", "area_m2", "community_id"),
    "communities": ("community_id", "name", "street_id", "street_name"),
    "grids": ("grid_id", "community_id", "name"),
}


def register(sub) -> None:
    p = sub.add_parser("coverage", help=HELP, description=HELP)
    p.add_argument("--households", required=True, help="household points (GeoJSON, GPKG, CSV, ...)")
    p.add_argument("--facilities", required=True, help="centres and stations (points)")
    p.add_argument("--network", default=None,
                   help="walking network: .osm/.osm.bz2/.osm.pbf, OSMnx .graphml, or GeoJSON lines")
    p.add_argument("--place", default=None,
                   help="download the walking network of this place with OSMnx (needs internet)")
    p.add_argument("--grids", default=None, help="grid polygons with grid_id (optional)")
    p.add_argument("--communities", default=None, help="community polygons (optional)")
    p.add_argument("--minutes", type=float, default=None, help="service circle in minutes (default 15)")
    p.add_argument("--speed-kmh", type=float, default=None, help="walking speed (default 4.0 km/h)")
    p.add_argument("--preset", type=int, choices=(5, 10, 15), default=None,
                   help="GB 50180-2018 life circle: 5/10/15 minutes = 300/500/1000 m walking")
    p.add_argument("--kinds", default="street_centre,community_centre",
                   help="facility kinds that count (comma-separated; default "
                        "street_centre,community_centre)")
    p.add_argument("--thresholds", default="5,10,15", help="isochrone minutes (default 5,10,15)")
    p.add_argument("--max-snap", type=float, default=None,
                   help="households farther than this (m) from a walkway are off the network (300)")
    p.add_argument("--centre-m2-per-100", type=float, default=None,
                   help="community centre floor-area norm per 100 households (default 30, "
                        "Hunan; Zhejiang 2025: 40)")
    p.add_argument("--no-isochrones", action="store_true", help="skip isochrone polygons")
    p.add_argument("--out", required=True, help="output folder")
    add_coords(p)
    add_map(p)
    add_engine(p)
    add_quiet(p)
    p.set_defaults(func=run)


def _read(kind: str, path: str, mapping: dict, coords: str):
    """Read a layer with gridplan.io.files when it exists (else pyogrio), EPSG:4326."""
    fields = _file_fields(path)
    cols = {k: v for k, v in mapping.items() if k in LAYER_FIELDS[kind] and (fields is None or v in fields)}
    try:
        from gridplan.io import files as gio
    except ImportError:
        gio = None
    reader = getattr(gio, f"read_{kind}", None) if gio is not None else None
    if reader is not None:
        return reader(path, columns=cols or None, coords=coords)
    return _fallback_read(path, cols, coords)


def _file_fields(path: str):
    try:
        import pyogrio

        return set(pyogrio.read_info(path)["fields"])
    except Exception:  # unreadable here: the reader reports it properly
        return None


def _fallback_read(path: str, cols: dict, coords: str):
    import geopandas as gpd
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=path, fix="check the path", message_zh="文件不存在")
    if coords != "wgs84":
        raise InputError("--coords needs gridplan.io.files, which is not installed in this build", file=path)
    try:
        if p.suffix.lower() == ".csv":
            df = pd.read_csv(p)
            lon = next((c for c in ("lon", "lng", "longitude", "经度") if c in df.columns), None)
            lat = next((c for c in ("lat", "latitude", "纬度") if c in df.columns), None)
            if lon is None or lat is None:
                raise InputError("no lon/lat columns", file=path, fix="add lon and lat columns")
            gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs=4326)
        else:
            gdf = gpd.read_file(p)
            if gdf.crs is None:
                gdf = gdf.set_crs(4326)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read: {exc}", file=path, message_zh="无法读取文件") from exc
    gdf = gdf.rename(columns={v: k for k, v in cols.items()})
    return gdf.to_crs(4326)


def run(args: argparse.Namespace) -> int:
    from gridplan.access.coverage import life_circle, write_coverage
    from gridplan.parallel.engine import coverage
    from gridplan.network.load import load_network
    from gridplan.norms import DEFAULT_NORMS, MAX_SNAP_M, WALK_MINUTES, WALK_SPEED_KMH

    mapping = parse_map(args.map)
    minutes, speed = WALK_MINUTES, WALK_SPEED_KMH
    if args.preset is not None:
        minutes, speed = life_circle(args.preset)
    if args.minutes is not None:
        minutes = args.minutes
    if args.speed_kmh is not None:
        speed = args.speed_kmh
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    try:
        thresholds = tuple(float(t) for t in args.thresholds.split(",") if t.strip())
    except ValueError as exc:
        raise InputError(f"--thresholds must be minutes separated by commas: {exc}",
                         fix="e.g. --thresholds 5,10,15") from exc
    if args.network is None and args.place is None:
        raise InputError("no walking network given",
                         fix="pass --network FILE (OSM, GraphML or GeoJSON lines) or --place NAME",
                         message_zh="未提供步行路网", fix_zh="请用 --network 或 --place 指定路网")
    households = _read("households", args.households, mapping, args.coords)
    facilities = _read("facilities", args.facilities, mapping, args.coords)
    communities = _read("communities", args.communities, mapping, args.coords) if args.communities else None
    grids = _read("grids", args.grids, mapping, args.coords) if args.grids else None
    if not args.quiet:
        log.info("loading the walking network ...")
    net = load_network(args.network, place=args.place, progress=not args.quiet)
    result = coverage(households, facilities, net, grids=grids, communities=communities,
                      minutes=minutes, speed_kmh=speed, kinds=kinds, thresholds=thresholds,
                      max_snap_m=args.max_snap if args.max_snap is not None else MAX_SNAP_M,
                      isochrones=not args.no_isochrones, progress=not args.quiet,
                      files={"households": args.households, "facilities": args.facilities},
                      **engine_options(args),
                      norms=DEFAULT_NORMS if args.centre_m2_per_100 is None else
                      DEFAULT_NORMS.with_(centre_m2_per_100_households=args.centre_m2_per_100))
    written = write_coverage(result, args.out)
    r = result.report
    if not args.quiet:
        share = r["share_covered"]
        print(f"{r['households_covered']:,} of {r['households']:,} households "
              f"({(share or 0) * 100:.1f}%) within {minutes:g} min at {speed:g} km/h; "
              f"{r['off_network_households']:,} off the network; {r['gaps']} gaps")
        print(f"{r['households_covered']:,} / {r['households']:,} 户在 {minutes:g} 分钟步行范围内；"
              f"{r['off_network_households']:,} 户距路网过远；{r['gaps']} 处服务空白")
        for path in written:
            print(f"  wrote {path}")
    return 0
