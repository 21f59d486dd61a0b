"""gridplan: the planner's web map (Streamlit).

Thin by design: every computation is a gridplan library call (partition, Plan edits, coverage,
siting, export); this file only lays out widgets, keeps the session's plan, and shows results.
Run with ``make app`` (``streamlit run app.py``). Chinese by default; English in the sidebar.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from gridplan.errors import GridplanError
from gridplan.i18n import columns as col_labels
from gridplan.i18n import edit_text, reason_text, t, unit_text, warning_text, yes_no
from gridplan.norms import (
    GRID_MAX_HOUSEHOLDS,
    GRID_MIN_HOUSEHOLDS,
    WALK_MINUTES,
    WALK_SPEED_KMH,
)

st.set_page_config(page_title="gridplan", page_icon=None, layout="wide")

STEPS = ("data", "grids", "coverage", "sites", "export")
KINDS = ("households", "communities", "buildings", "estates", "facilities", "barriers")
#: Contract fields offered in the column-mapping step, per layer.
FIELDS = {
    "households": ("households", "population", "building_id", "estate_id", "community_id", "lon",
                   "lat"),
    "communities": ("community_id", "name", "street_id", "street_name"),
    "buildings": ("building_id", "estate_id", "levels", "households", "name", "kind"),
    "estates": ("estate_id", "name", "community_id"),
    "facilities": ("facility_id", "name", "kind", "area_m2", "community_id", "lon", "lat"),
    "barriers": ("kind", "name"),
}
ss = st.session_state


# ----------------------------------------------------------------------------- cached library calls
@st.cache_resource(show_spinner=False)
def sample_layers() -> dict:
    from gridplan.datasets.sample import load_sample

    return load_sample()


@st.cache_resource(show_spinner=False)
def sample_network():
    from gridplan.network import load_network

    return load_network(sample_layers()["network"])


@st.cache_resource(show_spinner=False)
def sample_partition(lo: int, hi: int, micro: int):
    from gridplan.grids.api import partition

    s = sample_layers()
    return partition(s["households"], s["communities"], buildings=s["buildings"],
                     estates=s["estates"], barriers=s["barriers"], min_households=lo,
                     max_households=hi, micro_max=micro or None, n_jobs=1)


@st.cache_resource(show_spinner=False)
def sample_coverage(minutes: float, speed: float):
    from gridplan.access.coverage import coverage

    s = sample_layers()
    return coverage(s["households"], s["facilities"], sample_network(),
                    communities=s["communities"], minutes=minutes, speed_kmh=speed)


# ----------------------------------------------------------------------------- helpers
def L(key: str, **kw) -> str:
    return t(key, ss.get("lang", "zh"), **kw)


def show_error(exc: Exception) -> None:
    msg = exc.localized(ss.get("lang", "zh")) if isinstance(exc, GridplanError) else str(exc)
    st.error(msg)


def table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with translated headers and values (status, reason, yes/no), no geometry."""
    lang = ss.get("lang", "zh")
    df = pd.DataFrame(df).drop(columns=["geometry"], errors="ignore").copy()
    if "status" in df:
        df["status"] = df["status"].map(lambda s: L(f"status_{s}") if s in ("ok", "under", "over")
                                        else s)
    if "reason" in df:
        df["reason"] = df["reason"].map(lambda r: reason_text(r, lang)).astype(object)
    for col in df.columns:
        if pd.api.types.is_bool_dtype(df[col]):
            df[col] = df[col].map(lambda v: yes_no(v, lang)).astype(object)
    return df.rename(columns=col_labels(df.columns, lang))


def new_plan(result, layers: dict, lo: int, hi: int, micro: int = 0) -> None:
    from gridplan.plan.model import Plan

    ss.plan = Plan.from_partition(result, layers["households"], layers["communities"],
                                  buildings=layers.get("buildings"), estates=layers.get("estates"),
                                  barriers=layers.get("barriers"),
                                  facilities=layers.get("facilities"), min_households=lo,
                                  max_households=hi, micro_max=micro or None)
    ss.sel_grid = None
    ss.sel_unit = None
    ss.sites = None
    ss.candidate = None


@st.cache_resource(show_spinner=False)
def sample_validation() -> list:
    from gridplan.io.validate import validate_inputs

    s = sample_layers()
    return validate_inputs(**{k: s[k] for k in KINDS}).problems


