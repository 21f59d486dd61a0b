"""The session of one planner: labels in the chosen language, the current plan and selection,
edit callbacks, and the map widget.

Every page reads and changes the session only through these helpers, so that the keys of
``st.session_state`` (``plan``, ``layers``, ``sel_grid``, ...) are named in one module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from gridplan.app.hints import field_text
from gridplan.app.labels import has_label, text
from gridplan.errors import GridplanError
from gridplan.i18n import columns as col_labels
from gridplan.i18n import reason_text, warning_text, yes_no

__all__ = [
    "ss",
    "KINDS",
    "L",
    "lang",
    "field_label",
    "show_error",
    "table",
    "plan_of",
    "new_plan",
    "set_plan",
    "select_grid",
    "on_edit",
    "names",
    "on_grid_box",
    "on_unit_box",
    "choice",
    "take_click",
    "draw_map",
    "base_map",
    "store",
    "start_proposal",
    "open_proposal",
    "autosave",
    "save_as",
]

#: The session state of the running planner (a proxy: each session sees its own).
ss = st.session_state
#: The contract layers a planner can upload, in the order the data step shows them.
KINDS = ("households", "communities", "buildings", "estates", "facilities", "barriers")


def lang() -> str:
    """The language chosen in the sidebar (Chinese until the planner switches)."""
    return ss.get("lang", "zh")


def L(key: str, **kw) -> str:
    """The label ``key`` in the session's language (:func:`gridplan.app.labels.text`)."""
    return text(key, lang(), **kw)


def field_label(field: str) -> str:
    """A contract field in words, in the session's language (:func:`gridplan.app.hints.field_text`)."""
    return field_text(field, lang())


@contextmanager
def timed_status(label: str) -> Iterator[None]:
    """A long step's status line (what runs, on how much), then how long it took: instead of a
    bare spinner. What the step draws goes to the page as usual, not into the status box."""
    box = st.status(label, expanded=False)
    t0 = time.perf_counter()
    try:
        yield
    except Exception:
        box.update(label=f"{label} {L('progress_failed')}", state="error")
        raise
    box.update(label=f"{label} {L('progress_done', seconds=time.perf_counter() - t0)}", state="complete")


def show_error(exc: GridplanError) -> None:
    """A refusal of the library, in the session's language; the session stays as it was."""
    st.error(exc.localized(lang()))


#: Columns whose values are codes with a label ``<prefix>_<value>``.
_CODED = {"status": "status", "kind": "kind", "source": "source", "level": "level"}


def _share(v) -> object:
    return "—" if pd.isna(v) else f"{float(v):.1%}"


def table(df: pd.DataFrame, code: str | None = None) -> pd.DataFrame:
    """A copy for the planner's eyes: headers and coded values (status, kind, source, level,
    reason, yes/no) in words, shares as percentages (0.3292 -> 32.9%), no geometry.

    Parameters
    ----------
    df : DataFrame
    code : {"zh", "en"}, optional
        The language; the session's by default.
    """
    code = code or lang()
    df = pd.DataFrame(df).drop(columns=["geometry"], errors="ignore").copy()
    for col, prefix in _CODED.items():
        if col in df:
            df[col] = (
                df[col]
                .map(lambda v, p=prefix: text(f"{p}_{v}", code) if has_label(f"{p}_{v}") else v)
                .astype(object)
            )
    if "reason" in df:
        df["reason"] = df["reason"].map(lambda r: reason_text(r, code)).astype(object)
    for col in df.columns:
        if pd.api.types.is_bool_dtype(df[col]):
            df[col] = df[col].map(lambda v: yes_no(v, code)).astype(object)
        elif "share" in str(col) and pd.api.types.is_numeric_dtype(df[col]):
            df[col] = df[col].map(_share).astype(object)
    return df.rename(columns=col_labels(df.columns, code))


def plan_of(result, layers: dict, lo: int, hi: int, micro: int = 0):
    """A fresh, editable :class:`~gridplan.plan.model.Plan` of a partition of ``layers`` (their
    buildings, estates, barriers and facilities kept as its context)."""
    from gridplan.plan.model import Plan

    return Plan.from_partition(
        result,
        layers["households"],
        layers["communities"],
        buildings=layers.get("buildings"),
        estates=layers.get("estates"),
        barriers=layers.get("barriers"),
        facilities=layers.get("facilities"),
        min_households=lo,
        max_households=hi,
        micro_max=micro or None,
    )


