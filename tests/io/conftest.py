"""The PostgreSQL + PostGIS server of the PostGIS tests.

``GRIDPLAN_TEST_PG`` (set by ``.ci/run``, credentials in the environment) names a running server;
without it a throwaway cluster is started here when PostgreSQL and PostGIS are installed
(:mod:`pgcluster`), and the tests skip with a one-line reason otherwise.
"""

from __future__ import annotations

import os
import tempfile

import pgcluster
import pytest


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