def load_sample_into_session() -> None:
    ss.layers = dict(sample_layers())
    ss.validation = sample_validation()
    ss.network = None
    ss.dataset = "sample"
    ss.coverage_params = None
    new_plan(sample_partition(GRID_MIN_HOUSEHOLDS, GRID_MAX_HOUSEHOLDS, 0), ss.layers,
             GRID_MIN_HOUSEHOLDS, GRID_MAX_HOUSEHOLDS)


def network():
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

    return st_folium(fmap, key=key, height=560, use_container_width=True,
                     returned_objects=["last_clicked"])


def base_map(**layers):
    from gridplan.app.webmap import plan_map, tiles_url

    plan = ss.plan
    return plan_map(plan.grids, lang=ss.lang, tiles=tiles_url(ss.get("tiles")), **layers)


def choice(widget, label: str, options: tuple, key: str, prefix: str, **kw):
    """A radio/select box whose option labels follow the language.

    The widget key carries the language: Streamlit gives a widget a new identity when its
    option labels change, so one key per language keeps the choice shown; the value itself
    lives in ``ss[key]`` across languages.
    """
    lang = ss.lang
    current = ss.get(key, options[0])
    value = widget(label, options, index=options.index(current) if current in options else 0,
                   key=f"{key}__{lang}", format_func=lambda x, lang=lang: t(f"{prefix}_{x}", lang),
                   **kw)
    ss[key] = value
    return value


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
        ss.flash_error = exc.localized(ss.lang)
        return
    action = {"op": name} if name in ("undo", "redo") else (plan.edits[-1] if plan.edits else {})
    ss.flash = L("edit_done", what=edit_text(action, ss.lang))
    ss.flash_warnings = [L("edit_warning", what=warning_text(w, ss.lang))
                         for w in plan.last_warnings]
    keep = ss.sel_grid if ss.sel_grid in set(plan.grids["grid_id"]) else None
    select_grid(keep)


def on_grid_box() -> None:
    select_grid(ss.sel_grid_box)


def on_unit_box() -> None:
    ss.sel_unit = ss.sel_unit_box


# ----------------------------------------------------------------------------- session start
ss.setdefault("lang", "zh")
ss.setdefault("step", "grids")
ss.setdefault("sel_grid", None)
ss.setdefault("sel_unit", None)
if "plan" not in ss:
    with st.spinner("…"):
        load_sample_into_session()

with st.sidebar:
    st.radio(t("language", "zh"), ("zh", "en"), key="lang", horizontal=True,
             format_func=lambda x: {"zh": "中文", "en": "English"}[x])
    choice(st.radio, L("step"), STEPS, "step", "step")
    from gridplan.app.webmap import tiles_url as _tiles_default

    ss.setdefault("tiles", _tiles_default() or "none")
    st.text_input(L("tiles_url"), key="tiles")
    st.caption(L("dataset", name=L("dataset_sample") if ss.get("dataset") == "sample"
                 else L("dataset_upload")))

st.title(L("app_title"))
st.caption(L("app_caption"))
if ss.get("flash"):
    st.success(ss.pop("flash"))
if ss.get("flash_error"):
    st.error(ss.pop("flash_error"))
for _w in ss.pop("flash_warnings", None) or []:
    st.warning(_w)


# ----------------------------------------------------------------------------- 1 data
def page_data() -> None:
    from gridplan.app import uploads

    src = choice(st.radio, L("data_source"), ("sample", "upload"), "source", "source",
                 horizontal=True)
    if src == "sample":
        if st.button(L("load_sample"), key="btn_load_sample"):
            load_sample_into_session()
            st.rerun()
    else:
        st.caption(L("upload_help"))
        coords = choice(st.selectbox, L("coords"), ("wgs84", "gcj02", "bd09"), "coords", "coords")
        files = {}
        mapping: dict[str, dict] = {}
        for kind in KINDS:
            f = st.file_uploader(L(f"upload_kind_{kind}"), key=f"up_{kind}")
            if f is None:
                continue
            files[kind] = f
            with st.expander(L("column_mapping", kind=L(f"upload_kind_{kind}"))):
                with uploads.staging() as folder:
                    try:
                        cols = uploads.peek_columns(uploads.stage_upload(f.name, f.getvalue(), folder))
                    except GridplanError:
                        cols = []
                none = L("column_none")
                m = {}
                for fld in FIELDS[kind]:
                    options = [none] + cols
                    default = options.index(fld) if fld in cols else 0
                    picked = st.selectbox(L("column_for", field=fld), options, index=default,
                                          key=f"map_{kind}_{fld}")
                    if picked != none and picked != fld:
                        m[fld] = picked
                mapping[kind] = m
        net_file = st.file_uploader(L("upload_kind_network"), key="up_network")
        if st.button(L("read_validate"), key="btn_read"):
            read_uploads(files, mapping, coords, net_file)
    show_validation()
    layers = ss.get("layers") or {}
    st.subheader(L("loaded_layers"))
    st.dataframe(pd.DataFrame({L("rows"): {L(f"upload_kind_{k}"): len(v) for k, v in layers.items()
                                           if k in KINDS and v is not None}}))


