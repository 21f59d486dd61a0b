"""Nothing half-written: outputs go to temporary names and are renamed into place.

Unit tests of :mod:`gridplan.io.atomic`, then the real thing: ``gridplan partition`` and
``gridplan coverage`` are killed with SIGKILL at several moments of a second run (with a changed
parameter, so that its outputs would differ) and the output folder must still hold exactly the
first run's files with their bytes. A killed run may leave its temporaries behind: they are
dot-prefixed (``.grids.k3j2x.geojson``), never a target name, and are ignored here.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridplan.errors import OutputError
from gridplan.io.atomic import atomic_outputs, atomic_path, recover

ROOT = Path(__file__).resolve().parents[2]


class Boom(Exception):
    pass


# --- gridplan.io.atomic ---------------------------------------------------------------------------


def test_atomic_path_exception_leaves_target_untouched(tmp_path):
    target = tmp_path / "grids.geojson"
    target.write_bytes(b"previous")
    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".geojson"
            tmp.write_bytes(b"half of the new fi")
            raise Boom
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grids.geojson"]  # temporary removed


def test_atomic_path_success_replaces_target(tmp_path):
    target = tmp_path / "sub" / "report.json"
    with atomic_path(target) as tmp:
        assert not tmp.exists()  # a free name: some GDAL drivers refuse to overwrite
        tmp.write_text("{}")
        assert not target.exists()  # nothing visible before the block ends
    assert target.read_text() == "{}"
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_atomic_path_with_the_io_writer(tmp_path):
    from gridplan import io

    gdf = gpd.GeoDataFrame({"households": [3]}, geometry=[shapely.Point(111.3, 30.7)], crs=4326)
    target = tmp_path / "h.parquet"
    io.write(gdf, target)
    before = target.read_bytes()
    # Arrow fails inside the writer, after the temporary file was opened.
    with pytest.raises(Exception, match="convert"):
        io.write(gdf.assign(bad=[object()]), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["h.parquet"]


def test_atomic_outputs_publishes_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old a")
    (out / "b.csv").write_text("old b")
    with pytest.raises(Boom):
        with atomic_outputs(out) as o:
            o.path("a.csv").write_text("new a")
            o.path("b.csv").write_text("new b")
            raise Boom  # after every file was written, before the commit
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.csv": "old a", "b.csv": "old b"}
    with atomic_outputs(out) as o:
        o.path("a.csv").write_text("new a")
        o.path("c.csv").write_text("new c")
        assert (out / "a.csv").read_text() == "old a"  # staged, not yet published
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "a.csv": "new a",
        "b.csv": "old b",
        "c.csv": "new c",
    }


def _publish_three(out):
    with atomic_outputs(out) as o:
        o.path("a.csv").write_text("new a")
        o.path("b.csv").write_text("new b")
        o.path("sub/c.csv").write_text("new c")


def _state(out):
    return {
        str(p.relative_to(out)): p.read_text()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.mark.parametrize("fail_at", range(5))
def test_a_failed_rename_anywhere_in_the_commit_leaves_the_previous_run(tmp_path, monkeypatch, fail_at):
    """Two renames per replaced file (old -> backup, new -> target), one per new file: the
    commit makes five; fail each one in turn."""
    import os

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a.csv").write_text("old a")
    (out / "sub" / "c.csv").write_text("old c")
    before = _state(out)
    calls = {"n": 0}
    real = os.replace

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == fail_at + 1:
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        _publish_three(out)
    monkeypatch.setattr(os, "replace", real)
    assert calls["n"] > fail_at  # the failure really happened inside the commit
    assert _state(out) == before
    assert not [p for p in out.rglob("*") if p.is_file() and p.name.startswith(".")]
    _publish_three(out)
    assert _state(out) == {"a.csv": "new a", "b.csv": "new b", "sub/c.csv": "new c"}


def test_a_commit_killed_half_way_is_rolled_back_by_the_next_run(tmp_path):
    """A kill leaves the journal: the next atomic_outputs on the folder puts the old files back."""
    import json

    from gridplan.io.atomic import JOURNAL

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old a")
    (out / "b.csv").write_text("old b")
    # the state after "a" was published and before "b" was: what a SIGKILL there leaves
    (out / ".a.csv.t1.bak").write_text("old a")
    (out / "a.csv").write_text("new a")
    (out / ".b.t2.csv").write_text("new b")
    steps = [
        [str(out / ".a.t1.csv"), str(out / "a.csv"), str(out / ".a.csv.t1.bak")],
        [str(out / ".b.t2.csv"), str(out / "b.csv"), str(out / ".b.csv.t2.bak")],
    ]
    (out / JOURNAL).write_text(json.dumps(steps))
    with atomic_outputs(out):
        assert _state(out) == {"a.csv": "old a", "b.csv": "old b"}
    assert not (out / JOURNAL).exists()
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv"]


def test_atomic_outputs_unwritable_folder_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError):
        with atomic_outputs(blocker / "out"):
            pass


# --- killing real runs --------------------------------------------------------------------------


def _targets(folder: Path) -> dict[str, bytes]:
    """The output files (not dot-prefixed temporaries) and their bytes, the reports' run time
    aside (two runs of the same input differ only there)."""
    return {
        p.name: re.sub(rb'"(run_)?seconds": [0-9.]+', b'"seconds": _', p.read_bytes())
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".")
    }


def _cmd(*args) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from gridplan.cli import main; sys.exit(main())",
        *map(str, args),
    ]


def _run(args, timeout=300) -> float:
    t0 = time.monotonic()
    proc = subprocess.run(_cmd(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return time.monotonic() - t0


def _kill_after(args, seconds: float | None, folder: Path) -> str:
    """Start a run, SIGKILL it after ``seconds`` (None: as soon as a temporary output appears).

    Returns when it was killed: "running", "writing" (a temporary existed) or "finished" (it
    ended before the kill; not a test of anything, counted by the caller).
    """
    proc = subprocess.Popen(_cmd(*args), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    before = {p.name for p in folder.iterdir()}
    try:
        while True:
            if proc.poll() is not None:
                return "finished"
            temps = {p.name for p in folder.iterdir()} - before
            if seconds is None and temps:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return "writing"
            if seconds is not None and time.monotonic() - t0 >= seconds:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return "writing" if temps else "running"
            time.sleep(0.002 if seconds is None else 0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _complete(args: list, out: Path, elsewhere: Path) -> dict[str, bytes]:
    """What ``args`` writes when left to finish (run into another folder: the outputs name no
    folder, so the bytes are the same)."""
    _run([elsewhere if a == out else a for a in args])
    return _targets(elsewhere)


def _kill_test(out: Path, first: list, second: list, expected_names: set[str]) -> None:
    duration = _run(first)
    args = {"first": first, "second": second}
    current = "first"  # whose outputs the folder holds; the killed run is always the other one
    previous = _targets(out)
    assert set(previous) == expected_names
    # A kill that lands after the run's commit (the watcher polls, the run may outpace it on a
    # loaded machine) leaves the other run's outputs, complete: also all-or-nothing.
    complete = {"first": previous, "second": _complete(second, out, out.parent / "complete")}
    assert complete["second"] != previous
    moments = []
    # Several moments spread over a run (reading, computing), then the write itself (retried
    # once if the run outpaced the watcher).
    for frac in (0.3, 0.7, None, None):
        if frac is None and "writing" in moments:
            break
        other = "second" if current == "first" else "first"
        moments.append(_kill_after(args[other], None if frac is None else frac * duration, out))
        if moments[-1] == "finished":
            # It ended before the kill (a slow first run, a fast second): its outputs are now the
            # previous ones, complete.
            current, previous = other, _targets(out)
            assert set(previous) == expected_names
            continue
        recover(out)  # what the next run on the folder does first (a no-op unless mid-commit)
        now = _targets(out)
        if now == complete[other] and now != previous:
            current, previous = other, now
            moments[-1] = "committed"
        assert now == previous, f"outputs changed after a kill ({moments[-1]})"
        leftovers = [p.name for p in out.iterdir() if p.name not in previous]
        assert all(n.startswith(".") for n in leftovers), leftovers
    # Whether a kill lands in the write phase depends on timing; the write phase itself is
    # tested deterministically above (a failed rename anywhere, a journal left by a kill).
    # The test can fail: the other run, left to finish, does change the files.
    _run(args["second" if current == "first" else "first"])
    assert _targets(out) != previous


@pytest.mark.slow
def test_killed_partition_leaves_previous_outputs(tmp_path, sample_dir):
    out = tmp_path / "out"
    base = [
        "partition",
        "--communities",
        sample_dir / "boundaries" / "communities.geojson",
        "--households",
        sample_dir / "households" / "households.geojson",
        "--estates",
        sample_dir / "estates" / "estates.geojson",
        "--out",
        out,
        "--jobs",
        "1",
        "--quiet",
    ]
    _kill_test(out, base, base + ["--min", "250"], {"grids.geojson", "households.geojson", "report.json"})


@pytest.mark.slow
def test_killed_coverage_leaves_previous_outputs(tmp_path, sample_dir):
    out = tmp_path / "out"
    base = [
        "coverage",
        "--households",
        sample_dir / "households" / "households.geojson",
        "--facilities",
        sample_dir / "facilities" / "facilities.geojson",
        "--network",
        sample_dir / "network" / "walk.geojson",
        "--communities",
        sample_dir / "boundaries" / "communities.geojson",
        "--out",
        out,
        "--no-isochrones",
        "--quiet",
    ]
    _kill_test(
        out,
        base,
        base + ["--minutes", "10"],
        {
            "households.geojson",
            "isochrones.geojson",
            "gaps.geojson",
            "coverage.csv",
            "standards.csv",
            "report.json",
        },
    )
