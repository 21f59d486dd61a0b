"""Where the session's data comes from: the bundled sample district, computed once per server
process (Streamlit's resource cache, shared by every session), or the planner's own layers.

Every partition of the app goes through :func:`gridplan.workflows.plan_grids`, as the command line's
does, so that the app and ``gridplan partition`` give the same grids for the same layers.
"""

from __future__ import annotations

import copy
import gc

import streamlit as st

from gridplan.app.diskcache import on_disk
from gridplan.app.state import KINDS, L, autosave, open_proposal, plan_of, set_plan, ss, start_proposal
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.workflows import checked_layers, plan_grids

__all__ = [
    "sample_layers",
    "sample_network",
    "sample_partition",
    "sample_plan",
    "sample_coverage",
    "sample_validation",
    "load_sample_into_session",
    "network",
    "session_partition",
    "undo_regenerate",
]


@st.cache_resource(show_spinner=False)
def sample_layers() -> dict:
    """The sample district's layers (:func:`gridplan.datasets.sample.load_sample`)."""
    from gridplan.datasets.sample import load_sample

    return load_sample()


@st.cache_resource(show_spinner=False)
def sample_network():
    """The sample district's walking network, loaded once."""
    from gridplan.network import load_network

    return load_network(sample_layers()["network"])


@st.cache_resource(show_spinner=False)
def sample_partition(lo: int, hi: int, micro: int):
    """The sample's grids for one household band (and micro-grid size, 0 = none), along its
    streets; kept on disk between server starts (:mod:`gridplan.app.diskcache`)."""
    return on_disk(_partition_sample, lo, hi, micro)


def _partition_sample(lo: int, hi: int, micro: int, code_key: str):
    # code_key is only the disk cache's key: the same code, data and libraries
    return plan_grids(
        sample_layers(), min_households=lo, max_households=hi, micro_max=micro or None, n_jobs=1
    )


@st.cache_resource(show_spinner=False)
def sample_plan(lo: int, hi: int, micro: int):
    """The sample's plan for one household band, made once per server process.

    Shared by every session, so never edited: a session edits its own copy
    (:func:`load_sample_into_session`). Building a plan (unit tables, adjacency, grid figures)
    is most of a new session's first run; a copy of the built plan costs a few milliseconds.
    """
    plan = plan_of(sample_partition(lo, hi, micro), sample_layers(), lo, hi, micro)
    # the shared sample lives as long as the server: out of the collector's full passes
    # (Python's gc.freeze), which would otherwise walk its objects on every collection; the
    # garbage of building it is collected first, never frozen with it
    gc.collect()
    gc.freeze()
    return plan


@st.cache_resource(show_spinner=False)
def sample_coverage(minutes: float, speed: float, lo: int, hi: int, micro: int):
    """The sample's walking coverage for one service circle and walking speed, on the household
    rows of its plan in one band: a tower split by entrance is one row per part there, so the
    rows (and their count) follow the band."""
    from gridplan.access.coverage import coverage

    s = sample_layers()
    rows = sample_plan(lo, hi, micro).assignment.drop(columns=["unit_id", "grid_id"])
    return coverage(
        rows,
        s["facilities"],
        sample_network(),
        communities=s["communities"],
        minutes=minutes,
        speed_kmh=speed,
    )


@st.cache_resource(show_spinner=False)
def sample_validation() -> list:
    """The data check of the sample's layers (shown on the data step)."""
    s = sample_layers()
    return checked_layers({k: s[k] for k in KINDS})[1].problems


def load_sample_into_session() -> None:
    """Make the sample district, with its grids in the default band, the session's data."""
    ss.layers = dict(sample_layers())
    ss.validation = sample_validation()
    ss.network = None
    ss.dataset = "sample"
    ss.coverage_params = None
    # the session's own deep copy: its edits never reach the shared plan or another session
    set_plan(copy.deepcopy(sample_plan(GRID_MIN_HOUSEHOLDS, GRID_MAX_HOUSEHOLDS, 0)))
    # the network is stored with the proposal's first save only (most sessions never save)
    start_proposal(network=sample_network)


def network():
    """The session's walking network: the sample's, the uploaded one, or one built from the
    layers' ``network`` lines (once); None when there is none."""
    if ss.get("network") is not None:
        return ss.network
    if ss.get("dataset") == "sample":
        return sample_network()
    lines = ss.layers.get("network")
    if lines is None:
        return None
    from gridplan.network import load_network

    ss.network = load_network(lines)
    return ss.network


def session_partition(lo: int, hi: int, micro: int):
    """The grids of the session's layers for one band: the sample's from the cache."""
    if ss.get("dataset") == "sample":
        return sample_partition(lo, hi, micro)
    net = ss.get("network")
    streets = None if net is None else net.edges[["geometry"]]
    return plan_grids(
        ss.layers, min_households=lo, max_households=hi, micro_max=micro or None, n_jobs=1, streets=streets
    )


def undo_regenerate() -> None:
    """Button callback: reopen the version saved before the last 生成网格 (with its edits and
    their history) and save it as the proposal's latest version."""
    name, version = ss.regen_undo
    if open_proposal(name, version):
        autosave(note=L("note_undo_generate"))
    ss.regen_undo = None