def read_uploads(files: dict, mapping: dict, coords: str, net_file) -> None:
    """Read every uploaded layer; replace the session's data only when all of it is usable."""
    from gridplan.app import uploads
    from gridplan.io.validate import validate_inputs

    if "households" not in files or "communities" not in files:
        st.warning(L("need_required"))
        return
    frames, problems = {}, []
    try:
        for kind, f in files.items():
            gdf, probs = uploads.read_upload(kind, f.name, f.getvalue(), columns=mapping.get(kind),
                                             coords=coords)
            problems += probs
            frames[kind] = gdf
        net = uploads.read_network_upload(net_file.name, net_file.getvalue()) if net_file else None
    except GridplanError as exc:
        st.error(L("upload_failed", msg=exc.localized(ss.lang)))
        return
    if not any(p.severity == "error" for p in problems):
        res = validate_inputs(**{k: v for k, v in frames.items()})
        problems += res.problems
        frames.update({k: v for k, v in res.frames.items() if v is not None})
    ss.validation = problems
    if any(p.severity == "error" for p in problems):
        return
    try:
        from gridplan.grids.api import partition

        lo, hi = int(ss.get("lo", GRID_MIN_HOUSEHOLDS)), int(ss.get("hi", GRID_MAX_HOUSEHOLDS))
        result = partition(frames["households"], frames["communities"],
                           buildings=frames.get("buildings"), estates=frames.get("estates"),
                           barriers=frames.get("barriers"), min_households=lo, max_households=hi,
                           n_jobs=1)
    except GridplanError as exc:
        show_error(exc)
        return
    ss.layers = frames
    ss.network = net
    ss.dataset = "upload"
    ss.coverage_params = None
    new_plan(result, frames, lo, hi)


def show_validation() -> None:
    problems = ss.get("validation")
    if problems is None:
        return
    st.subheader(L("validation"))
    n_err = sum(p.severity == "error" for p in problems)
    if n_err:
        st.error(L("validation_failed", n=n_err))
    else:
        st.success(L("validation_ok", n=len(problems)))
    if problems:
        zh = ss.lang == "zh"
        rows = [{L("severity"): L(f"severity_{p.severity}"),
                 L("where"): " ".join(x for x in [p.file or "", p.column or "",
                                                   ", ".join(map(str, p.rows[:10]))] if x),
                 L("problem"): (p.message_zh or p.message) if zh else p.message,
                 L("fix"): (p.fix_zh or p.fix) if zh else p.fix} for p in problems]
        st.dataframe(pd.DataFrame(rows), hide_index=True)


