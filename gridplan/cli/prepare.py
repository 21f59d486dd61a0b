"""``gridplan prepare``: every input layer from one OpenStreetMap file.

Writes to ``--out``: buildings.geojson (footprints with estimated households), households.geojson
(one point per building), estates.geojson, barriers.geojson, streets.geojson, walk.geojson (the
walkable ways) and communities.geojson (the given boundaries, or blocks enclosed by major roads,
railways and rivers). The tag rules are in :mod:`gridplan.prepare.osm`.
"""

from __future__ import annotations

import argparse

from gridplan.cli._common import finish, read_inputs

HELP = "prepare buildings, households, estates, barriers, streets and network from one OSM file"


def register(sub) -> None:
    p = sub.add_parser("prepare", help=HELP, description=HELP)
    p.add_argument("--from-osm", required=True, metavar="FILE", help=".osm, .osm.bz2 or .osm.pbf file")
    p.add_argument(
        "--communities",
        default=None,
        help="community boundaries (default: blocks enclosed by major roads, railways and rivers)",
    )
    p.add_argument(
        "--m2-per-household",
        type=float,
        default=None,
        help="gross floor area per household (default from gridplan.norms: 90)",
    )
    finish(p, run)


def run(args: argparse.Namespace) -> int:
    from gridplan.errors import InputError
    from gridplan.io.atomic import atomic_outputs
    from gridplan.io.files import write
    from gridplan.network.osm import walkable_mask
    from gridplan.norms import DEFAULT_NORMS
    from gridplan.prepare.osm import prepare_from_osm

    norms = DEFAULT_NORMS
    if args.m2_per_household is not None:
        if args.m2_per_household <= 0:
            raise InputError("--m2-per-household must be positive", fix="e.g. 90")
        norms = norms.with_(gross_m2_per_household=args.m2_per_household)
    communities = read_inputs(args, {"communities": args.communities})["communities"]
    layers = prepare_from_osm(args.from_osm, communities=communities, norms=norms)
    mask, _ = walkable_mask(layers["streets"])
    layers["walk"] = layers["streets"][mask].reset_index(drop=True)
    with atomic_outputs(args.out) as out:
        for name, gdf in layers.items():
            write(gdf, out.path(f"{name}.geojson"))
        written = out.commit()
    if not args.quiet:
        hh = layers["households"]
        print(
            f"{len(hh):,} buildings with {int(hh['households'].sum()):,} households, "
            f"{len(layers['estates'])} estates, {len(layers['barriers'])} barrier lines, "
            f"{len(layers['communities'])} communities"
            + ("" if args.communities else " (blocks enclosed by major roads)")
            + f"; written to {args.out}"
        )
        for path in written:
            print(f"  wrote {path}")
    return 0
