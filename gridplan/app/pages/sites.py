"""Step 4, sites: recommend K new centres or stations, or evaluate a candidate clicked on the map."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from gridplan.app.services import siting_note
from gridplan.app.sources import network
from gridplan.app.state import (
    L,
    base_map,
    choice,
    draw_map,
    lang,
    show_error,
    ss,
    table,
    take_click,
    timed_status,
)
from gridplan.errors import GridplanError
from gridplan.norms import WALK_MINUTES, WALK_SPEED_KMH

__all__ = ["page"]

#: Above this many households the sites map leaves the points out (the map stays fast).
MAP_HOUSEHOLDS_MAX = 50000


def page() -> None:
    """The sites step: the recommendation form, the map with a candidate, the results."""
    try:
        from gridplan.siting.api import site
    except ImportError:  # a SciPy without HiGHS (scipy.optimize.milp): the other steps still run
        st.info(L("siting_missing"))
        return
    net = network()
    fac = ss.layers.get("facilities")
    if net is None or fac is None:
        st.warning(L("no_network"))
        return
    c1, c2, c3 = st.columns(3)
    k = c1.number_input(L("n_sites"), 1, 50, 3, key="k_sites")
    with c2:
        kind = choice(st.selectbox, L("site_kind"), ("community_centre", "station"), "site_kind", "kind")
    # the coverage step's figures when it is on screen in this session, else the norms'
    minutes = float(ss.get("minutes", WALK_MINUTES))
    speed = float(ss.get("speed", WALK_SPEED_KMH))
    opts = dict(kind=kind, speed_kmh=speed, minutes=minutes if kind != "station" else None)
    hh = ss.plan.assignment.drop(columns=["unit_id"])
    if c3.button(L("recommend"), key="btn_recommend", type="primary"):
        with timed_status(L("progress_sites", k=int(k))):
            try:
                ss.sites = site(hh, fac, net, add=int(k), grids=ss.plan.grids, **opts)
                ss.sites_asked = int(k)
            except GridplanError as exc:
                show_error(exc)
    res = ss.get("sites")
    note = None if res is None else siting_note(res.report, int(ss.get("sites_asked", k)), lang())
    if note:
        st.info(note)
    _sites_map(hh, fac, res)
    st.caption(L("candidate"))
    if ss.get("candidate"):
        _candidate(site, hh, fac, net, opts)
    if res is not None:
        st.subheader(L("sites_table"))
        st.dataframe(table(res.sites), hide_index=True)


def _sites_map(hh, fac, res) -> None:
    """Centres, recommended sites and the candidate on the map; a click places the candidate."""
    fmap = base_map(
        facilities=fac,
        sites=None if res is None else res.sites,
        households=hh if len(hh) <= MAP_HOUSEHOLDS_MAX else None,
    )
    if ss.get("candidate"):
        import folium

        c = ss.candidate
        folium.CircleMarker(
            [c["lat"], c["lng"]], radius=9, color="#000", fill=True, fill_color="#ff00ff", fill_opacity=1
        ).add_to(fmap)
    click = take_click(draw_map(fmap, "map_sites"))
    if click:
        ss.candidate = {"lat": click["lat"], "lng": click["lng"]}
        st.rerun()


def _candidate(site, hh, fac, net, opts: dict) -> None:
    """The candidate's place and, on request, the coverage it would add."""
    c = ss.candidate
    st.write(L("candidate_at", lon=c["lng"], lat=c["lat"]))
    if not st.button(L("evaluate_candidate"), key="btn_candidate"):
        return
    cand = gpd.GeoDataFrame(
        {"candidate_id": ["C1"], "name": ["candidate"]},
        geometry=gpd.points_from_xy([c["lng"]], [c["lat"]]),
        crs=4326,
    )
    try:
        rep = site(hh, fac, net, add=1, candidates=cand, network_nodes=False, **opts).report
    except GridplanError as exc:
        show_error(exc)
        return
    st.success(
        L(
            "coverage_change",
            before=rep["share_before"],
            after=rep["share_after"],
            gained=int(rep["households_covered_after"] - rep["households_covered_before"]),
        )
    )