def new_plan(result, layers: dict, lo: int, hi: int, micro: int = 0) -> None:
    """Make a fresh, editable plan of a partition the session's current plan (:func:`plan_of`)."""
    set_plan(plan_of(result, layers, lo, hi, micro))


def set_plan(plan) -> None:
    """Make ``plan`` the session's current plan (the session's own: it is edited in place);
    clear what belonged to the previous plan (selection, recommended sites, candidate)."""
    ss.plan = plan
    ss.sel_grid = None
    ss.sel_unit = None
    ss.sites = None
    ss.candidate = None


def names():
    """The estate and building names of the session's data (:class:`gridplan.app.naming.Names`),
    made once per dataset."""
    from gridplan.app.naming import names_of

    layers = ss.get("layers") or {}
    kept = ss.get("_names")
    if kept is None or kept[0] is not layers:
        kept = ss["_names"] = (layers, names_of(layers))
    return kept[1]


def select_grid(gid, unit=None) -> None:
    """Select a grid (and a unit of it) in the session and in the two select boxes."""
    ss.sel_grid = gid
    ss.sel_grid_box = gid
    ss.sel_unit = unit
    ss.sel_unit_box = unit


def on_edit(name: str, *args) -> None:
    """Button callback: one Plan edit; a refusal is shown, the plan stays as it was."""
    plan = ss.plan
    try:
        getattr(plan, name)(*args)
    except GridplanError as exc:
        ss.flash_error = names().message(exc.localized(lang()), lang(), units=args[:1])
        return
    action = {"op": name} if name in ("undo", "redo") else (plan.edits[-1] if plan.edits else {})
    ss.flash = L("edit_done", what=names().edit(action, lang()))
    ss.flash_warnings = [L("edit_warning", what=warning_text(w, lang())) for w in plan.last_warnings]
    grids = set(plan.grids["grid_id"])
    keep = ss.sel_grid if ss.sel_grid in grids else None
    if keep is None and ss.sel_grid is not None and action.get("op") == "merge" and action["keep"] in grids:
        keep = action["keep"]  # the selected grid was merged into this one: the panel stays
    select_grid(keep)
    ss.regen_undo = None  # undoing 生成网格 now would drop this edit: the versions keep both
    autosave(create=True)


def on_grid_box() -> None:
    """Select box callback: the grid chosen in the box becomes the selection (no unit)."""
    select_grid(ss.sel_grid_box)


def on_unit_box() -> None:
    """Select box callback: the unit chosen in the box becomes the selected unit."""
    ss.sel_unit = ss.sel_unit_box


def choice(widget: Callable, label: str, options: Sequence[str], key: str, prefix: str, **kw):
    """A radio/select box whose option labels follow the language.

    The widget key carries the language: Streamlit gives a widget a new identity when its
    option labels change, so one key per language keeps the choice shown; the value itself
    lives in ``ss[key]`` across languages.
    """
    code = lang()
    current = ss.get(key, options[0])
    value = widget(
        label,
        options,
        index=options.index(current) if current in options else 0,
        key=f"{key}__{code}",
        format_func=lambda x, code=code: text(f"{prefix}_{x}", code),
        **kw,
    )
    ss[key] = value
    return value


def take_click(out) -> dict | None:
    """A new map click (from the map component, or set by a test in ``map_click``)."""
    click = ss.pop("map_click", None)
    if click is None and isinstance(out, dict):
        last = out.get("last_clicked")
        if last and last != ss.get("_last_click"):
            ss._last_click = last
            click = last
    return click


def draw_map(fmap, key: str):
    """Render a folium map; the component returns the last click."""
    from streamlit_folium import st_folium

    return st_folium(fmap, key=key, height=560, use_container_width=True, returned_objects=["last_clicked"])


def base_map(**layers):
    """The map of the current plan's grids with ``layers`` on top, in the session's language
    and basemap."""
    from gridplan.app.basemaps import basemap_layers
    from gridplan.app.webmap import plan_map

    tiles = basemap_layers(
        ss.get("basemap", "none"), url=ss.get("basemap_url", ""), key=ss.get("tianditu_key", ""), lang=lang()
    )
    return plan_map(
        ss.plan.grids,
        communities=ss.plan.communities,
        lang=lang(),
        tiles=tiles,
        unit_label=names().unit,
        **layers,
    )


