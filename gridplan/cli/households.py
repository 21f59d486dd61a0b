"""``gridplan households``: household counts from building footprints (OSM or a buildings file).

One row per residential building with an estimated ``households`` (footprint x levels / gross
m² per household; see gridplan.prepare.buildings). ``--points`` writes one point per building (a point
inside its footprint, standing in for the entrance) instead of the polygon, ready for
``gridplan partition --households``.
"""

from __future__ import annotations

from gridplan.cli._common import finish, parse_map

HELP = "estimate households per residential building from OSM or a buildings layer"


def register(sub) -> None:
    p = sub.add_parser("households", help=HELP, description=HELP)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-osm", metavar="FILE", help=".osm, .osm.bz2 or .osm.pbf file")
    src.add_argument("--buildings", metavar="FILE", help="building polygons (any input format)")
    p.add_argument("--out", required=True, help="output file (.geojson, .gpkg, .parquet, .csv)")
    p.add_argument(
        "--points", action="store_true", help="write one point per building instead of its footprint"
    )
    p.add_argument(
        "--m2-per-household",
        type=float,
        default=None,
        help="gross floor area per household (default from gridplan.norms: 90)",
    )
    p.add_argument(
        "--default-levels",
        type=int,
        default=None,
        help="floors of a building without a levels tag (default 6)",
    )
    finish(p, run, out=None, coords=False)


def run(args) -> int:
    import shapely

    from gridplan.errors import InputError
    from gridplan.io.files import read_buildings, write
    from gridplan.norms import DEFAULT_NORMS
    from gridplan.prepare.buildings import buildings_from_osm, households_from_buildings

    norms = DEFAULT_NORMS
    if args.m2_per_household is not None:
        if args.m2_per_household <= 0:
            raise InputError("--m2-per-household must be positive", fix="e.g. 90")
        norms = norms.with_(gross_m2_per_household=args.m2_per_household)
    if args.default_levels is not None:
        if args.default_levels < 1:
            raise InputError("--default-levels must be at least 1", fix="e.g. 6")
        norms = norms.with_(default_levels=args.default_levels)
    if args.from_osm:
        bld = buildings_from_osm(args.from_osm)
        if len(bld) == 0:
            raise InputError(
                "no residential building in the OpenStreetMap file",
                file=args.from_osm,
                fix="check the area of the extract",
                message_zh="OSM 文件中没有住宅建筑",
            )
    else:
        bld = read_buildings(args.buildings, columns=parse_map(args.map))
    est = households_from_buildings(bld, norms=norms)
    excluded = int((~est["dwelling"]).sum())
    est = est[est["dwelling"]].drop(columns=["dwelling"]).reset_index(drop=True)
    if args.points:
        est = est.set_geometry(shapely.point_on_surface(est.geometry.values))
    write(est, args.out)
    if not args.quiet:
        print(
            f"wrote {len(est):,} buildings, {int(est['households'].sum()):,} households to "
            f"{args.out} ({excluded} footprint(s) under "
            f"{norms.min_dwelling_footprint_m2:g} m² not counted as dwellings)"
        )
    return 0
