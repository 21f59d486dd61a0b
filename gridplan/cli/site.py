"""``gridplan site``: where to open new party-mass centres or stations.

Writes to ``--out``: sites.geojson (ranked sites), coverage_after.csv and report.json, published
together at the end (nothing half-written); prints a short report.
"""

from __future__ import annotations

import argparse
import logging
import warnings

from gridplan.cli._common import add_inputs, add_network, finish, parse_coords, read_inputs
from gridplan.errors import GridplanWarning, InputError

HELP = "recommend new centre/station sites (maximal or set covering, with a certified gap)"

log = logging.getLogger(__name__)


def register(sub) -> None:
    from gridplan.norms import SITING_SPACING_M, SITING_TIME_LIMIT_S, WALK_SPEED_KMH

    p = sub.add_parser("site", help=HELP, description=HELP)
    add_inputs(p, required=("households", "facilities"))
    add_network(p, required=True)
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--add", type=int, help="number of new sites: the K that cover the most")
    goal.add_argument(
        "--target-share", type=float, help="fewest new sites to reach this share (0-1] of households covered"
    )
    p.add_argument(
        "--kind",
        choices=("community_centre", "station", "street_centre"),
        default="community_centre",
        help="what to site (default community_centre)",
    )
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="walking minutes (default 15 for centres, 10 for stations)",
    )
    p.add_argument(
        "--speed-kmh",
        type=float,
        default=WALK_SPEED_KMH,
        help=f"walking speed (default {WALK_SPEED_KMH:g} km/h)",
    )
    p.add_argument(
        "--candidates",
        default=None,
        help="your candidate sites (points; optional candidate_id, name, area_m2)",
    )
    p.add_argument("--candidates-only", action="store_true", help="use only --candidates, not network nodes")
    p.add_argument(
        "--spacing",
        type=float,
        default=SITING_SPACING_M,
        help=f"lattice spacing of network-node candidates in m (default {SITING_SPACING_M:g})",
    )
    p.add_argument(
        "--demand",
        choices=("uncovered", "all"),
        default="uncovered",
        help="uncovered households only (default) or all (ignore existing facilities)",
    )
    p.add_argument(
        "--capacity",
        action="store_true",
        help="limit what a site serves by its floor area (30 m² per 100 households)",
    )
    p.add_argument(
        "--grids",
        default=None,
        help="grid polygons (grid_id); with --kind station: site in grids no centre covers",
    )
    p.add_argument(
        "--communities", default=None, help="community polygons (community_id), for per-community figures"
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=SITING_TIME_LIMIT_S,
        help=f"seconds for the exact solver (default {SITING_TIME_LIMIT_S:g})",
    )
    finish(p, run)


def _read_candidates(path: str, coords: str):
    from gridplan.io.files import read_households

    # Candidate sites are points like households; the reader's note about a missing household
    # count does not apply to them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridplanWarning)
        gdf = read_households(path, coords=coords)
    return gdf.drop(columns=[c for c in ("households",) if c in gdf.columns])


def run(args: argparse.Namespace) -> int:
    from gridplan.cli._layers import read_output
    from gridplan.network.load import load_network
    from gridplan.siting.api import site, write_siting

    if args.candidates_only and not args.candidates:
        raise InputError(
            "--candidates-only needs --candidates FILE",
            fix="add --candidates FILE or drop --candidates-only",
            message_zh="--candidates-only 需要同时指定 --candidates 文件",
        )
    layers = read_inputs(
        args, {"households": args.households, "facilities": args.facilities, "communities": args.communities}
    )
    households, facilities = layers["households"], layers["facilities"]
    communities = layers["communities"]
    candidates = (
        _read_candidates(args.candidates, parse_coords(args.coords).get("candidates", "wgs84"))
        if args.candidates
        else None
    )
    grids = read_output(args.grids, "grids", ("grid_id",)) if args.grids else None
    if not args.quiet:
        log.info("loading the walking network ...")
    net = load_network(args.network)
    result = site(
        households,
        facilities,
        net,
        add=args.add,
        target_share=args.target_share,
        kind=args.kind,
        minutes=args.minutes,
        speed_kmh=args.speed_kmh,
        candidates=candidates,
        spacing_m=args.spacing,
        demand=args.demand,
        capacity=args.capacity,
        time_limit=args.time_limit,
        grids=grids,
        communities=communities,
        network_nodes=not args.candidates_only,
    )
    written = write_siting(result, args.out)
    if not args.quiet:
        print(result.summary_text())
        for path in written:
            print(f"  wrote {path}")
    return 0
