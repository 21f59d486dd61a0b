"""Step 3, coverage: the 15-minute walking coverage of the service centres, by community and
by grid, with the floor-area and staffing norms and the uncovered clusters."""

from __future__ import annotations

import streamlit as st

from gridplan.app.services import plan_standards
from gridplan.app.sources import network, sample_coverage
from gridplan.app.state import L, base_map, draw_map, show_error, ss, table, take_click, timed_status
from gridplan.errors import GridplanError
from gridplan.norms import WALK_MINUTES, WALK_SPEED_KMH

__all__ = ["page"]


def page() -> None:
    """The coverage step: walking speed and minutes, then the coverage map and tables."""
    plan = ss.plan
    c1, c2, c3 = st.columns(3)
    speed = c1.number_input(L("speed"), 1.0, 10.0, float(WALK_SPEED_KMH), step=0.5, key="speed")
    minutes = c2.number_input(L("minutes"), 1.0, 60.0, float(WALK_MINUTES), step=1.0, key="minutes")
    if c3.button(L("compute_coverage"), key="btn_coverage", type="primary"):
        fac = ss.layers.get("facilities")
        label = L(
            "progress_coverage", households=len(plan.assignment), facilities=0 if fac is None else len(fac)
        )
        with timed_status(label):
            _compute(float(minutes), float(speed))
    cov = plan.coverage
    if cov is None:
        st.info(L("no_coverage"))
        return
    hh = cov.households.copy()
    hh["grid_id"] = plan.assignment["grid_id"].to_numpy()
    allrow = cov.summary[cov.summary["level"] == "all"].iloc[0]
    m = st.columns(3)
    m[0].metric(L("share_covered"), f"{allrow['share_covered']:.1%}")
    m[1].metric(L("households_covered"), f"{int(allrow['households_covered']):,}")
    m[2].metric(L("uncovered"), f"{int(allrow['households'] - allrow['households_covered']):,}")
    fmap = base_map(
        households=hh, isochrones=cov.isochrones, gaps=cov.gaps, facilities=ss.layers.get("facilities")
    )
    take_click(draw_map(fmap, "map_coverage"))
    st.caption(L("legend_walk"))
    a, b = st.columns(2)
    with a:
        st.subheader(L("by_community"))
        st.dataframe(table(cov.summary[cov.summary["level"] == "community"]), hide_index=True)
    with b:
        st.subheader(L("by_grid"))
        st.dataframe(table(plan.coverage_by_grid()), hide_index=True)
    st.subheader(L("standards"))
    st.dataframe(table(plan_standards(plan)), hide_index=True)
    st.subheader(L("gaps"))
    st.dataframe(table(cov.gaps), hide_index=True)


def _compute(minutes: float, speed: float) -> None:
    """Attach the coverage to the plan: the sample's from the cache, else computed on the
    session's network; a refusal is shown, the plan keeps its previous coverage."""
    plan = ss.plan
    try:
        if ss.dataset == "sample":
            band = (plan.min_households, plan.max_households, plan.micro_max or 0)
            plan.attach_coverage(sample_coverage(minutes, speed, *band))
        else:
            net = network()
            fac = ss.layers.get("facilities")
            if net is None or fac is None:
                st.warning(L("no_network"))
                return
            plan.compute_coverage(fac, net, minutes=minutes, speed_kmh=speed)
        ss.coverage_params = (minutes, speed)
    except GridplanError as exc:
        show_error(exc)
