"""The app's tests write proposals (the app autosaves after each edit): into a temporary
plan store for the whole run, never into the user's data folder. Set before any app server
of a browser test starts, since the server takes its environment at start."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _temporary_plan_store(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("GRIDPLAN_DB", raising=False)
        mp.setenv("GRIDPLAN_DATA", str(tmp_path_factory.mktemp("plan_store")))
        yield