# ----------------------------------------------------------------------------- 2 grids
def page_grids() -> None:
    plan = ss.plan
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
    lo = c1.number_input(L("min_households"), 1, 100000, plan.min_households, step=10, key="lo")
    hi = c2.number_input(L("max_households"), 1, 100000, plan.max_households, step=10, key="hi")
    micro = c3.number_input(L("micro_max"), 0, 10000, 0, step=10, key="micro")
    if c4.button(L("generate"), key="btn_generate", type="primary"):
        try:
            if ss.dataset == "sample":
                result = sample_partition(int(lo), int(hi), int(micro))
            else:
                from gridplan.grids.api import partition

                lay = ss.layers
                result = partition(lay["households"], lay["communities"],
                                   buildings=lay.get("buildings"), estates=lay.get("estates"),
                                   barriers=lay.get("barriers"), min_households=int(lo),
                                   max_households=int(hi), micro_max=int(micro) or None, n_jobs=1)
            new_plan(result, ss.layers, int(lo), int(hi), int(micro))
            plan = ss.plan
        except GridplanError as exc:
            show_error(exc)

    rep = plan.report
    m = st.columns(5)
    m[0].metric(L("metric_grids"), rep["grids"])
    m[1].metric(L("metric_households"), f"{rep['households_in_grids']:,}")
    m[2].metric(L("metric_ok"), rep["grids_ok"])
    m[3].metric(L("metric_under"), rep["grids_under"])
    m[4].metric(L("metric_over"), rep["grids_over"])

    u1, u2, _ = st.columns([1, 1, 6])
    u1.button(L("undo"), key="btn_undo", disabled=not plan.can_undo, on_click=on_edit,
              args=("undo",))
    u2.button(L("redo"), key="btn_redo", disabled=not plan.can_redo, on_click=on_edit,
              args=("redo",))

    left, right = st.columns([3, 2])
    with left:
        fmap = base_map(units=plan.units if ss.sel_grid else None, selected_grid=ss.sel_grid,
                        selected_unit=ss.sel_unit, micro_grids=plan.micro_grids)
        out = draw_map(fmap, "map_grids")
        st.caption(L("legend_grids"))
        if plan.micro_stale:
            st.caption(L("micro_stale", grids="、".join(plan.micro_stale) if ss.lang == "zh"
                         else ", ".join(plan.micro_stale)))
    click = take_click(out)
    if click:
        uid = plan.unit_at(click["lng"], click["lat"])
        if uid is not None:
            gid = plan.grid_at(click["lng"], click["lat"])
            select_grid(gid, uid if gid == ss.sel_grid else None)
            st.rerun()

    with right:
        ids = plan.grids["grid_id"].tolist()
        if ss.sel_grid not in ids:
            select_grid(None)
        st.selectbox(L("select_grid"), [None] + ids, key="sel_grid_box", on_change=on_grid_box,
                     format_func=lambda g: "—" if g is None else g, placeholder="—")
        if ss.sel_grid:
            grid_panel(plan, ss.sel_grid)
    st.subheader(L("grid_table"))
    st.dataframe(table(plan.grids), hide_index=True)
    if plan.edits:
        with st.expander(L("history")):
            st.markdown("\n".join(f"{i}. {edit_text(a, ss.lang)}"
                                   for i, a in enumerate(plan.edits, 1)))


def grid_panel(plan, gid: str) -> None:
    d = plan.grid_detail(gid)
    g = d["grid"]
    st.subheader(L("selected_grid", grid=gid))
    facts = {k: g.get(k) for k in ("community_name", "households", "population", "n_buildings",
                                   "n_estates", "status", "reason", "compactness", "area_m2",
                                   "locked", "barrier_crossing")}
    frame = pd.DataFrame([facts])
    for k in ("locked", "barrier_crossing"):
        frame[k] = frame[k].astype("boolean")
    row = table(frame).iloc[0]
    # a plain HTML table (not a canvas grid): readable by screen readers and browser tests
    st.table(pd.DataFrame({gid: ["—" if pd.isna(v) else str(v) for v in row]}, index=row.index))
    st.write(f"**{L('grid_estates')}**: " + (", ".join(map(str, d["estates"])) or "—"))
    st.write(f"**{L('grid_buildings')}**: {len(d['buildings'])}")
    st.write(f"**{L('grid_neighbours')}**: " + (", ".join(d["neighbours"]) or "—"))
    if gid in plan.locked:
        st.info(L("locked_note"))
        st.button(L("unlock"), key="btn_unlock", on_click=on_edit, args=("unlock", gid))
        return
    st.markdown(f"**{L('edit')}**")
    units = d["units"]["unit_id"].tolist()
    if ss.sel_unit not in units:
        ss.sel_unit = None
        ss.sel_unit_box = None
    lang = ss.lang
    uid = st.selectbox(L("select_unit"), [None] + units, key="sel_unit_box", on_change=on_unit_box,
                       format_func=lambda u: "—" if u is None else unit_text(u, lang),
                       placeholder="—")
    if uid is not None:
        targets = plan.unit_neighbour_grids(uid)
        if targets:
            to = st.selectbox(L("move_to"), targets, key="move_to")
            st.button(L("move"), key="btn_move", on_click=on_edit, args=("move_unit", uid, to))
        else:
            st.caption(L("no_targets"))
    b1, b2 = st.columns(2)
    b1.button(L("split"), key="btn_split", on_click=on_edit, args=("split_grid", gid))
    b2.button(L("lock"), key="btn_lock", on_click=on_edit, args=("lock", gid))
    if d["neighbours"]:
        other = st.selectbox(L("merge_with"), d["neighbours"], key="merge_with")
        st.button(L("merge"), key="btn_merge", on_click=on_edit, args=("merge_grids", gid, other))
    st.button(L("rebalance"), key="btn_rebalance", on_click=on_edit,
              args=("rebalance", str(g["community_id"])))


