"""Step 6, proposals (方案): the proposals saved on the server with their versions, open one,
save the current grids under a new name, compare two side by side, and delete one that is not
open (after a confirmation).

The store is :class:`gridplan.plan.store.PlanStore` (the session's own handle,
:func:`gridplan.app.state.store`); the comparison is :meth:`~gridplan.plan.store.PlanStore.compare`.
"""

from __future__ import annotations

import streamlit as st

from gridplan.app import services
from gridplan.app.state import L, draw_map, lang, open_proposal, save_as, ss, store
from gridplan.errors import GridplanError

__all__ = ["page"]


def page() -> None:
    """The proposals step: list and open, save as, compare."""
    _save_as_form()
    listing = store().list()  # after the form: a proposal saved just now is listed
    st.subheader(L("proposal_list"))
    if listing.empty:
        st.info(L("proposal_none"))
        return
    st.dataframe(services.proposals_table(listing, lang()), hide_index=True)
    names = listing["name"].tolist()
    _open_form(names)
    st.subheader(L("proposal_compare"))
    _compare_form(names)
    _delete_form(names)


def _save_as_form() -> None:
    with st.form("save_as_form", border=False):
        a, b = st.columns([3, 1])
        name = a.text_input(L("proposal_new_name"), key="save_as_name")
        if b.form_submit_button(L("proposal_save_as")) and name.strip():
            if save_as(name):
                st.success(L("proposal_saved_as", name=ss.proposal))


def _version_pick(names: list, key: str, label: str) -> tuple[str, int]:
    """A proposal and one of its versions (the latest by default)."""
    a, b = st.columns([3, 1])
    current = ss.get("proposal")
    name = a.selectbox(label, names, index=names.index(current) if current in names else 0, key=f"{key}_name")
    versions = store().versions(name)["version"].tolist()
    version = b.selectbox(L("proposal_version"), versions[::-1], key=f"{key}_version_{name}")
    return name, int(version)


def _open_form(names: list) -> None:
    name, version = _version_pick(names, "open", L("proposal_choose"))
    with st.expander(L("proposal_versions")):
        st.dataframe(services.versions_table(store().versions(name), lang()), hide_index=True)
    if st.button(L("proposal_open"), key="btn_open_proposal") and open_proposal(name, version):
        st.success(L("proposal_opened", name=name, version=version))


def _compare_form(names: list) -> None:
    left, right = st.columns(2)
    with left:
        a = _version_pick(names, "cmp_a", L("proposal_side_a"))
    with right:
        b = _version_pick(names, "cmp_b", L("proposal_side_b"))
    if st.button(L("proposal_compare_button"), key="btn_compare"):
        try:
            ss.comparison = (a, b, store().compare(a, b))
        except GridplanError as exc:
            st.error(exc.localized(lang()))
            return
    kept = ss.get("comparison")
    if kept is None or kept[:2] != (a, b):
        return
    result = kept[2]
    st.dataframe(services.comparison_table(result.table, lang()), hide_index=True)
    if result.grids.empty:
        st.info(L("proposal_no_diff"))
        return
    _difference_maps(result, [str(c) for c in result.table.columns])


def _difference_maps(result, labels: list) -> None:
    """The grids that differ, one map per proposal (the app's map of grids, read-only)."""
    from gridplan.app.webmap import plan_map

    grids = result.grids
    for column, label in zip(st.columns(2), labels, strict=False):
        with column:
            st.markdown(f"**{L('proposal_diff_map', name=label)}**")
            side = grids[grids["proposal"] == label]
            if side.empty:
                st.caption("—")
                continue
            draw_map(plan_map(side, lang=lang(), height=420), key=f"map_cmp_{label}")


def _delete_form(names: list) -> None:
    """Delete a proposal with all its versions. Not the one open in this session (its autosave
    would write it again), and only once the planner ticks the confirmation. The deletion runs
    in the button's callback, before the page is drawn, so the lists above no longer show it."""
    current = ss.get("proposal")
    others = [n for n in names if n != current]
    with st.expander(L("proposal_delete"), expanded=bool(ss.get("_deleted"))):
        done = ss.pop("_deleted", None)
        if done is not None:
            (st.success if done[1] is None else st.error)(
                L("proposal_deleted", name=done[0]) if done[1] is None else done[1]
            )
        if not others:
            st.caption(L("proposal_delete_none"))
            return
        name = st.selectbox(L("proposal_choose"), others, key="delete_name")
        sure = st.checkbox(L("proposal_delete_confirm", name=name), key=f"delete_sure_{name}")
        st.button(
            L("proposal_delete_button"),
            key="btn_delete_proposal",
            disabled=not sure,
            on_click=_delete,
            args=(name,),
        )


def _delete(name: str) -> None:
    try:
        store().delete(name)
        ss["_deleted"] = (name, None)
    except GridplanError as exc:
        ss["_deleted"] = (name, exc.localized(lang()))
