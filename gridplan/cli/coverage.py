"""``gridplan coverage``: the 15-minute service circle of party-mass centres.

Writes to ``--out``: households.geojson, isochrones.geojson, coverage.csv, standards.csv,
gaps.geojson and report.json, all published together at the end (nothing half-written).
"""

from __future__ import annotations

import argparse
import logging

from gridplan.cli._common import add_inputs, add_network, engine_options, finish, read_inputs
from gridplan.cli._layers import read_output
from gridplan.errors import InputError

HELP = "walking time to the nearest party-mass centre (15-minute circle), gaps and norms"

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("coverage", help=HELP, description=HELP)
    add_inputs(p, required=("households", "facilities"), optional=("grids", "communities"))
    add_network(p, required=False)
    p.add_argument("--minutes", type=float, default=None, help="service circle in minutes (default 15)")
    p.add_argument("--speed-kmh", type=float, default=None, help="walking speed (default 4.0 km/h)")
    p.add_argument(
        "--preset",
        type=int,
        choices=(5, 10, 15),
        default=None,
        help="GB 50180-2018 life circle: 5/10/15 minutes = 300/500/1000 m walking",
    )
    p.add_argument(
        "--kinds",
        default="street_centre,community_centre",
        help="facility kinds that count (comma-separated; default street_centre,community_centre)",
    )
    p.add_argument("--thresholds", default="5,10,15", help="isochrone minutes (default 5,10,15)")
    p.add_argument(
        "--max-snap",
        type=float,
        default=None,
        help="households farther than this (m) from a walkway are off the network (300)",
    )
    p.add_argument(
        "--centre-m2-per-100",
        type=float,
        default=None,
        help="community centre floor-area norm per 100 households (default 30, Hunan; Zhejiang 2025: 40)",
    )
    p.add_argument("--no-isochrones", action="store_true", help="skip isochrone polygons")
    finish(p, run, engine=True)


def run(args: argparse.Namespace) -> int:
    from gridplan.access.coverage import life_circle, write_coverage
    from gridplan.network.load import load_network
    from gridplan.norms import DEFAULT_NORMS, MAX_SNAP_M, WALK_MINUTES, WALK_SPEED_KMH
    from gridplan.parallel.engine import coverage

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
        raise InputError(
            f"--thresholds must be minutes separated by commas: {exc}", fix="e.g. --thresholds 5,10,15"
        ) from exc
    if args.network is None and args.place is None:
        raise InputError(
            "no walking network given",
            fix="pass --network FILE (OSM, GraphML or GeoJSON lines) or --place NAME",
            message_zh="未提供步行路网",
            fix_zh="请用 --network 或 --place 指定路网",
        )
    layers = read_inputs(
        args, {"households": args.households, "facilities": args.facilities, "communities": args.communities}
    )
    households, facilities = layers["households"], layers["facilities"]
    communities = layers["communities"]
    grids = read_output(args.grids, "grids", ("grid_id",)) if args.grids else None
    if not args.quiet:
        log.info("loading the walking network ...")
    net = load_network(args.network, place=args.place, progress=not args.quiet)
    result = coverage(
        households,
        facilities,
        net,
        grids=grids,
        communities=communities,
        minutes=minutes,
        speed_kmh=speed,
        kinds=kinds,
        thresholds=thresholds,
        max_snap_m=args.max_snap if args.max_snap is not None else MAX_SNAP_M,
        isochrones=not args.no_isochrones,
        progress=not args.quiet,
        files={"households": args.households, "facilities": args.facilities},
        **engine_options(args),
        norms=DEFAULT_NORMS
        if args.centre_m2_per_100 is None
        else DEFAULT_NORMS.with_(centre_m2_per_100_households=args.centre_m2_per_100),
    )
    written = write_coverage(result, args.out)
    r = result.report
    if not args.quiet:
        share = r["share_covered"]
        print(
            f"{r['households_covered']:,} of {r['households']:,} households "
            f"({(share or 0) * 100:.1f}%) within {minutes:g} min at {speed:g} km/h; "
            f"{r['off_network_households']:,} off the network; {r['gaps']} gaps"
        )
        print(
            f"{r['households_covered']:,} / {r['households']:,} 户在 {minutes:g} 分钟步行范围内；"
            f"{r['off_network_households']:,} 户距路网过远；{r['gaps']} 处服务空白"
        )
        for path in written:
            print(f"  wrote {path}")
    return 0