# ----------------------------------------------------------------------------- 3 coverage
def page_coverage() -> None:
    plan = ss.plan
    c1, c2, c3 = st.columns(3)
    speed = c1.number_input(L("speed"), 1.0, 10.0, float(WALK_SPEED_KMH), step=0.5, key="speed")
    minutes = c2.number_input(L("minutes"), 1.0, 60.0, float(WALK_MINUTES), step=1.0, key="minutes")
    lay = ss.layers
    if c3.button(L("compute_coverage"), key="btn_coverage", type="primary"):
        compute_coverage(float(minutes), float(speed))
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
    fmap = base_map(households=hh, isochrones=cov.isochrones, gaps=cov.gaps,
                    facilities=lay.get("facilities"))
    out = draw_map(fmap, "map_coverage")
    take_click(out)
    st.caption(L("legend_walk"))
    a, b = st.columns(2)
    with a:
        st.subheader(L("by_community"))
        st.dataframe(table(cov.summary[cov.summary["level"] == "community"]), hide_index=True)
    with b:
        st.subheader(L("by_grid"))
        st.dataframe(table(plan.coverage_by_grid()), hide_index=True)
    st.subheader(L("standards"))
    st.dataframe(table(cov.standards), hide_index=True)
    st.subheader(L("gaps"))
    st.dataframe(table(cov.gaps), hide_index=True)


def compute_coverage(minutes: float, speed: float) -> None:
    plan = ss.plan
    try:
        if ss.dataset == "sample":
            plan.attach_coverage(sample_coverage(minutes, speed))
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


# ----------------------------------------------------------------------------- 4 sites
def page_sites() -> None:
    plan = ss.plan
    try:
        from gridplan.siting.api import site
    except ImportError:
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
        kind = choice(st.selectbox, L("site_kind"), ("community_centre", "station"), "site_kind",
                      "kind")
    minutes = float(ss.get("minutes", WALK_MINUTES))
    speed = float(ss.get("speed", WALK_SPEED_KMH))
    hh = plan.assignment.drop(columns=["unit_id"])
    if c3.button(L("recommend"), key="btn_recommend", type="primary"):
        try:
            res = site(hh, fac, net, add=int(k), kind=kind, speed_kmh=speed,
                       minutes=minutes if kind != "station" else None, grids=plan.grids)
            ss.sites = res
        except GridplanError as exc:
            show_error(exc)
    res = ss.get("sites")
    fmap = base_map(facilities=fac, sites=None if res is None else res.sites,
                    households=hh if len(hh) <= 50000 else None)
    if ss.get("candidate"):
        import folium

        c = ss.candidate
        folium.CircleMarker([c["lat"], c["lng"]], radius=9, color="#000", fill=True,
                            fill_color="#ff00ff", fill_opacity=1).add_to(fmap)
    out = draw_map(fmap, "map_sites")
    click = take_click(out)
    if click:
        ss.candidate = {"lat": click["lat"], "lng": click["lng"]}
        st.rerun()
    st.caption(L("candidate"))
    if ss.get("candidate"):
        c = ss.candidate
        st.write(L("candidate_at", lon=c["lng"], lat=c["lat"]))
        if st.button(L("evaluate_candidate"), key="btn_candidate"):
            cand = gpd.GeoDataFrame({"candidate_id": ["C1"], "name": ["candidate"]},
                                    geometry=gpd.points_from_xy([c["lng"]], [c["lat"]]), crs=4326)
            try:
                r = site(hh, fac, net, add=1, kind=kind, candidates=cand, network_nodes=False,
                         speed_kmh=speed, minutes=minutes if kind != "station" else None)
                rep = r.report
                st.success(L("coverage_change", before=rep["share_before"], after=rep["share_after"],
                             gained=int(rep["households_covered_after"]
                                        - rep["households_covered_before"])))
            except GridplanError as exc:
                show_error(exc)
    if res is not None:
        st.subheader(L("sites_table"))
        st.dataframe(table(res.sites), hide_index=True)


# ----------------------------------------------------------------------------- 5 export
#: Export key -> the file it makes.
EXPORTS = {"export_grids_geojson": "grids.geojson", "export_grids_gpkg": "grids.gpkg",
           "export_households": "households.csv", "export_excel": "report.xlsx",
           "export_csv": "grids.csv", "save_plan": "plan.gpkg"}


