"""``gridplan partition``: draw grids of 300-500 households in every community.

Writes DIR/grids.geojson, DIR/households.geojson (the input rows with ``grid_id``, same order),
DIR/report.json and, with ``--micro-max``, DIR/micro_grids.geojson. All files are published
together at the end of the run (nothing half-written).
"""

from __future__ import annotations

import argparse
import logging
import sys

from gridplan.cli._common import add_inputs, engine_options, finish, read_inputs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

HELP = "partition households into grids (网格) of 300-500 households per community"

log = logging.getLogger("gridplan")


def register(sub) -> None:
    p = sub.add_parser("partition", help=HELP, description=HELP)
    add_inputs(p, required=("communities", "households"))
    p.add_argument("--buildings", help="building polygons (building_id, estate_id)")
    p.add_argument("--estates", help="estate (小区) polygons (estate_id)")
    p.add_argument("--barriers", help="barrier lines (arterial roads, rivers, railways)")
    p.add_argument(
        "--streets",
        "--network",
        dest="streets",
        help="street or walking-network lines: grid lines follow them, footprints "
        "(--buildings polygons) and estate walls",
    )
    p.add_argument(
        "--keep-buildings-whole", action="store_true", help="never split a building above --max by entrance"
    )
    p.add_argument(
        "--min",
        type=int,
        default=GRID_MIN_HOUSEHOLDS,
        dest="min_households",
        help=f"fewest households per grid (default {GRID_MIN_HOUSEHOLDS})",
    )
    p.add_argument(
        "--max",
        type=int,
        default=GRID_MAX_HOUSEHOLDS,
        dest="max_households",
        help=f"most households per grid (default {GRID_MAX_HOUSEHOLDS})",
    )
    p.add_argument(
        "--micro-max",
        type=int,
        default=None,
        help="also split every grid into micro-grids of at most N households",
    )
    p.add_argument("--keep", help="grids file: keep these grids exactly, plan only the rest")
    p.add_argument(
        "--replan",
        help="previous households.geojson (with grid_id) or grids file: "
        "replan moving as few households as possible",
    )
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same output)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    finish(p, run, engine=True)


def run(args: argparse.Namespace) -> int:
    from gridplan.cli._layers import read_output
    from gridplan.grids.api import write_partition
    from gridplan.parallel.engine import partition

    layers = read_inputs(
        args,
        {
            "households": args.households,
            "communities": args.communities,
            "buildings": args.buildings,
            "estates": args.estates,
            "barriers": args.barriers,
        },
    )
    layers["streets"] = _read_streets(args.streets)
    households, communities = layers["households"], layers["communities"]
    buildings, estates, barriers = layers["buildings"], layers["estates"], layers["barriers"]
    keep = read_output(args.keep, "kept grids", ("grid_id",)) if args.keep else None
    replan = read_output(args.replan, "previous plan", ("grid_id",)) if args.replan else None

    res = partition(
        households,
        communities,
        buildings=buildings,
        estates=estates,
        barriers=barriers,
        streets=layers["streets"],
        keep_buildings_whole=args.keep_buildings_whole,
        min_households=args.min_households,
        max_households=args.max_households,
        micro_max=args.micro_max,
        keep=keep,
        replan=replan,
        seed=args.seed,
        n_jobs=args.jobs,
        progress=not args.quiet,
        **engine_options(args),
    )
    write_partition(res, args.out)
    t = res.report["total"]
    if not args.quiet:
        print(
            f"{t['grids']} grids in {t['communities']} communities, "
            f"{t['share_in_band']:.1%} in {t['bounds'][0]}-{t['bounds'][1]} households, "
            f"mean compactness {t['mean_compactness']:.2f}{_quality(t)}; written to {args.out}"
        )
    if t.get("rejected_rows"):
        # printed even with --quiet: planned without them, the planner must know
        print(
            f"{t['rejected_rows']} household row(s) ({t['rejected_households']} households) lie "
            f"outside every community: not planned, listed in {args.out}/rejects.csv\n"
            f"{t['rejected_rows']} 条住户记录（{t['rejected_households']} 户）不在任何社区内，"
            f"未参与划分，见 rejects.csv",
            file=sys.stderr,
        )
    return 0


def _quality(t: dict) -> str:
    """The geometry figures of the report for the summary line (empty when none were computed)."""
    parts = []
    if t.get("buildings_cut") is not None:
        parts.append(f"{t['buildings_cut']} buildings cut ({t['buildings_split']} split by entrance)")
    if t.get("estates_cut") is not None:
        parts.append(f"{t['estates_cut']} estates cut")
    if t.get("boundary_on_features") is not None:
        parts.append(f"{t['boundary_on_features']:.1%} of grid lines on streets/walls/outlines")
    if t.get("grids_enclosed"):
        parts.append(f"{t['grids_enclosed']} grid(s) inside another grid")
    return "; " + ", ".join(parts) if parts else ""


def _read_streets(path: str | None):
    """Street lines (EPSG:4326) read as a line layer, or None.

    The contract has no street kind: the lines are read and checked as barriers are, without
    the barriers' warning about a missing ``kind`` column (streets carry none).
    """
    if not path:
        return None
    from gridplan.io.files import read_checked
    from gridplan.io.problems import emit_warnings, raise_first_error

    gdf, problems = read_checked(path, "barriers")
    problems = [q for q in problems if q.code != "barrier_kind_missing"]
    raise_first_error(problems)
    emit_warnings(problems)
    return gdf
