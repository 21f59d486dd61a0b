"""``gridplan convert``: change a layer's format and/or coordinate system.

Reads IN with the contract readers (column mapping, GCJ-02/BD-09 -> WGS-84, checks) and writes
OUT in the format of its extension (.geojson, .gpkg, .parquet, .csv), atomically.
"""

from __future__ import annotations

from gridplan.cli._common import finish, parse_coords, parse_map, per_file

HELP = "convert a layer between formats (GeoJSON, GPKG, SHP zip, Parquet, CSV/XLSX) and to WGS-84"


def register(sub) -> None:
    p = sub.add_parser("convert", help=HELP, description=HELP)
    p.add_argument("input", metavar="IN", help="input file")
    p.add_argument("output", metavar="OUT", help="output file (.geojson, .gpkg, .parquet, .csv)")
    p.add_argument(
        "--kind",
        default="households",
        choices=("households", "communities", "facilities", "buildings", "estates", "barriers"),
        help="what the layer holds (default households)",
    )
    p.add_argument("--out-layer", default=None, help="GeoPackage layer name to write")
    finish(p, run, out=None)


def run(args) -> int:
    from gridplan.io.files import read_layer, write

    gdf = read_layer(
        args.input,
        args.kind,
        columns=parse_map(args.map),
        coords=parse_coords(args.coords).get(args.kind, "wgs84"),
        layer=per_file("--layer", args.layer, [args.kind]).get(args.kind),
        crs=per_file("--crs", args.crs, [args.kind]).get(args.kind),
    )
    path = write(gdf, args.output, layer=args.out_layer)
    if not args.quiet:
        print(f"wrote {len(gdf):,} {args.kind} to {path}")
    return 0