def build_export(key: str) -> tuple[str, bytes, str]:
    """One export file of the current plan: (file name, bytes, MIME type)."""
    from gridplan import io as gio
    from gridplan.app import uploads
    from gridplan.report.export import export

    plan = ss.plan
    lay = ss.layers
    sites = ss.get("sites")
    hh = plan.assignment.drop(columns=["unit_id"])
    with uploads.staging() as folder:
        if key == "export_grids_geojson":
            path = export(plan.grids, geojson=folder / "grids.geojson",
                          communities=plan.communities)["geojson"]
            return "grids.geojson", Path(path).read_bytes(), "application/geo+json"
        if key == "export_grids_gpkg":
            path = export(plan.grids, gpkg=folder / "grids.gpkg", communities=plan.communities,
                          micro_grids=plan.micro_grids, households=hh,
                          facilities=lay.get("facilities"),
                          isochrones=None if plan.coverage is None else plan.coverage.isochrones,
                          sites=None if sites is None else sites.sites,
                          coverage=plan.coverage)["gpkg"]
            return "grids.gpkg", Path(path).read_bytes(), "application/geopackage+sqlite3"
        if key == "export_households":
            gio.write(hh, folder / "households.csv")
            return "households.csv", (folder / "households.csv").read_bytes(), "text/csv"
        if key == "export_excel":
            path = export(plan.grids, xlsx=folder / "report.xlsx", communities=plan.communities,
                          micro_grids=plan.micro_grids, households=hh,
                          facilities=lay.get("facilities"),
                          sites=None if sites is None else sites.sites,
                          coverage=plan.coverage)["xlsx"]
            return ("report.xlsx", Path(path).read_bytes(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        if key == "export_csv":
            buf = io.StringIO()
            table(plan.grids).to_csv(buf, index=False)
            return "grids.csv", buf.getvalue().encode("utf-8-sig"), "text/csv"
        plan.save(folder / "plan.gpkg")
        return "plan.gpkg", (folder / "plan.gpkg").read_bytes(), "application/geopackage+sqlite3"


def export_cache() -> dict:
    """Built export files, valid while the plan (its version), coverage and sites stay the same.

    Files are built on demand (a button each): building all of them on every visit of the page
    took seconds, and an edit makes them stale anyway.
    """
    plan = ss.plan
    deps = (plan.version, plan.coverage, ss.get("sites"))
    cache = ss.get("_exports")
    old = None if cache is None else cache["deps"]
    if old is None or old[0] != deps[0] or any(a is not b for a, b in zip(old[1:], deps[1:])):
        cache = ss["_exports"] = {"deps": deps, "files": {}}
    return cache["files"]


def on_build_export(key: str, lang: str) -> None:
    try:
        export_cache()[(key, lang if key == "export_csv" else None)] = build_export(key)
    except GridplanError as exc:
        ss.flash_error = exc.localized(ss.lang)


def page_export() -> None:
    from gridplan.app import uploads

    files = export_cache()
    st.caption(L("export_ready"))
    for key in EXPORTS:
        built = files.get((key, ss.lang if key == "export_csv" else None))
        a, b = st.columns([2, 3])
        a.button(L("export_prepare", what=EXPORTS[key]), key=f"btn_prepare_{key}",
                 on_click=on_build_export, args=(key, ss.lang))
        if built is not None:
            name, data, mime = built
            b.download_button(L(key), data, file_name=name, mime=mime,
                              key="dl_csv" if key == "export_csv"
                              else "dl_plan" if key == "save_plan" else f"dl_{key}")
    up = st.file_uploader(L("open_plan"), type=["gpkg"], key="up_plan")
    if up is not None and ss.get("_opened") != (up.name, up.size):
        from gridplan.plan.model import Plan

        try:
            with uploads.staging() as folder:
                path = uploads.stage_upload(up.name, up.getvalue(), folder, suffixes=(".gpkg",))
                opened = Plan.load(path)
        except GridplanError as exc:
            show_error(exc)
            return
        ss._opened = (up.name, up.size)
        ss.plan = opened
        ss.layers = {"households": opened.households, "communities": opened.communities,
                     **opened.context}
        ss.dataset = "upload"
        ss.network = None
        ss.sel_grid = ss.sel_unit = None
        st.success(L("plan_opened", n=len(opened.grids)))


t0 = time.perf_counter()
{"data": page_data, "grids": page_grids, "coverage": page_coverage, "sites": page_sites,
 "export": page_export}[ss.step]()
ss.last_render_s = time.perf_counter() - t0
