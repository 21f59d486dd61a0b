"""Nothing half-written: outputs go to temporary names and are renamed into place.

Unit tests of :mod:`gridplan.io.atomic`, then the real thing: ``gridplan partition`` and
``gridplan coverage`` are killed with SIGKILL at several moments of a second run (with a changed
parameter, so that its outputs would differ) and the output folder must still hold exactly the
first run's files with their bytes. A killed run may leave its temporaries behind: they are
dot-prefixed (``.grids.k3j2x.geojson``), never a target name, and are ignored here.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridplan.io.atomic import atomic_outputs, atomic_path
from gridplan.errors import OutputError

ROOT = Path(__file__).resolve().parents[1]


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
        "a.csv": "new a", "b.csv": "old b", "c.csv": "new c"}


def test_atomic_outputs_unwritable_folder_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError):
        with atomic_outputs(blocker / "out"):
            pass


# --- killing real runs --------------------------------------------------------------------------

def _targets(folder: Path) -> dict[str, bytes]:
    """The output files (not dot-prefixed temporaries) and their bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def _cmd(*args) -> list[str]:
    return [sys.executable, "-c", "import sys; from gridplan.cli import main; sys.exit(main())",
            *map(str, args)]


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
    proc = subprocess.Popen(_cmd(*args), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
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


def _kill_test(out: Path, first: list, second: list, expected_names: set[str]) -> None:
    duration = _run(first)
    args = {"first": first, "second": second}
    current = "first"  # whose outputs the folder holds; the killed run is always the other one
    previous = _targets(out)
    assert set(previous) == expected_names
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
        assert _targets(out) == previous, f"outputs changed after a kill ({moments[-1]})"
        leftovers = [p.name for p in out.iterdir() if p.name not in previous]
        assert all(n.startswith(".") for n in leftovers), leftovers
    assert "writing" in moments, moments  # at least one kill hit the write phase
    # The test can fail: the other run, left to finish, does change the files.
    _run(args["second" if current == "first" else "first"])
    assert _targets(out) != previous


@pytest.mark.slow
def test_killed_partition_leaves_previous_outputs(tmp_path, sample_dir):
    out = tmp_path / "out"
    base = ["partition", "--communities", sample_dir / "boundaries" / "communities.geojson",
            "--households", sample_dir / "households" / "households.geojson",
            "--estates", sample_dir / "estates" / "estates.geojson",
            "--out", out, "--jobs", "1", "--quiet"]
    _kill_test(out, base, base + ["--min", "250"],
               {"grids.geojson", "households.geojson", "report.json"})


@pytest.mark.slow
def test_killed_coverage_leaves_previous_outputs(tmp_path, sample_dir):
    out = tmp_path / "out"
    base = ["coverage", "--households", sample_dir / "households" / "households.geojson",
            "--facilities", sample_dir / "facilities" / "facilities.geojson",
            "--network", sample_dir / "network" / "walk.geojson",
            "--communities", sample_dir / "boundaries" / "communities.geojson",
            "--out", out, "--no-isochrones", "--quiet"]
    _kill_test(out, base, base + ["--minutes", "10"],
               {"households.geojson", "isochrones.geojson", "gaps.geojson", "coverage.csv",
                "standards.csv", "report.json"})
