"""The session of one planner: labels in the chosen language, the current plan and selection,
edit callbacks, and the map widget.

Every page reads and changes the session only through these helpers, so that the keys of
``st.session_state`` (``plan``, ``layers``, ``sel_grid``, ...) are named in one module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    "new_plan",
    "select_grid",
    "on_edit",
    "names",
    "on_grid_box",
    "on_unit_box",
    "choice",
    "take_click",
    "draw_map",
    "base_map",
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


def new_plan(result, layers: dict, lo: int, hi: int, micro: int = 0) -> None:
    """Make a fresh, editable plan of a partition the session's current plan; clear what
    belonged to the previous plan (selection, recommended sites, candidate)."""
    from gridplan.plan.model import Plan

    ss.plan = Plan.from_partition(
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
    keep = ss.sel_grid if ss.sel_grid in set(plan.grids["grid_id"]) else None
    select_grid(keep)


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
