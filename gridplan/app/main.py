"""gridplan: the planner's web map (Streamlit): page setup, sidebar and the five steps.

Thin by design: every computation is a gridplan library call (partition, Plan edits, coverage,
siting, export); the app only lays out widgets, keeps the session's plan, and shows results.
Run with ``make app`` (``streamlit run app.py``). Chinese by default; English in the sidebar.

The steps are Streamlit pages (``st.navigation`` of ``st.Page`` callables), so each has its own
address (``/data``, ``/export``, ...). The menu is hidden: the sidebar's step radio, with the
step names in the session's language, chooses the page (:func:`st.switch_page`), and a page
opened by its address sets the radio.
"""

from __future__ import annotations

import time

import streamlit as st

from gridplan.app.labels import text
from gridplan.app.pages import coverage, data, export, grids, proposals, sites
from gridplan.app.sources import load_sample_into_session
from gridplan.app.state import L, autosave, choice, lang, open_proposal, ss
from gridplan.i18n import t

__all__ = ["STEPS", "run"]

#: Step -> the function that draws its page, in the order of the sidebar.
STEPS = {
    "data": data.page,
    "grids": grids.page,
    "coverage": coverage.page,
    "sites": sites.page,
    "export": export.page,
    "proposals": proposals.page,
}
#: The page the app opens on.
FIRST_STEP = "grids"


def run() -> None:
    """Run one pass of the app for the current session (Streamlit re-runs it on every event)."""
    st.set_page_config(page_title="gridplan", page_icon=None, layout="wide")
    _start_session()
    pages = {
        step: st.Page(draw, title=L(f"step_{step}"), url_path=step, default=step == FIRST_STEP)
        for step, draw in STEPS.items()
    }
    current = st.navigation(list(pages.values()), position="hidden")
    shown = next(step for step, p in pages.items() if p is current)
    if ss.pop("_step_chosen", False) and ss.step != shown:
        st.switch_page(pages[ss.step])  # ends this run; the next one draws the chosen page
    ss.step = shown
    _sidebar()
    _header()
    t0 = time.perf_counter()
    current.run()
    ss.last_render_s = time.perf_counter() - t0
    # what a page changed without an edit (a coverage computed, ...) goes into the proposal too;
    # a run that changed nothing writes nothing
    autosave()
    _keep_proposal_in_address()


def _start_session() -> None:
    from gridplan.app.basemaps import default_basemap

    # The sidebar's language and basemap are widgets, and a page switch (st.switch_page) resets
    # every widget: their values are kept in plain session keys too, and given back here.
    choice, url = default_basemap()
    for key, default in (("lang", "zh"), ("_basemap_url", url)):
        if key not in ss:
            ss[key] = ss.get(f"_{key}", default)
    ss.setdefault("basemap", choice)
    ss.setdefault("step", FIRST_STEP)
    ss.setdefault("sel_grid", None)
    ss.setdefault("sel_unit", None)
    if "plan" not in ss:
        # a reload (F5) or a reopened tab: the proposal named in the address, with its history
        asked = st.query_params.get("proposal")
        known = bool(asked) and asked in set(_store_names())
        with st.spinner(L("progress_reopening", name=asked) if known else L("progress_opening")):
            if not (known and open_proposal(asked)):
                load_sample_into_session()
                if asked:
                    ss.proposal = asked  # named but never saved: nothing was edited yet


def _store_names() -> list:
    from gridplan.app.state import store
    from gridplan.errors import GridplanError

    try:
        return store().list()["name"].tolist()
    except GridplanError:  # shown by start_proposal, which meets the same store next
        return []


def _keep_proposal_in_address() -> None:
    """The proposal's name in the address (``?proposal=...``), so that F5 reopens it."""
    if ss.get("proposal") and st.query_params.get("proposal") != ss.proposal:
        st.query_params["proposal"] = ss.proposal


def _on_step(key: str) -> None:
    ss.step = ss[key]
    ss._step_chosen = True


def _sidebar() -> None:
    with st.sidebar:
        ss._lang = st.radio(
            t("language", "zh"),
            ("zh", "en"),
            key="lang",
            horizontal=True,
            format_func=lambda x: {"zh": "中文", "en": "English"}[x],
        )
        # One radio per language (a widget changes identity with its option labels); its value
        # follows the page shown, whichever way the page was reached.
        key = f"step__{lang()}"
        if ss.get(key) != ss.step:
            ss[key] = ss.step
        code = lang()
        st.radio(
            L("step"),
            tuple(STEPS),
            key=key,
            on_change=_on_step,
            args=(key,),
            format_func=lambda x: text(f"step_{x}", code),
        )
        _basemap_chooser()
        st.caption(
            L("dataset", name=L("dataset_sample") if ss.get("dataset") == "sample" else L("dataset_upload"))
        )
        _proposal_caption()


def _proposal_caption() -> None:
    """The session's proposal and whether it is saved. The name is the planner's data (shown
    as it was given, in any language), apart from the labels around it."""
    version = ss.get("proposal_version")
    if version is None:
        st.caption(L("proposal_current"))
        st.text(ss.get("proposal", ""))
        st.caption(L("proposal_unsaved"))
    else:
        st.caption(L("proposal_current_version", version=version))
        st.text(ss.proposal)
        st.caption(L("proposal_autosave"))


def _basemap_chooser() -> None:
    """None (works offline), an intranet XYZ server, or Tianditu with the planner's key."""
    from gridplan.app.basemaps import BASEMAPS

    chosen = choice(st.selectbox, L("basemap"), BASEMAPS, "basemap", "basemap")
    if chosen == "xyz":
        if not _kept_text(L("basemap_xyz_url"), "basemap_url").strip():
            st.caption(L("basemap_needs_url"))
    elif chosen == "tianditu":
        if not _kept_text(L("basemap_tianditu_key"), "tianditu_key", type="password").strip():
            st.caption(L("basemap_needs_key"))


def _kept_text(label: str, key: str, **kw) -> str:
    """A text input whose value outlives a page switch (which resets widgets): the planner's
    entry is copied to ``_<key>`` when it changes and given back to the widget before it is
    drawn."""
    if ss.get(key) != ss.get(f"_{key}", ""):
        ss[key] = ss.get(f"_{key}", "")
    return st.text_input(label, key=key, on_change=_keep, args=(key,), **kw)


def _keep(key: str) -> None:
    ss[f"_{key}"] = ss[key]


def _header() -> None:
    """Title, and the outcome of the last edit (set by the edit callbacks before this run)."""
    st.title(L("app_title"))
    st.caption(L("app_caption"))
    # one block whether or not there is a message: the elements below keep their place in the
    # page, so the browser keeps the live map (its zoom and pan) instead of re-creating it
    messages = st.container()
    if ss.get("flash"):
        messages.success(ss.pop("flash"))
    if ss.get("flash_error"):
        messages.error(ss.pop("flash_error"))
    for warning in ss.pop("flash_warnings", None) or []:
        messages.warning(warning)
    if ss.get("save_conflict"):
        # a refused autosave stays on every page until the planner opens or saves as another
        messages.error(L("proposal_conflict", message=ss.save_conflict) + "\n\n" + L("proposal_conflict_fix"))
