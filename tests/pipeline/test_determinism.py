"""Same input and seed, same bytes: ``partition``, ``coverage`` and ``site`` on the sample district.

One run is made in this process and the other in a fresh interpreter with a different
``PYTHONHASHSEED`` (set and dict order of strings differ between the two), and every output file is
compared byte for byte. The one exception is report.json, which carries wall-clock run times
(``run_seconds``, ``times_s``): it is compared as JSON with every key containing "time" or
"seconds" removed, and its bytes otherwise. Partition is also run with one and with two worker
processes: the grids must not depend on the pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridplan.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _in_process(args) -> None:
    assert main([str(a) for a in args]) == 0


def _subprocess(args, hashseed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from gridplan.cli import main; sys.exit(main())",
            *map(str, args),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr


def _strip_times(obj):
    if isinstance(obj, dict):
        return {
            k: _strip_times(v)
            for k, v in obj.items()
            if "time" not in k.lower() and "seconds" not in k.lower()
        }
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    return obj


def _assert_same_outputs(a: Path, b: Path) -> None:
    names_a = sorted(p.name for p in a.iterdir())
    assert names_a == sorted(p.name for p in b.iterdir())
    assert names_a, "no outputs"
    for name in names_a:
        if name == "report.json":
            ra = json.loads((a / name).read_text(encoding="utf-8"))
            rb = json.loads((b / name).read_text(encoding="utf-8"))
            assert _strip_times(ra) == _strip_times(rb)
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def sample(sample_dir):
    d = sample_dir
    return {
        "communities": d / "boundaries" / "communities.geojson",
        "households": d / "households" / "households.geojson",
        "buildings": d / "buildings" / "buildings.geojson",
        "estates": d / "estates" / "estates.geojson",
        "barriers": d / "barriers" / "barriers.geojson",
        "facilities": d / "facilities" / "facilities.geojson",
        "network": d / "network" / "walk.geojson",
    }


def _partition_args(s, out, jobs):
    return [
        "partition",
        "--communities",
        s["communities"],
        "--households",
        s["households"],
        "--buildings",
        s["buildings"],
        "--estates",
        s["estates"],
        "--barriers",
        s["barriers"],
        "--micro-max",
        "100",
        "--seed",
        "3",
        "--jobs",
        jobs,
        "--out",
        out,
        "--quiet",
    ]


@pytest.mark.slow
def test_partition_is_byte_identical_across_processes_and_jobs(tmp_path, sample):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _in_process(_partition_args(sample, a, 1))
    _subprocess(_partition_args(sample, b, 1), hashseed="12345")
    _assert_same_outputs(a, b)
    _in_process(_partition_args(sample, c, 2))
    _assert_same_outputs(a, c)
    assert {"grids.geojson", "households.geojson", "micro_grids.geojson"} <= {p.name for p in a.iterdir()}


@pytest.mark.slow
def test_coverage_is_byte_identical(tmp_path, sample):
    args = [
        "coverage",
        "--households",
        sample["households"],
        "--facilities",
        sample["facilities"],
        "--network",
        sample["network"],
        "--communities",
        sample["communities"],
        "--quiet",
    ]
    _in_process(args + ["--out", tmp_path / "a"])
    _subprocess(args + ["--out", tmp_path / "b"], hashseed="777")
    _assert_same_outputs(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a" / "isochrones.geojson").stat().st_size > 0


@pytest.mark.slow
def test_site_is_byte_identical(tmp_path, sample):
    args = [
        "site",
        "--households",
        sample["households"],
        "--facilities",
        sample["facilities"],
        "--network",
        sample["network"],
        "--add",
        "3",
        "--quiet",
    ]
    _in_process(args + ["--out", tmp_path / "a"])
    _subprocess(args + ["--out", tmp_path / "b"], hashseed="4242")
    _assert_same_outputs(tmp_path / "a", tmp_path / "b")


def test_strip_times_removes_only_clock_keys():
    report = {
        "total": {"run_seconds": 1.2, "grids": 3},
        "times_s": {"greedy": 0.1},
        "time_limit_s": 30,
        "households": [{"seconds": 1, "n": 2}],
    }
    assert _strip_times(report) == {"total": {"grids": 3}, "households": [{"n": 2}]}
