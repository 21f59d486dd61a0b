"""Options shared by several commands, so that they read the same everywhere."""

from __future__ import annotations

import argparse

from gridplan.errors import InputError


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or notes")


def add_coords(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--coords",
        choices=("wgs84", "gcj02", "bd09"),
        default="wgs84",
        help="coordinate system of GeoJSON/CSV/XLSX inputs: wgs84 (default), gcj02 (Amap, "
        "Tencent) or bd09 (Baidu); converted to WGS-84 on read",
    )


def add_map(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN[,FIELD=COLUMN...]",
        help="map gridplan's field names to the file's column names, e.g. "
        "--map community_id=SQMC,name=SQMC (repeatable)",
    )


def parse_map(items: list[str]) -> dict[str, str]:
    """``["a=B,c=D", "e=F"]`` -> ``{"a": "B", "c": "D", "e": "F"}``."""
    mapping: dict[str, str] = {}
    for item in items or []:
        for pair in item.split(","):
            pair = pair.strip()
            if not pair:
                continue
            if "=" not in pair:
                raise InputError(
                    f"--map entry '{pair}' is not FIELD=COLUMN",
                    fix="write it as --map community_id=SQMC,name=SQMC",
                    message_zh=f"--map 参数 '{pair}' 不是 字段=列名 的形式",
                )
            field, column = (s.strip() for s in pair.split("=", 1))
            mapping[field] = column
    return mapping


def add_engine(parser: argparse.ArgumentParser) -> None:
    """``--engine local|dask`` and ``--scheduler ADDRESS`` (see :mod:`gridplan.parallel.engine`)."""
    parser.add_argument("--engine", choices=("local", "dask"), default="local",
                        help="local (this machine, default) or dask (a Dask cluster: a local one "
                        "of 2 worker processes unless --scheduler is given); same output")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(implies --engine dask)")


def engine_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for :func:`gridplan.parallel.engine.partition` / :func:`~gridplan.parallel.engine.coverage`."""
    scheduler = getattr(args, "scheduler", None)
    engine = "dask" if scheduler else getattr(args, "engine", "local")
    return {"engine": engine, "scheduler": scheduler}
