"""The ``gridplan`` command.

Each command lives in its own module in this package and exposes ``register(subparsers)``, which
adds its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit
code. Exit codes: 0 success, 2 bad input (message on stderr, nothing written), 1 unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings

from gridplan.errors import GridplanError, GridplanWarning

__all__ = ["main", "build_parser"]

#: Command modules, in the order ``gridplan --help`` lists them.
COMMANDS = (
    "demo",
    "sample",
    "validate",
    "convert",
    "households",
    "prepare",
    "partition",
    "coverage",
    "site",
    "reconcile",
    "export",
)


class _OneLineFormatter(argparse.HelpFormatter):
    """Keeps each command's help on one line in ``gridplan --help``.

    argparse sizes the help column without the extra indent of sub-commands, so a long command
    name ("households") would push its help to the next line.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=24, width=120)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.nargs == argparse.PARSER:
            self._action_max_length += 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available command registered."""
    parser = argparse.ArgumentParser(
        prog="gridplan",
        description="Community grids (网格) and the 15-minute service circle (15分钟服务圈).",
        formatter_class=_OneLineFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"gridplan.cli.{name}")
        except ModuleNotFoundError as exc:
            # A command whose module is not written yet is simply not offered.
            if exc.name == f"gridplan.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from gridplan import __version__

    return f"gridplan {__version__}"


def _format_warning(command: str):
    """Format gridplan's warnings as plain messages, without Python's source-line prefix.

    Replacing ``formatwarning`` (not ``showwarning``) leaves warning capture by callers, such as
    ``warnings.catch_warnings(record=True)``, working.
    """
    default = warnings.formatwarning

    def fmt(message, category, filename, lineno, line=None):
        if issubclass(category, GridplanWarning):
            return f"gridplan {command}: warning: {message}\n"
        return default(message, category, filename, lineno, line)

    return fmt


def main(argv: list[str] | None = None) -> int:
    """Run the ``gridplan`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    # The filters and the format are the command's own: restored when it returns, so that a
    # caller (a test, a notebook) keeps its warning settings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "default", GridplanWarning)
        previous_format = warnings.formatwarning
        warnings.formatwarning = _format_warning(args.command)
        try:
            return int(args.func(args) or 0)
        except GridplanError as exc:
            print(f"gridplan {args.command}: error: {exc}", file=sys.stderr)
            if exc.message_zh:
                print(f"gridplan {args.command}: 错误：{exc.localized('zh')}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted; outputs of this run were not written", file=sys.stderr)
            return 130
        finally:
            warnings.formatwarning = previous_format


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
