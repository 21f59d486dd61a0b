"""``gridplan validate``: check input files and print a readable report.

Exit code 0 when the inputs can be used (warnings allowed), 2 when there is an error. With
``--out DIR`` writes DIR/problems.csv and, when households fall outside every community,
DIR/rejects.csv; nothing is written when there is an error.
"""

from __future__ import annotations

import sys

from gridplan.cli._common import add_inputs, finish, parse_coords, parse_map, per_file

HELP = "check input files (columns, values, geometries, coordinates) and list every problem"
DESCRIPTION = (
    HELP + ". --coords applies to the households and facilities files (points from web "
    "maps); --map entries apply to each file that has the named column."
)

_LAYERS = ("households", "communities", "facilities", "buildings", "estates", "barriers")


def register(sub) -> None:
    p = sub.add_parser("validate", help=HELP, description=DESCRIPTION)
    add_inputs(p, optional=("households", "communities", "facilities"))
    p.add_argument("--buildings", help="building footprints (polygons)")
    p.add_argument("--estates", help="residential estates 小区 (polygons)")
    p.add_argument("--barriers", help="arterial roads, rivers, railways (lines)")
    p.add_argument("--out", help="folder for problems.csv and rejects.csv")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="report language")
    finish(p, run, out=None)


def run(args) -> int:
    from gridplan.errors import InputError
    from gridplan.io.validate import validate_inputs

    files = {k: getattr(args, k) for k in _LAYERS if getattr(args, k, None)}
    if not files:
        raise InputError(
            "no input given",
            fix="pass at least --households or --communities",
            message_zh="没有指定输入文件",
            fix_zh="请至少指定 --households 或 --communities",
        )
    result = validate_inputs(
        **files,
        columns=parse_map(args.map),
        coords=parse_coords(args.coords),
        layers=per_file("--layer", args.layer, list(files)),
        crs=per_file("--crs", args.crs, list(files)),
    )
    text = result.to_text(args.lang)
    print(text, file=sys.stdout if result.ok else sys.stderr)
    if not result.ok:
        return 2
    if args.out:
        from gridplan.io.atomic import atomic_outputs

        with atomic_outputs(args.out) as out:
            result.to_frame().to_csv(
                out.path("problems.csv"), index=False, encoding="utf-8-sig", lineterminator="\n"
            )
            if result.rejects is not None and len(result.rejects):
                from gridplan.io.files import write

                write(result.rejects, out.path("rejects.csv"))
        if not args.quiet:
            print(
                f"wrote {args.out}/problems.csv"
                + (" and rejects.csv" if result.rejects is not None and len(result.rejects) else "")
            )
    return 0
