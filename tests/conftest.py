"""Shared fixtures: paths to the bundled sample and to ../shared/realdata (skip when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
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
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (only in the developers' workplace)")
    return REALDATA
