"""``gridplan sample``: write the bundled sample district (a synthetic 街道 of about 4 km²)."""

from __future__ import annotations

import argparse

from gridplan.cli._common import add_quiet


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample",
        help="write the sample district (communities, estates, buildings, households, network, ...)",
        description="Generate the synthetic sample street (紫阳街道, about 4 km², ~30,000 households) "
        "deterministically from --seed and write its GeoJSON/CSV files under --out.",
    )
    p.add_argument("--out", default="data", help="output folder (default: data)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0, the committed sample)")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gridplan.datasets.sample import load_sample, summarize, write_sample

    paths = write_sample(args.out, seed=args.seed)
    if not args.quiet:
        s = summarize(load_sample(args.out))
        print(f"wrote {len(paths)} files under {args.out}")
        print(f"  street area   {s['area_km2']} km², {s['communities']} communities (社区)")
        print(f"  estates       {s['estates']} (小区) with {s['gates']} gates")
        print(
            f"  buildings     {s['buildings']}, households {s['households']:,}, "
            f"population {s['population']:,}"
        )
        fac = ", ".join(f"{k} {v}" for k, v in s["facilities"].items())
        print(f"  facilities    {fac}")
        print(f"  walk network  {s['network_edges']} edges, {s['network_km']} km")
    return 0
