"""Shared fixtures: paths to the bundled sample and to ../shared/realdata (skip when absent)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pgcluster
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis budgets. "default" is Hypothesis's own (100 examples where a test sets none): CI
# runs every property test at it (``make test-ci``). "quick" (``make test``, a developer's run)
# has a tenth of it, "full" (``make test-full``) ten times; tests that set their budget with
# examples() are scaled alike.
settings.register_profile("default", max_examples=100)
settings.register_profile("quick", max_examples=10)
settings.register_profile("full", max_examples=1000)
_DEFAULT_EXAMPLES = 100


def examples(n: int) -> int:
    """Examples of a property test: ``n`` under the default profile, scaled with the loaded
    profile's budget (``n / 10`` under "quick", ``10 * n`` under "full"). Read when the test
    module is imported, after pytest's Hypothesis plugin has loaded the profile."""
    return max(1, n * settings.default.max_examples // _DEFAULT_EXAMPLES)


def pytest_collection_modifyitems(config, items):
    """Every Hypothesis test carries the ``property`` marker, so that CI's second run
    (``make test-ci``: ``-m "slow or property"``) gives each its default budget."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


DATA = ROOT / "gridplan" / "datasets" / "district"
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (DATA / "boundaries" / "communities.geojson").exists():
        pytest.skip("the bundled sample district is missing; run `gridplan sample --out data`")
    return DATA


@pytest.fixture(scope="session")
def sample_every_layer(sample_dir):
    """The sample district read from its files with every layer, the walking network's lines as
    the streets, and its partition: ``(layers, result)``, made once per test process (read it,
    never change it)."""
    import geopandas as gpd

    from gridplan.workflows import plan_grids

    d = sample_dir
    layers = {
        "households": gpd.read_file(d / "households" / "households.geojson"),
        "communities": gpd.read_file(d / "boundaries" / "communities.geojson"),
        "buildings": gpd.read_file(d / "buildings" / "buildings.geojson"),
        "estates": gpd.read_file(d / "estates" / "estates.geojson"),
        "barriers": gpd.read_file(d / "barriers" / "barriers.geojson"),
        "streets": gpd.read_file(d / "network" / "walk.geojson"),
    }
    return layers, plan_grids(layers, n_jobs=1)


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (only in the developers' workplace)")
    return REALDATA


def load_script(relpath: str):
    """Import a repository script that is not part of the package (``notebooks/build_notebooks.py``, ``scripts/vendor_assets.py``).

    Registered in ``sys.modules`` under its file stem, so that pickling (Dask, process pools)
    and a second load find the same module.
    """
    import importlib.util
    import sys

    path = ROOT / relpath
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The PostgreSQL + PostGIS server of the PostGIS tests: ``GRIDPLAN_TEST_PG`` (set by ``.ci/run``,
# credentials in the environment) names a running server; without it a throwaway cluster is
# started here when PostgreSQL and PostGIS are installed (:mod:`pgcluster`), and the tests skip
# with a one-line reason otherwise.
@pytest.fixture(scope="session")
def pg_url():
    """``postgresql://user@host:port/db`` of a server with PostGIS; the password is in the
    environment (``PGPASSFILE``), never in the URL."""
    missing = [m for m in ("sqlalchemy", "psycopg", "geoalchemy2") if not _importable(m)]
    if missing:
        pytest.skip(f"the postgis extra is not installed ({', '.join(missing)}): pip install -e '.[test]'")
    given = os.environ.get("GRIDPLAN_TEST_PG")
    if given:
        yield given
        return
    reason = pgcluster.missing_reason()
    if reason:
        pytest.skip(f"no PostGIS server: GRIDPLAN_TEST_PG is unset and {reason}")
    # under /tmp itself: as root the server runs as 'postgres', which cannot enter pytest's
    # private temporary folders
    folder = tempfile.mkdtemp(prefix="gridplan-pg-")
    env = pgcluster.start(folder)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env["GRIDPLAN_TEST_PG"]
    finally:
        pgcluster.stop(folder)
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="session", autouse=True)
def _temporary_plan_store(tmp_path_factory):
    """Proposals the tests write (the app autosaves after each edit) go to a temporary plan
    store for the whole run, never into the user's data folder (nor the app's cache). Set before any app server of a
    browser test starts, since the server takes its environment at start. (In this file, not
    in tests/app/conftest.py: a second conftest module would hide this one's helpers from
    ``from conftest import ...``.)"""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("GRIDPLAN_DB", raising=False)
        mp.setenv("GRIDPLAN_DATA", str(tmp_path_factory.mktemp("plan_store")))
        # and the app's disk cache (gridplan.app.diskcache) never in the user's cache folder
        mp.setenv("GRIDPLAN_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def map_labels(html: str) -> list[tuple[float, str]]:
    """The grid labels a rendered web map carries: (zoom from which it shows, its HTML), read
    from the one JSON list :mod:`gridplan.app.maplabels` puts in the page."""
    import json
    import re

    found = re.findall(r"var groups = (\[.*?\])\.map\(", html, re.S)
    return [(float(z), label[2]) for text in found for z, labels in json.loads(text) for label in labels]
