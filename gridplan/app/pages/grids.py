"""Step 2, grids: generate the grids, see them on the map and edit them (move an estate part or
a single building, split, merge, lock, re-balance; undo and redo).

A grid is selected on the map, in the box, by a row of the grid table or by the find box; the
map brings it into view. The panel offers only the edits the plan accepts and says, before the
click, the households each grid would have (the plan's previews); an edit that would leave a
grid outside the household band waits for 仍然执行."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.app.pages.grid_quality import quality_block
from gridplan.app.sources import session_partition
from gridplan.app.state import (
    L,
    lang,
    names,
    new_plan,
    on_edit,
    on_grid_box,
    on_unit_box,
    select_grid,
    show_error,
    ss,
    table,
    take_click,
)
from gridplan.errors import GridplanError

__all__ = ["page"]


def page() -> None:
    """The grids step: band and generate, figures, undo/redo, map and panel, grid table."""
    plan = _generate_form()
    rep = plan.report
    m = st.columns(5)
    m[0].metric(L("metric_grids"), rep["grids"])
    m[1].metric(L("metric_households"), f"{rep['households_in_grids']:,}")
    m[2].metric(L("metric_ok"), rep["grids_ok"])
    m[3].metric(L("metric_under"), rep["grids_under"])
    m[4].metric(L("metric_over"), rep["grids_over"])

    u1, u2, _ = st.columns([1, 1, 6])
    u1.button(L("undo"), key="btn_undo", disabled=not plan.can_undo, on_click=on_edit, args=("undo",))
    u2.button(L("redo"), key="btn_redo", disabled=not plan.can_redo, on_click=on_edit, args=("redo",))

    _take_table_row(plan)  # before the map and panel are drawn, so that they follow in this run
    # A keyed container keeps its identity in the browser when messages above it come and go
    # (an unkeyed block is known by its position): the live map inside is not re-created.
    ss[_EDITED_KEY] = False  # this page run draws the figures after any edit itself
    # the find box is drawn by the page, not by every rerun of the work area (a click on the map):
    # its callback selects, and the whole page follows
    st.text_input(L("find"), key="find_box", on_change=_on_find, placeholder=L("find_hint"))
    with st.container(key="grids_work_area"):
        _work_area()
    st.subheader(L("grid_table"))
    _grid_table(plan)
    quality_block(plan)  # after the map and the table: measured again after an edit
    if plan.edits:
        with st.expander(L("history")):
            words = names()
            st.markdown("\n".join(f"{i}. {words.edit(a, lang())}" for i, a in enumerate(plan.edits, 1)))


def _generate_form():
    """The household band and the generate button; returns the (possibly new) plan.

    Generating replaces the grids: on a plan with edits or locks the planner confirms first,
    and the version before stays in the proposal (the undo button reopens it)."""
    from gridplan.app.sources import undo_regenerate
    from gridplan.app.state import autosave

    plan = ss.plan
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
    lo = c1.number_input(L("min_households"), 1, 100000, plan.min_households, step=10, key="lo")
    hi = c2.number_input(L("max_households"), 1, 100000, plan.max_households, step=10, key="hi")
    micro = c3.number_input(L("micro_max"), 0, 10000, 0, step=10, key="micro")
    band = (int(lo), int(hi), int(micro))
    go = False
    if c4.button(L("generate"), key="btn_generate", type="primary"):
        changes = len(plan.edits) + len(plan.locked)
        if changes:
            ss.confirm_generate = changes
        else:
            go = True
    asked = st.container()  # always there, so that the map below keeps its place (see main)
    if ss.get("confirm_generate"):
        asked.warning(L("generate_confirm", n=ss.confirm_generate))
        y, n, _ = asked.columns([1, 1, 4])
        go = y.button(L("generate_confirm_yes"), key="btn_generate_yes", type="primary")
        if go or n.button(L("generate_cancel"), key="btn_generate_no"):
            ss.confirm_generate = None
            if not go:
                st.rerun()
    if go:
        try:
            result = session_partition(*band)
        except GridplanError as exc:
            with asked:
                show_error(exc)
        else:
            before = ss.get("proposal_version")
            new_plan(result, ss.layers, *band)
            autosave(note=L("note_generated"), create=True)
            ss.regen_undo = (ss.proposal, before) if before is not None else None
    if ss.get("regen_undo"):
        asked.button(L("generate_undo"), key="btn_generate_undo", on_click=undo_regenerate)
    return ss.plan


#: Session keys of this page: the map component's value, the per-session map cache, and the
#: flag an edit in the fragment sets so that the whole page (figures, table) follows.
_MAP_KEY = "map_grids"
_CACHE_KEY = "_grids_map_cache"
_EDITED_KEY = "_grids_edited"
#: The grid the map last brought into view; dropped to bring the selection into view again.
_FOCUS_KEY = "_grids_map_focus"
#: The number of the map's last focus (sent on the run that brings the selection into view).
_FOCUS_N_KEY = "_grids_map_focus_n"
#: The grid table (its selected row) and the rows this page last took or set.
_TABLE_KEY = "grid_table"
_TABLE_SEEN_KEY = "_grid_table_rows"
#: An edit waiting for the planner's confirmation: ``(method name, args)``.
_CONFIRM_KEY = "_grids_confirm"
#: The outcome of the last edit made in the panel, shown again beside its buttons.
_OUTCOME_KEY = "_grids_outcome"
#: What the search box found, shown under it once.
_FOUND_KEY = "_grids_found"
#: The building chosen in the panel's building box (or by a click in the selected unit).
_BUILDING_KEY = "sel_building_box"
#: The Plan preview of each edit a button makes.
_PREVIEWS = {
    "move_unit": "preview_move",
    "move_building": "preview_move_building",
    "split_grid": "preview_split",
    "merge_grids": "preview_merge",
}


@st.fragment
def _work_area() -> None:
    """Map and panel: a click on the map or in the panel reruns only this fragment; an edit
    reruns the whole page once, since the figures and the table change too."""
    if ss.pop(_EDITED_KEY, False):
        st.rerun(scope="app")
    plan = ss.plan
    # a confirmation lives while it is shown: another click or edit drops it
    pending = ss.pop(_CONFIRM_KEY, None)
    outcome = ss.pop(_OUTCOME_KEY, None)
    _take_map_click(plan)
    ids = plan.grids["grid_id"].tolist()
    if ss.sel_grid not in ids:
        select_grid(None)
    found = st.container()  # always there, so that the map below keeps its place (see page)
    if ss.get(_FOUND_KEY):
        found.caption(ss.pop(_FOUND_KEY))
    left, right = st.columns([3, 2])
    with left:
        _grid_map(plan)
    with right:
        if ss.get("sel_grid_box") != ss.sel_grid:
            # the box follows the selection, also after a language switch re-created it
            ss.sel_grid_box = ss.sel_grid
        st.selectbox(
            L("select_grid"),
            [None] + ids,
            key="sel_grid_box",
            on_change=on_grid_box,
            format_func=lambda g: "—" if g is None else g,
            placeholder="—",
        )
        if ss.sel_grid:
            _grid_panel(plan, ss.sel_grid, pending, outcome)


def _take_map_click(plan) -> None:
    """A click on the map (the component's value, kept under its key before this run) selects
    the grid under it; a second click in the selected grid selects one of its units, and a
    click in the selected unit one of its buildings. Done before the map is drawn, so that the
    map shows the new selection in the same run."""
    click = take_click(ss.get(_MAP_KEY))
    if click:
        uid = plan.unit_at(click["lng"], click["lat"])
        if uid is not None:
            gid = _unit_grids(plan)[uid]  # what plan.grid_at would say, without a second look-up
            if gid == ss.sel_grid and uid == ss.sel_unit:
                ss[_BUILDING_KEY] = plan.building_at(click["lng"], click["lat"], uid)
            else:
                select_grid(gid, uid if gid == ss.sel_grid else None)


def _cached(name: str, sources: tuple, make):
    """``make()`` once per ``sources`` (objects compared by identity and kept alive with the
    result, texts by value) in this session."""
    cache = ss.setdefault(_CACHE_KEY, {})
    kept = cache.get(name)
    same = kept is not None and all(
        a is b or (isinstance(a, str) and a == b) for a, b in zip(kept[0], sources, strict=True)
    )
    if not same:
        kept = cache[name] = (sources, make())
    return kept[1]


def _units(plan):
    """The plan's units (:attr:`~gridplan.plan.model.Plan.units_metric`, a copy per call), once
    per plan state."""
    return _cached("units_metric", (plan.grids_metric,), lambda: plan.units_metric)


def _unit_grids(plan) -> dict:
    """Unit id -> grid id, once per plan state."""
    return _cached(
        "unit_grids",
        (plan.grids_metric,),
        lambda: dict(zip(_units(plan)["unit_id"], _units(plan)["grid_id"].astype(str))),
    )


def _grid_map(plan) -> None:
    """The grids on the map (:mod:`gridplan.app.mapview`): the grid layers go to the browser
    when they change (an edit, the language); a click or a selection sends only the selection,
    and the planner's zoom and pan stay."""
    from gridplan.app.basemaps import basemap_layers
    from gridplan.app.gridmap import basemap_spec, home_view, unit_payload
    from gridplan.app.mapview import grid_map

    code = lang()
    tiles = basemap_layers(
        ss.get("basemap", "none"), url=ss.get("basemap_url", ""), key=ss.get("tianditu_key", ""), lang=code
    )
    state = plan.grids_metric  # a new GeoDataFrame after every edit: the key of what follows
    data = _cached(
        "data",
        (state, plan.communities, plan.micro_grids, code),
        lambda: _shared_payload(plan.version, code, plan),
    )
    units = None
    if ss.sel_grid:
        units = _cached(
            "units",
            (state, ss.sel_grid, code, names()),
            lambda: unit_payload(_units(plan), ss.sel_grid, lang=code, unit_label=names().unit),
        )
    focus = None
    if ss.get(_FOCUS_KEY) != ss.sel_grid:
        focus = ss[_FOCUS_N_KEY] = ss.get(_FOCUS_N_KEY, 0) + 1
    ss[_FOCUS_KEY] = ss.sel_grid
    out = grid_map(
        data,
        units,
        selected_grid=ss.sel_grid,
        selected_unit=ss.sel_unit,
        focus=focus,
        tiles=basemap_spec(tiles, code),
        home=_cached("home", (plan.communities,), lambda: home_view(plan.communities)),
        key=_MAP_KEY,
        memory=ss,
    )
    take_click(out)  # the click was taken before the map was drawn: this only marks it seen
    st.caption(L("legend_grids"))
    if plan.micro_stale:
        st.caption(
            L(
                "micro_stale",
                grids="、".join(plan.micro_stale) if code == "zh" else ", ".join(plan.micro_stale),
            )
        )


@st.cache_resource(show_spinner=False, max_entries=16)
def _shared_payload(version: int, code: str, _plan):
    """The grid layers of a plan state for the map (:func:`gridplan.app.gridmap.grid_payload`),
    shared by the sessions: every new session opens on a copy of the same sample plan, whose
    state keeps its version (:attr:`~gridplan.plan.model.Plan.version`: a number that names the
    state's content in this process). A payload is immutable text, safe to share."""
    from gridplan.app.gridmap import grid_payload
    from gridplan.io.projection import to_wgs84

    return grid_payload(
        to_wgs84(_plan.grids),
        communities=to_wgs84(_plan.communities),
        micro_grids=_plan.micro_grids,
        lang=code,
    )


def _edit(name: str, *args) -> None:
    """Button callback: the edit (:func:`on_edit`), then the whole page reruns (see
    :func:`_work_area`); its outcome is kept to be shown beside the panel's buttons too."""
    on_edit(name, *args)
    ss[_OUTCOME_KEY] = (ss.get("flash"), ss.get("flash_error"), list(ss.get("flash_warnings") or []))
    ss[_EDITED_KEY] = True


def _ask(name: str, *args) -> None:
    """Edit button callback: an edit that would leave a grid outside the household band waits
    for the planner's confirmation (:func:`_confirm`); any other is made at once."""
    preview = _preview(ss.plan, name, args)
    if preview is not None and preview.outside:
        ss[_CONFIRM_KEY] = (name, args)
    else:
        _edit(name, *args)


def _preview(plan, name: str, args: tuple):
    """The Plan's preview of an edit; None when the edit would be refused (the edit then says
    why, as it always has)."""
    try:
        return getattr(plan, _PREVIEWS[name])(*args)
    except GridplanError:
        return None


def _grid_panel(plan, gid: str, pending=None, outcome=None) -> None:
    """The selected grid's facts and the edits it allows."""
    d = plan.grid_detail(gid)
    g = d["grid"]
    st.subheader(L("selected_grid", grid=gid))
    _facts(plan, gid)
    sep = "、" if lang() == "zh" else ", "
    locked = gid in plan.locked
    # the members and the heading of the edits in one element: every element of the panel is a
    # message and a render in the browser on each click
    st.markdown(
        f"**{L('grid_estates')}**: " + (sep.join(names().estate(e) for e in d["estates"]) or "—") + "  \n"
        f"**{L('grid_buildings')}**: {len(d['buildings'])}  \n"
        f"**{L('grid_neighbours')}**: "
        + (", ".join(d["neighbours"]) or "—")
        + ("" if locked else f"\n\n**{L('edit')}**")
    )
    if locked:
        st.info(L("locked_note"))
        _outcome(outcome)
        st.button(L("unlock"), key="btn_unlock", on_click=_edit, args=("unlock", gid))
        return
    _outcome(outcome)
    _unit_move(plan, d["units"]["unit_id"].tolist(), pending)
    split, said = None, ""
    try:
        split = plan.preview_split(gid)
        said = _counts("preview_split", split)
    except GridplanError as exc:  # a single unit: the button is off and the caption says why
        said = names().message(exc.localized(lang()), lang())
    row = st.container(horizontal=True)  # one block, where two columns are three
    row.button(L("split"), key="btn_split", on_click=_ask, args=("split_grid", gid), disabled=split is None)
    row.button(L("lock"), key="btn_lock", on_click=_edit, args=("lock", gid))
    st.caption(said)
    _confirm(pending, ("split_grid", (gid,)), split)
    targets = plan.merge_targets(gid)
    if targets:
        other = st.selectbox(L("merge_with"), list(targets), key="merge_with")
        st.caption(_counts("preview_merge", targets[other]))
        st.button(L("merge"), key="btn_merge", on_click=_ask, args=("merge_grids", gid, other))
        _confirm(pending, ("merge_grids", (gid, other)), targets[other])
    elif d["neighbours"]:
        st.caption(L("no_merge_targets"))
    st.button(L("rebalance"), key="btn_rebalance", on_click=_edit, args=("rebalance", str(g["community_id"])))


#: The figures of the selected grid shown in the panel, in this order.
_FACTS = (
    "community_name",
    "households",
    "population",
    "n_buildings",
    "n_estates",
    "status",
    "reason",
    "compactness",
    "area_m2",
    "locked",
    "barrier_crossing",
)


def _facts(plan, gid: str) -> None:
    """The grid's figures as a plain HTML table (not a canvas grid): readable by screen readers
    and browser tests. The figures of every grid are put in words once per plan state and
    language, not on every click."""
    row = _cached("facts", (plan.grids_metric, lang()), lambda: _facts_table(plan.grids_metric)).loc[gid]
    st.table(pd.DataFrame({gid: ["—" if pd.isna(v) else str(v) for v in row]}, index=row.index))


def _facts_table(grids) -> pd.DataFrame:
    """:data:`_FACTS` of every grid (one row each, by grid id) in the planner's words."""
    frame = pd.DataFrame({k: grids[k] if k in grids else None for k in _FACTS}, index=grids.index)
    for k in ("locked", "barrier_crossing"):
        frame[k] = frame[k].astype("boolean")
    return table(frame)


def _unit_move(plan, units: list, pending=None) -> None:
    """Pick a unit of the selected grid and move it to a neighbouring grid that accepts it."""
    if ss.sel_unit not in units:
        ss.sel_unit = None
        ss.sel_unit_box = None
    code = lang()
    words = names()
    uid = st.selectbox(
        L("select_unit"),
        [None] + units,
        key="sel_unit_box",
        on_change=on_unit_box,
        format_func=lambda u: "—" if u is None else words.unit(u, code),
        placeholder="—",
    )
    if uid is None:
        return
    targets = plan.move_targets(uid)
    if targets:
        # the options stay grid codes (what the planner types and the browser tests pick);
        # what the move would leave is said under the box
        to = st.selectbox(L("move_to"), list(targets), key="move_to")
        st.caption(_counts("preview_move", targets[to]))
        st.button(L("move"), key="btn_move", on_click=_ask, args=("move_unit", uid, to))
        _confirm(pending, ("move_unit", (uid, to)), targets[to])
    else:
        st.caption(L("no_targets"))
    _building_move(plan, uid, pending)


def _building_move(plan, uid, pending=None) -> None:
    """Pick a building of the selected unit (of two or more buildings) and move it alone to a
    neighbouring grid that accepts it (:meth:`gridplan.plan.model.Plan.move_building`)."""
    buildings = plan.unit_buildings(uid)
    if len(buildings) < 2:  # a unit's only building moves with the unit, by the box above
        ss.pop(_BUILDING_KEY, None)
        return
    if ss.get(_BUILDING_KEY) not in buildings:
        ss[_BUILDING_KEY] = None
    words, code = names(), lang()
    hh = plan.households
    per = (
        hh.groupby(hh["building_id"].astype(str))["households"].sum().to_dict()
        if "building_id" in hh and "households" in hh
        else {}
    )

    def option(b) -> str:
        if b is None:
            return "—"
        name = words.buildings.get(str(b), str(b))
        return L("building_option", name=name, n=int(per[str(b)])) if str(b) in per else name

    bid = st.selectbox(
        L("select_building"), [None] + buildings, key=_BUILDING_KEY, format_func=option, placeholder="—"
    )
    if bid is None:
        return
    try:
        targets = plan.building_targets(bid)
    except GridplanError as exc:  # e.g. its estate part would fall in two: the caption says why
        st.caption(words.message(exc.localized(code), code, units=[uid]))
        return
    if not targets:
        st.caption(L("no_building_targets"))
        return
    to = st.selectbox(L("building_to"), list(targets), key="building_to")
    st.caption(_counts("preview_move_building", targets[to]))
    st.button(L("move_building"), key="btn_move_building", on_click=_ask, args=("move_building", bid, to))
    _confirm(pending, ("move_building", (bid, to)), targets[to])


def _counts(key: str, preview) -> str:
    """What an edit would leave, in words: 拆分后：网格 A（412 → 206 户）；新网格 B（206 户）."""
    plan = ss.plan
    band = {"lo": plan.min_households, "hi": plan.max_households}
    parts = []
    for g in preview.grids:
        outside = L("preview_outside", **band) if g.outside else ""
        if g.after is None:
            parts.append(L("preview_gone", grid=g.grid_id))
        elif g.before is None:
            parts.append(L("preview_new", grid=g.grid_id, after=g.after, outside=outside))
        else:
            parts.append(L("preview_count", grid=g.grid_id, before=g.before, after=g.after, outside=outside))
    return L(key, counts=("；" if lang() == "zh" else "; ").join(parts))


def _confirm(pending, edit: tuple, preview) -> None:
    """Below an edit's button: when that edit waits for confirmation, the grids it would leave
    outside the band, and 仍然执行 / 取消."""
    if pending != edit or preview is None or not preview.outside:
        return  # another edit, or one the plan no longer leaves outside the band (an undo since)
    ss[_CONFIRM_KEY] = pending  # still shown: kept for the next run
    plan = ss.plan
    said = [
        L("edit_under", grid=g.grid_id, n=g.after, lo=plan.min_households)
        if g.after < plan.min_households
        else L("edit_over", grid=g.grid_id, n=g.after, hi=plan.max_households)
        for g in preview.outside
    ]
    st.warning(L("edit_confirm", what=("；" if lang() == "zh" else "; ").join(said)))
    yes, no = st.columns(2)
    name, args = edit
    yes.button(L("edit_anyway"), key="btn_edit_anyway", type="primary", on_click=_edit, args=(name, *args))
    no.button(L("edit_cancel"), key="btn_edit_cancel", on_click=ss.pop, args=(_CONFIRM_KEY, None))


def _outcome(outcome) -> None:
    """The outcome of the edit just made in this panel, beside its buttons (the same words as the
    message at the top of the page, which stays the one success box)."""
    if not outcome:
        return
    done, error, warnings = outcome
    if error:
        st.markdown(f":red[✗ {error}]")
    elif done:
        st.markdown(f":green[✓ {done}]")
    for w in warnings:
        st.markdown(f":orange[⚠ {w}]")


# ---------------------------------------------------------------- table rows and search
def _table_rows() -> list:
    """The rows selected in the grid table (as Streamlit keeps them in the session)."""
    try:
        return list(ss[_TABLE_KEY]["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def _take_table_row(plan) -> None:
    """A row the planner has just selected in the grid table selects its grid; the map brings
    it into view."""
    rows = _table_rows()
    if rows and rows != ss.get(_TABLE_SEEN_KEY):
        ids = plan.grids["grid_id"].tolist()
        if rows[0] < len(ids):
            select_grid(ids[rows[0]])
            ss.pop(_FOCUS_KEY, None)
    ss[_TABLE_SEEN_KEY] = rows


def _grid_table(plan) -> None:
    """The grid table, its selected row following the selection made anywhere (the map, the
    box, the search), so that a click on a row is never taken as a click away from it."""
    ids = plan.grids["grid_id"].tolist()
    wanted = [ids.index(ss.sel_grid)] if ss.get("sel_grid") in ids else []
    if _table_rows() != wanted:
        ss[_TABLE_KEY] = {"selection": {"rows": wanted, "columns": []}}
    ss[_TABLE_SEEN_KEY] = wanted
    st.dataframe(
        table(plan.grids), hide_index=True, key=_TABLE_KEY, on_select="rerun", selection_mode="single-row"
    )


def _on_find() -> None:
    """Search box callback: the first match selects its grid (and, for an estate or a building,
    the unit holding it); the map brings it into view."""
    from gridplan.app.services import find_in_plan

    query = ss.get("find_box") or ""
    if not query.strip():
        return
    found = find_in_plan(ss.plan, query, names())
    if not found:
        ss[_FOUND_KEY] = L("find_none", query=query.strip())
        return
    first = found[0]
    select_grid(first.grid_id, first.unit_id)
    ss.pop(_FOCUS_KEY, None)
    said = L(f"find_{first.kind}", name=first.name, grid=first.grid_id)
    if len(found) > 1:
        said += L("find_more", n=len(found) - 1)
    ss[_FOUND_KEY] = said
