"""The grid lines' check on the grids step: the plan's geometry figures
(:meth:`gridplan.plan.quality.PlanQuality.geometry_figures`) as a planner reads them, with the
buildings, estates and grids at fault named.

Drawn at the end of the page, after the map and the grid table: a selection changes no plan
state, so the plan's memo answers at once; after an edit the figures are measured again
(a third of a second on the sample), while the map above is already drawn.
"""

from __future__ import annotations

import re

import streamlit as st

from gridplan.app.state import L, lang, names

__all__ = ["quality_block", "quality_lines"]

#: Characters Streamlit's markdown would read as markup in a name from the planner's data.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~$])")


def quality_block(plan) -> None:
    """The check of the plan's grid lines against the session's streets (the walking network's
    edges), walls and building outlines, under its heading.

    Parameters
    ----------
    plan : gridplan.plan.model.Plan
        The session's plan, as it is now.
    """
    from gridplan.app.sources import network

    net = network()
    # the network's own frame, the same object on every run: the plan's memo keys on its identity
    streets = None if net is None else net.edges
    figures = plan.geometry_figures(streets)
    st.subheader(L("quality_title"))
    st.markdown("\n".join(f"- {line}" for line in quality_lines(figures, streets is not None)))
    if streets is None:
        st.caption(L("quality_no_network"))


def quality_lines(figures: dict, with_streets: bool) -> list[str]:
    """The four figures in the session's language, one line each, naming what is at fault.

    Parameters
    ----------
    figures : dict
        :meth:`~gridplan.plan.quality.PlanQuality.geometry_figures` of the plan.
    with_streets : bool
        Whether street lines were given (else the share counts walls and outlines only).

    Returns
    -------
    list of str
        Markdown lines: cut buildings, divided estates, grid lines on features, enclave grids.
    """
    words, code = names(), lang()
    sep = "、" if code == "zh" else ", "
    cut = figures.get("buildings_cut")
    buildings = _count(
        "quality_buildings_cut",
        cut,
        "quality_n_buildings",
        [words.buildings.get(str(b), str(b)) for b in figures.get("buildings_cut_ids") or []],
        sep,
        unknown="quality_what_buildings",
    )
    split = figures.get("buildings_split")
    if cut is not None and split:
        buildings += L("quality_buildings_split", n=split)
    estates = _count(
        "quality_estates_cut",
        figures.get("estates_cut"),
        "quality_n_estates",
        [words.estate(e) for e in figures.get("estates_cut_ids") or []],
        sep,
        unknown="quality_what_estates",
    )
    share = figures.get("boundary_on_features")
    head = "quality_lines" if with_streets else "quality_lines_walls"
    lines = L(
        "quality_row",
        head=L(head),
        value=L("quality_unknown", what=L("quality_what_lines")) if share is None else f"{share:.1%}",
    )
    enclosed = _count(
        "quality_enclosed",
        figures.get("grids_enclosed"),
        "quality_n_grids",
        [str(g) for g in figures.get("grids_enclosed_ids") or []],
        sep,
    )
    return [buildings, estates, lines, enclosed]


def _count(head: str, n: int | None, unit: str, which: list[str], sep: str, *, unknown: str = "") -> str:
    """One count in words: ``✓`` when none, ``⚠`` and the first of them by name when some, and
    why it was not counted when the data cannot give it (the layer ``unknown`` names)."""
    if n is None:
        return L("quality_row", head=L(head), value=L("quality_unknown", what=L(unknown)))
    value = L(unit, n=n)
    if n:
        shown = sep.join(_MARKUP.sub(r"\\\1", w) for w in which)
        if len(which) < n:
            shown = L("quality_more", names=shown)
        value = L("quality_which", value=value, names=shown) if which else value
    return ("⚠ " if n else "✓ ") + L("quality_row", head=L(head), value=value)
