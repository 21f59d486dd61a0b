"""Options shared by several commands, so that they read the same everywhere."""

from __future__ import annotations

import argparse

from gridplan.errors import InputError


def finish(
    parser: argparse.ArgumentParser,
    run,
    *,
    out: str | None = "output folder",
    coords: bool = True,
    mapping: bool = True,
    engine: bool = False,
) -> None:
    """The options every command shares, in one order: ``--out``, ``--coords``, ``--map``
    (with ``--layer`` and ``--crs``), ``--engine``/``--scheduler``, ``--quiet``; and the
    function that runs the command."""
    if out:
        parser.add_argument("--out", required=True, help=out)
    if coords:
        add_coords(parser)
    if mapping:
        add_map(parser)
        parser.add_argument(
            "--layer",
            "--sheet",
            dest="layer",
            default=None,
            metavar="[FILE=]NAME[,...]",
            help="GeoPackage layer or Excel sheet to read, e.g. --layer communities=社区边界 "
            "(default: the one layer of the right geometry type, the first sheet)",
        )
        parser.add_argument(
            "--crs",
            default=None,
            metavar="[FILE=]CRS[,...]",
            help="coordinate system of x/y columns in metres, e.g. --crs households=EPSG:4548 "
            "(CGCS2000 Gauss-Kruger); default longitude/latitude degrees",
        )
    if engine:
        add_engine(parser)
    add_quiet(parser)
    parser.set_defaults(func=run)


#: What each input option holds, in one wording for every command.
INPUT_HELP = {
    "households": "household points, one per household or per building with a count "
    "(GeoJSON, GeoPackage, zipped Shapefile, Parquet, CSV, Excel)",
    "communities": "community boundaries (polygons with community_id, name)",
    "facilities": "party-mass centres and stations (points)",
    "grids": "grids written by gridplan partition (grid_id)",
}


def add_inputs(
    parser: argparse.ArgumentParser, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> None:
    """``--households``, ``--communities``, ``--facilities``, ``--grids`` with one wording."""
    for name in required + optional:
        parser.add_argument(
            f"--{name}",
            required=name in required,
            default=None,
            help=INPUT_HELP[name] + ("" if name in required else " (optional)"),
        )


def add_network(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--network FILE`` (and ``--place NAME`` where a download may stand in for it)."""
    parser.add_argument(
        "--network",
        required=required,
        default=None,
        help="walking network: .osm/.osm.bz2/.osm.pbf, OSMnx .graphml, or GeoJSON lines",
    )
    if not required:
        parser.add_argument(
            "--place",
            default=None,
            help="download the walking network of this place with OSMnx (needs internet)",
        )


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or notes")


#: Layers that a bare ``--coords SYSTEM`` applies to: points placed on web maps (Amap, Tencent,
#: Baidu geocoding). Boundaries and footprints come from GIS systems; name them to convert them.
POINT_LAYERS = ("households", "facilities", "candidates")
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")


def add_coords(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--coords",
        default="wgs84",
        metavar="SYSTEM | LAYER=SYSTEM[,...]",
        help="datum of longitude/latitude inputs: wgs84 (default), gcj02 (Amap, Tencent) or bd09 "
        "(Baidu), converted to WGS-84 on read. A bare system applies to the point layers "
        "(households, facilities, candidates); LAYER=SYSTEM sets one file, e.g. "
        "--coords facilities=gcj02,households=wgs84 or --coords estates=gcj02",
    )


def parse_coords(value: str | None) -> dict[str, str]:
    """``"gcj02"`` -> the point layers; ``"facilities=gcj02,estates=bd09"`` -> those layers.

    Layers not named are WGS-84. Unknown systems and layers are errors (exit 2)."""
    from gridplan.io.schema import KINDS

    value = (value or "wgs84").strip().lower()
    out: dict[str, str] = {}
    for part in (s.strip() for s in value.split(",") if s.strip()):
        layer, _, system = part.rpartition("=")
        layers = [layer] if layer else list(POINT_LAYERS)
        if system not in COORD_SYSTEMS or any(k not in KINDS + ("candidates",) for k in layers):
            raise InputError(
                f"--coords {part}: not SYSTEM or LAYER=SYSTEM",
                fix=f"systems: {', '.join(COORD_SYSTEMS)}; layers: {', '.join(KINDS)}, candidates",
                message_zh=f"--coords {part} 格式不正确",
                fix_zh="例如 --coords gcj02 或 --coords facilities=gcj02",
            )
        out.update(dict.fromkeys(layers, system))
    return out


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


def per_file(option: str, value: str | None, kinds) -> dict[str, str]:
    """``"X"`` -> every layer in ``kinds``; ``"households=X,communities=Y"`` -> those layers.

    Unknown layers are errors (exit 2)."""
    if not value:
        return {}
    out: dict[str, str] = {}
    for part in (s.strip() for s in str(value).split(",") if s.strip()):
        layer, sep, name = part.partition("=")
        if not sep:
            out.update(dict.fromkeys(kinds, part))
            continue
        if layer.strip() not in kinds:
            raise InputError(
                f"{option} {part}: '{layer}' is not an input of this command",
                fix=f"use one of {', '.join(kinds)}",
                message_zh=f"{option} {part}：'{layer}' 不是本命令的输入",
            )
        out[layer.strip()] = name.strip()
    return out


def read_inputs(args: argparse.Namespace, paths: dict[str, str | None]) -> dict:
    """Read a command's contract inputs through the one reader, with one ``--map`` split by file.

    Parameters
    ----------
    args : argparse.Namespace
        The command's options (``--map``, ``--coords``).
    paths : dict
        Layer kind -> file (``None`` when not given).

    Returns
    -------
    dict
        Layer kind -> GeoDataFrame (``None`` when not given).
    """
    from gridplan.io.files import read_layer, split_columns

    given = {k: p for k, p in paths.items() if p}
    layers = per_file("--layer", getattr(args, "layer", None), list(given))
    by_kind = split_columns(parse_map(getattr(args, "map", [])), given, layers)
    coords = parse_coords(getattr(args, "coords", "wgs84"))
    crs = per_file("--crs", getattr(args, "crs", None), list(given))
    return {
        k: read_layer(
            p,
            k,
            columns=by_kind[k] or None,
            coords=coords.get(k, "wgs84"),
            layer=layers.get(k),
            crs=crs.get(k),
        )
        if p
        else None
        for k, p in paths.items()
    }


def add_engine(parser: argparse.ArgumentParser) -> None:
    """``--engine local|dask`` and ``--scheduler ADDRESS`` (see :mod:`gridplan.parallel.engine`)."""
    parser.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local (this machine, default) or dask (a Dask cluster: a local one "
        "of 2 worker processes unless --scheduler is given); same output",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --engine dask)",
    )


def engine_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for :func:`gridplan.parallel.engine.partition` / :func:`~gridplan.parallel.engine.coverage`."""
    scheduler = getattr(args, "scheduler", None)
    engine = "dask" if scheduler else getattr(args, "engine", "local")
    return {"engine": engine, "scheduler": scheduler}
