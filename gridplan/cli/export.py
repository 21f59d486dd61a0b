"""``gridplan export``: a plan as a GeoPackage (one layer per level), an Excel report in Chinese,
RFC 7946 GeoJSON, a PNG map and PostGIS tables, with stable grid codes (see
:mod:`gridplan.report.codes`)."""

from __future__ import annotations

import argparse

from gridplan.cli._common import add_inputs, finish, parse_coords
from gridplan.errors import InputError

HELP = "export grids with stable codes: GeoPackage per level, Excel report (中文), GeoJSON, PNG"


def register(sub) -> None:
    p = sub.add_parser("export", help=HELP, description=HELP)
    add_inputs(p, required=("grids",))
    p.add_argument(
        "--households", default=None, help="households with grid_id (the partition's assignment), optional"
    )
    p.add_argument("--communities", default=None, help="community polygons (for streets), optional")
    p.add_argument("--facilities", default=None, help="centres and stations (points), optional")
    p.add_argument("--micro-grids", default=None, help="micro-grids of the partition, optional")
    p.add_argument(
        "--coverage",
        default=None,
        metavar="DIR",
        help="output folder of gridplan coverage (households, isochrones, tables)",
    )
    p.add_argument("--sites", default=None, help="recommended sites of gridplan site, optional")
    p.add_argument(
        "--previous",
        default=None,
        help="grids exported before (with grid_code): grids that did not change keep "
        "their codes, new grids get new numbers",
    )
    p.add_argument("--gpkg", default=None, help="GeoPackage to write (one layer per level)")
    p.add_argument("--xlsx", default=None, help="Excel report to write (Chinese)")
    p.add_argument("--geojson", default=None, help="grids as RFC 7946 GeoJSON to write")
    p.add_argument("--png", default=None, help="PNG map of the grids by status to write")
    p.add_argument(
        "--postgis",
        default=None,
        metavar="postgresql://[USER@]HOST[:PORT]/DB",
        help="write the layers and the coverage per grid as PostGIS tables (a rerun replaces them "
        "in one transaction); the password comes from PGPASSWORD, ~/.pgpass or PGSERVICE, never the URL",
    )
    p.add_argument("--schema", default=None, help="PostgreSQL schema for --postgis (default: public)")
    finish(p, run, out=None, mapping=False)


def run(args: argparse.Namespace) -> int:
    from gridplan.cli._layers import read_contract, read_coverage_folder, read_output
    from gridplan.report.codes import carry_codes, grid_codes
    from gridplan.report.export import export

    if not any((args.gpkg, args.xlsx, args.geojson, args.png, args.postgis)):
        raise InputError(
            "nothing to write",
            fix="give --gpkg, --xlsx, --geojson, --png and/or --postgis",
            message_zh="未指定输出文件",
        )
    if args.schema and not args.postgis:
        raise InputError("--schema needs --postgis", fix="add --postgis postgresql://HOST/DB")
    grids = read_output(args.grids, "grids", ("grid_id", "community_id", "households"))
    communities = (
        read_contract("communities", args.communities, parse_coords(args.coords).get("communities", "wgs84"))
        if args.communities
        else None
    )
    households = read_output(args.households, "households", ("grid_id",)) if args.households else None
    coverage = read_coverage_folder(args.coverage) if args.coverage else None
    if args.previous:
        previous = read_output(args.previous, "previous grids", ("grid_id", "community_id"))
        grids = carry_codes(grids, previous, communities=communities)
    elif "grid_code" not in grids.columns:
        grids = grid_codes(grids, communities)
    written = export(
        grids,
        gpkg=args.gpkg,
        xlsx=args.xlsx,
        geojson=args.geojson,
        png=args.png,
        communities=communities,
        households=households,
        facilities=(
            read_contract("facilities", args.facilities, parse_coords(args.coords).get("facilities", "wgs84"))
            if args.facilities
            else None
        ),
        micro_grids=read_output(args.micro_grids, "micro-grids", ("grid_id",)) if args.micro_grids else None,
        sites=read_output(args.sites, "sites") if args.sites else None,
        coverage=coverage,
        postgis=args.postgis,
        schema=args.schema,
    )
    if not args.quiet:
        print(f"{len(grids)} grids exported / 已导出 {len(grids)} 个网格")
        for path in written.values():
            print(f"  wrote {path}")
        if args.postgis:
            print(f"  wrote tables to {args.postgis} (schema {args.schema or 'public'})")
    return 0
