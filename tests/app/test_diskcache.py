"""The sample's partition kept on disk between server starts (gridplan.app.diskcache)."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from gridplan.app import diskcache

CALLS: list[tuple] = []


def _square(x: int, code_key: str) -> int:
    CALLS.append((x, code_key))
    return x * x


def test_a_second_call_reads_the_disk_and_other_arguments_compute(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDPLAN_CACHE", str(tmp_path / "cache"))
    CALLS.clear()
    assert diskcache.on_disk(_square, 7) == 49
    assert diskcache.on_disk(_square, 7) == 49
    assert diskcache.on_disk(_square, 8) == 64
    assert [x for x, _ in CALLS] == [7, 8]
    assert {k for _, k in CALLS} == {diskcache.code_key()}
    assert any((tmp_path / "cache").rglob("output.pkl"))


def test_an_unwritable_cache_folder_computes_instead(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GRIDPLAN_CACHE", str(blocker))
    CALLS.clear()
    assert diskcache.on_disk(_square, 3) == 9
    assert diskcache.on_disk(_square, 3) == 9
    assert len(CALLS) == 2


def test_the_key_covers_the_sources_and_the_geometry_library():
    key = diskcache.code_key()
    assert len(key) == 20 and key == diskcache.code_key()
    assert "shapely" in diskcache._LIBRARIES


@pytest.mark.filterwarnings("ignore")
def test_the_sample_partition_from_disk_is_the_partition_computed_now(tmp_path, monkeypatch):
    from gridplan.app import sources
    from gridplan.datasets.sample import load_sample
    from gridplan.workflows import plan_grids

    monkeypatch.setenv("GRIDPLAN_CACHE", str(tmp_path / "cache"))
    sources.sample_partition.clear()
    first = sources.sample_partition(300, 500, 0)
    sources.sample_partition.clear()
    stored = sources.sample_partition(300, 500, 0)  # from the disk this time
    assert stored is not first
    fresh = plan_grids(load_sample(), n_jobs=1)
    assert list(shapely.to_wkb(stored.grids.geometry.values)) == list(
        shapely.to_wkb(fresh.grids.geometry.values)
    )
    pd.testing.assert_frame_equal(stored.grids.drop(columns="geometry"), fresh.grids.drop(columns="geometry"))
    for report in (stored.report, fresh.report):
        report["total"].pop("run_seconds")  # the one figure of the run, not of the grids
    assert stored.report == fresh.report
    # the app's grids follow the streets, as the command line's do
    assert stored.report["total"]["buildings_cut"] == 0
    assert stored.report["total"]["boundary_on_features"] >= 0.9
