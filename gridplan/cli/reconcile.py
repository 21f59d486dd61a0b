"""``gridplan reconcile``: merge departmental grid layers into one network (一张网)."""

from __future__ import annotations

import argparse

from gridplan.cli._common import add_inputs, finish, parse_coords
from gridplan.errors import InputError

HELP = "compare departmental grid layers with ours and propose one unified layer (一张网)"


def register(sub) -> None:
    p = sub.add_parser("reconcile", help=HELP, description=HELP)
    add_inputs(p, required=("grids",))
    p.add_argument(
        "--households",
        required=True,
        help="household points (with grid_id from the partition, or placed by location)",
    )
    p.add_argument(
        "--layer",
        action="append",
        default=[],
        required=True,
        metavar="NAME=FILE[:ID_COLUMN]",
        help="a department's grid layer, e.g. 综治=zz.geojson:WGBM (repeatable)",
    )
    p.add_argument(
        "--units",
        default=None,
        help="partition units (unit_id, grid_id, cells) to move between grids; "
        "default: buildings or household points of each grid",
    )
    p.add_argument(
        "--aligned-share",
        type=float,
        default=None,
        help="share of a grid's households in one grid of the other layer for it to "
        "count as aligned (default 0.95)",
    )
    p.add_argument("--min-households", type=int, default=None, help="band minimum (default 300)")
    p.add_argument("--max-households", type=int, default=None, help="band maximum (default 500)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--png", default=None, help="PNG map of the unified grids by status")
    finish(p, run, out=None, mapping=False)


def parse_layers(items: list[str]) -> list[tuple[str, str, str | None]]:
    """``["综治=zz.geojson:WGBM"]`` -> ``[("综治", "zz.geojson", "WGBM")]``."""
    out = []
    for item in items:
        name, sep, rest = item.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise InputError(
                f"--layer '{item}' is not NAME=FILE",
                fix="e.g. --layer 综治=zz.geojson",
                message_zh=f"--layer 参数 '{item}' 不是 名称=文件 的形式",
            )
        path, column = rest, None
        # FILE:COLUMN, but not a Windows drive letter (C:\...).
        head, colon, tail = rest.rpartition(":")
        if colon and head and len(head) > 1 and "/" not in tail and "\\" not in tail:
            path, column = head, tail
        out.append((name.strip(), path.strip(), column))
    names = [n for n, _, _ in out]
    if len(set(names)) != len(names):
        raise InputError(
            "two --layer options have the same name",
            fix="name each department once",
            message_zh="部门图层名称重复",
        )
    return out


def run(args: argparse.Namespace) -> int:
    from gridplan.cli._layers import read_contract, read_output
    from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
    from gridplan.report.reconcile import reconcile, write_reconcile

    specs = parse_layers(args.layer)
    grids = read_output(args.grids, "grids", ("grid_id", "community_id"))
    households = read_contract(
        "households", args.households, parse_coords(args.coords).get("households", "wgs84")
    )
    layers = {name: read_output(path, f"layer {name}") for name, path, _ in specs}
    id_columns = {name: col for name, _, col in specs if col}
    units = read_output(args.units, "units", ("unit_id", "grid_id")) if args.units else None
    kwargs = {}
    if args.aligned_share is not None:
        kwargs["aligned_share"] = args.aligned_share
    result = reconcile(
        grids,
        households,
        layers,
        units=units,
        id_columns=id_columns,
        min_households=args.min_households or GRID_MIN_HOUSEHOLDS,
        max_households=args.max_households or GRID_MAX_HOUSEHOLDS,
        **kwargs,
    )
    written = write_reconcile(result, args.out)
    if args.png:
        from gridplan.report.figures import plot_grids

        plot_grids(result.unified, args.png, households=households, title="统一网格（一张网）")
        written.append(args.png)
    if not args.quiet:
        r = result.report
        for pair in r["pairs"]:
            if pair["layer"] == "ours":
                print(
                    f"ours vs {pair['other_layer']}: {pair['disagreeing']} of {pair['grids']} "
                    f"grids disagree / {pair['disagreeing']} 个网格边界不一致"
                )
        print(
            f"{r['changes']} units moved ({r['households_moved']} households), "
            f"{r['rejected']} refused / 调整 {r['changes']} 个单元（{r['households_moved']} 户）"
        )
        for path in written:
            print(f"  wrote {path}")
    return 0
