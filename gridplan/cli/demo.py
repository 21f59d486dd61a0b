"""``gridplan demo``: the main job on the bundled sample district, end to end.

Load and validate the sample, draw grids, compute the 15-minute circle, recommend new centres, and
write everything under ``--out`` with a short summary table. Each step is the same library call the
individual commands make, so the demo shows exactly what a user gets from them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gridplan.cli._common import add_quiet

HELP = "run the whole job (validate, grids, coverage, sites) on the bundled sample district"


def register(sub) -> None:
    p = sub.add_parser("demo", help=HELP, description=HELP)
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument("--data", default=None, help="sample data folder (default: the repository's data/)")
    p.add_argument("--add", type=int, default=3, help="new centres to recommend (default 3)")
    p.add_argument("--seed", type=int, default=0)
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gridplan.demo import run_demo

    summary = run_demo(out=Path(args.out), data=args.data, add=args.add, seed=args.seed, quiet=args.quiet)
    print(summary.to_text())
    return 0
