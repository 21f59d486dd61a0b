"""The sample's grids are planned once per install and read back at the next server start:
the file read back gives the same grids as planning, and a changed source file plans again."""

from __future__ import annotations

import os

import pytest

from gridplan.app import sources
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.workflows import plan_grids

BAND = (GRID_MIN_HOUSEHOLDS, GRID_MAX_HOUSEHOLDS, 0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    sources.sample_partition.clear()
    yield tmp_path / "gridplan"
    sources.sample_partition.clear()


def test_the_sample_plan_read_back_equals_a_fresh_plan(cache):
    first = sources.sample_partition(*BAND)
    files = list(cache.glob("sample-*.pickle"))
    assert len(files) == 1
    sources.sample_partition.clear()  # a new server process: only the file is left
    again = sources.sample_partition(*BAND)
    assert again is not first
    fresh = plan_grids(sources.sample_layers(), n_jobs=1)
    assert again.grids.equals(fresh.grids)
    assert again.assignment.equals(fresh.assignment)
    def figures(res):
        return {k: v for k, v in res.report["total"].items() if k != "run_seconds"}

    assert figures(again) == figures(fresh)


def test_a_changed_source_file_or_band_gives_another_key(cache):
    import gridplan.grids.search as search

    before = sources._sample_key(*BAND)
    assert sources._sample_key(*BAND) == before
    assert sources._sample_key(250, 450, 0) != before
    st = os.stat(search.__file__)
    try:
        os.utime(search.__file__, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert sources._sample_key(*BAND) != before
    finally:
        os.utime(search.__file__, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert sources._sample_key(*BAND) == before


def test_a_damaged_cache_file_is_planned_again(cache):
    sources.sample_partition(*BAND)
    (path,) = cache.glob("sample-*.pickle")
    path.write_bytes(b"not a pickle")
    sources.sample_partition.clear()
    res = sources.sample_partition(*BAND)
    assert len(res.grids) > 0
    assert path.read_bytes()[:1] == b"\x80"  # written again, a pickle
