"""The README is the contract with a new user: its commands and its Python example must work."""

from __future__ import annotations

import re

from gridplan.cli import build_parser


def _readme(root) -> str:
    return (root / "README.md").read_text(encoding="utf-8")


def test_two_commands_come_first(root):
    text = _readme(root)
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block


def test_python_example_runs(root, sample_dir, monkeypatch):
    monkeypatch.chdir(root)
    code = _readme(root).split("## Python API", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["res"].grids["households"].sum() == scope["hh"]["households"].sum()
    assert set(scope["sites"].sites.columns) >= {"rank", "households_gained", "cumulative_share_covered"}


def test_every_command_shown_exists(root):
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    shown = set(re.findall(r"^gridplan (\w+)", _readme(root), flags=re.M))
    assert shown and shown <= commands, shown - commands