# ---------------------------------------------------------------- proposals (方案) in the store
def store():
    """This session's handle on the plan store (:class:`gridplan.plan.store.PlanStore`).

    One handle per browser session, never a shared resource: the store's optimistic base (the
    version a save must follow) lives in the handle, so that a second tab editing the same
    proposal is refused instead of overwriting the first one's work.
    """
    if ss.get("_store") is None:
        from gridplan.plan.store import PlanStore

        ss._store = PlanStore()
    return ss._store


def start_proposal(network=None, name: str | None = None) -> str:
    """Give the session's (new) plan a proposal name; nothing is written until its first save.

    Parameters
    ----------
    network : WalkNetwork or callable, optional
        The walking network to store with the first save (a callable is called then, so that
        a session that never edits never loads it).
    name : str, optional
        Default: a new name from the current time (:func:`gridplan.app.services.proposal_name`).
    """
    from gridplan.app.services import proposal_name

    ss.save_conflict = None
    try:
        taken = store().list()["name"]
    except GridplanError as exc:  # no writable store: the app works, nothing is saved, it says so
        ss.save_conflict, taken = exc.localized(lang()), []
    ss.proposal = name or proposal_name(taken, lang())
    ss.proposal_auto = name is None
    ss.proposal_version = None
    ss._save_network = network
    ss.regen_undo = None
    return ss.proposal


def open_proposal(name: str, version: int | None = None) -> bool:
    """Make a stored proposal (its plan with the edit history, its data and its walking
    network) the session's; False, with the refusal shown, when it cannot be read."""
    try:
        proposal = store().load(name, version)
    except GridplanError as exc:
        ss.flash_error = exc.localized(lang())
        return False
    plan = proposal.plan
    ss.plan = plan
    ss.layers = {"households": plan.households, "communities": plan.communities, **plan.context}
    ss.network = proposal.network
    ss.dataset = "proposal"
    ss.validation = None
    ss.coverage_params = None
    ss.proposal = proposal.name
    ss.proposal_version = proposal.version
    ss._save_network = None
    ss.save_conflict = None
    ss.sel_grid = ss.sel_unit = ss.sites = ss.candidate = None
    return True


def autosave(note: str = "", create: bool = False) -> bool:
    """Save the session's plan as the next version of its proposal (nothing is written when
    nothing changed). Refused saves (another session saved first) are shown and kept in
    ``save_conflict``; autosaving then stops until the planner opens or saves as another
    proposal, so that nothing is overwritten silently.

    Parameters
    ----------
    note : str
        Shown in the version list (e.g. after 生成网格).
    create : bool
        Write a proposal that has no version yet (an edit does; a plain page run does not).
    """
    name = ss.get("proposal")
    if not name or ss.get("save_conflict") or (ss.get("proposal_version") is None and not create):
        return False
    net = ss.get("_save_network")
    if ss.get("proposal_version") is None and ss.get("proposal_auto"):
        # a name from the clock is only a suggestion: two planners who start in the same
        # minute each get their own proposal, instead of the second one's save being refused
        from gridplan.app.services import proposal_name

        try:
            taken = set(store().list()["name"])
        except GridplanError:
            taken = set()
        if name in taken:
            name = ss.proposal = proposal_name(taken, lang())
    try:
        ss.proposal_version = store().save(name, ss.plan, network=net() if callable(net) else net, note=note)
    except GridplanError as exc:
        ss.save_conflict = exc.localized(lang())
        return False
    ss._save_network = None
    return True


def save_as(name: str) -> bool:
    """Save the session's plan under a new proposal name and go on editing it there (with the
    walking network of the proposal it came from); False, with the refusal shown, when the
    name is taken or not valid."""
    net = ss.get("_save_network")
    if net is None and ss.get("proposal_version") is not None:
        net = store().network(ss.proposal, ss.proposal_version)
    try:
        version = store().save(
            name, ss.plan, network=net() if callable(net) else net, note=L("note_saved_as")
        )
    except GridplanError as exc:
        ss.flash_error = exc.localized(lang())
        return False
    ss.proposal = name.strip()
    ss.proposal_version = version
    ss._save_network = None
    ss.save_conflict = None
    return True
