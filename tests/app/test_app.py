"""The Streamlit app driven with streamlit.testing.v1.AppTest: every step, both languages.

The map component cannot run without a browser; a click is given to the app the way the map
gives it, through session state (``map_click`` = ``{"lat", "lng"}``). The browser test
(test_app_e2e.py) clicks the real map.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely

from gridplan.app.labels import APP_LABELS
from gridplan.errors import GridplanError
from gridplan.i18n import LABELS, LANGS, t

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
ID_TOKEN = re.compile(r"[A-Za-z0-9_:#/@.,-]*\d[A-Za-z0-9_:#/@.,-]*")


def _english_words(text: str) -> list[str]:
    """ASCII words left in ``text`` after removing ids and numbers (tokens with a digit)."""
    return ASCII_WORD.findall(ID_TOKEN.sub(" ", str(text)))


@pytest.fixture()
def app(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _click(at, lon, lat):
    at.session_state["map_click"] = {"lat": lat, "lng": lon}
    at.run()
    _ok(at)


def _do(at, key):
    """Click an edit button, and 仍然执行 when the edit would leave a grid outside the band."""
    at.button(key=key).click().run()
    if "btn_edit_anyway" in [b.key for b in at.button]:
        at.button(key="btn_edit_anyway").click().run()


def _goto(at, step):
    at.sidebar.radio(key=f"step__{at.session_state['lang']}").set_value(step).run()


def _inside(geom):
    p = shapely.point_on_surface(geom)
    return p.x, p.y


def test_labels_complete_in_both_languages():
    for key, entry in LABELS.items():
        assert set(entry) >= set(LANGS), key
        assert entry["zh"] and entry["en"], key
        assert not CJK.search(entry["en"]) or key == "language", (key, entry["en"])
    used = set()
    sources = [ROOT / "app.py", *sorted((ROOT / "gridplan" / "app").rglob("*.py"))]
    assert len(sources) > 5, sources
    for src in sources:
        text = src.read_text("utf-8")
        used |= set(re.findall(r'\b(?:L|t)\(\s*"([a-z0-9_]+)"', text))
    assert used, "no labels found"
    assert sorted(used - set(LABELS) - set(APP_LABELS)) == []
    assert not set(APP_LABELS) & set(LABELS), "a label lives in one place"
    assert t("selected_grid", "en", grid="X-01") == "Grid X-01"


def test_opens_on_the_sample_with_grids(app):
    labels = [m.label for m in app.metric]
    assert labels[0] == "网格数"
    plan = app.session_state["plan"]
    assert int(app.metric[0].value) == len(plan.grids) > 0
    assert app.metric[1].value == f"{int(plan.grids['households'].sum()):,}"
    assert app.session_state["step"] == "grids"
    assert len(app.dataframe) >= 1


def test_click_grid_then_unit_then_move_and_undo(app):
    plan = app.session_state["plan"]
    # pick a grid with a movable unit: a unit that touches another grid and whose move is allowed
    units = plan.units
    gid = uid = target = None
    for g in plan.grids["grid_id"]:
        for u in units.loc[units["grid_id"] == g, "unit_id"]:
            for to in plan.unit_neighbour_grids(u):
                try:
                    plan.move_unit(u, to)
                except GridplanError:
                    continue
                plan.undo()
                gid, uid, target = g, u, to
                break
            if gid:
                break
        if gid:
            break
    assert gid is not None
    grid_geom = plan.grids.set_index("grid_id").geometry[gid]
    _click(app, *_inside(grid_geom))
    assert app.session_state["sel_grid"] == gid
    assert app.selectbox(key="sel_grid_box").value == gid
    unit_geom = plan.units.set_index("unit_id").geometry[uid]
    _click(app, *_inside(unit_geom))
    assert app.session_state["sel_unit"] == uid
    before = plan.grids.set_index("grid_id")["households"]
    moved = int(plan.units.set_index("unit_id").at[uid, "households"])
    app.selectbox(key="move_to").set_value(target).run()
    _do(app, "btn_move")
    _ok(app)
    after = app.session_state["plan"].grids.set_index("grid_id")["households"]
    assert after[gid] == before[gid] - moved
    assert after[target] == before[target] + moved
    assert app.success and app.success[0].value.startswith("已将")
    assert _english_words(app.success[0].value) == [], app.success[0].value
    assert app.session_state["plan"].check() == []
    # the table beside the map shows the new figure at once
    shown = app.dataframe[-1].value
    row = shown[shown[t("col_grid_id", "zh")] == gid]
    assert int(row[t("col_households", "zh")].iloc[0]) == after[gid]
    app.button(key="btn_undo").click().run()
    _ok(app)
    assert app.session_state["plan"].grids.set_index("grid_id")["households"].equals(before)
    app.button(key="btn_redo").click().run()
    assert app.session_state["plan"].grids.set_index("grid_id")["households"].equals(after)


def test_split_merge_lock_and_refusals(app):
    plan = app.session_state["plan"]
    n_units = plan.units["grid_id"].value_counts()
    gid = n_units[n_units >= 4].index.sort_values()[0]
    n = len(plan.grids)
    app.selectbox(key="sel_grid_box").set_value(gid).run()
    _do(app, "btn_split")
    _ok(app)
    assert len(app.session_state["plan"].grids) == n + 1
    assert int(app.metric[0].value) == n + 1
    other = app.selectbox(key="merge_with").value
    _do(app, "btn_merge")
    _ok(app)
    assert len(app.session_state["plan"].grids) == n
    kept = min(gid, other)  # the smaller code survives a merge, and stays selected
    assert app.session_state["sel_grid"] == kept
    app.button(key="btn_lock").click().run()
    assert kept in app.session_state["plan"].locked
    assert "btn_split" not in [b.key for b in app.button]
    assert [b.key for b in app.button if b.key == "btn_unlock"] == ["btn_unlock"]
    app.button(key="btn_unlock").click().run()
    assert kept not in app.session_state["plan"].locked
    # a move the plan would refuse is not offered at all
    plan = app.session_state["plan"]
    history = list(plan.history)
    refused = None
    for g in plan.grids["grid_id"]:
        for u in plan.units.loc[plan.units["grid_id"] == g, "unit_id"]:
            for to in plan.unit_neighbour_grids(u):
                try:
                    plan.move_unit(u, to)
                    plan.undo()
                except GridplanError:
                    refused = (g, u, to)
                    break
            if refused:
                break
        if refused:
            break
    assert refused, "the sample should have a unit whose move would cut its grid"
    plan._redo.clear()
    g, u, to = refused
    app.selectbox(key="sel_grid_box").set_value(g).run()
    app.selectbox(key="sel_unit_box").set_value(u).run()
    _ok(app)
    offered = [s.options for s in app.selectbox if s.key == "move_to"]
    assert offered == [] or to not in offered[0]
    assert app.session_state["plan"].history == history
    assert other  # merge offered a neighbour


def test_english_switch_changes_every_label(app):
    app.sidebar.radio(key="lang").set_value("en").run()
    _ok(app)
    for step in ("grids", "data", "coverage", "sites", "export"):
        _goto(app, step)
        _ok(app)
        if step == "coverage":
            app.button(key="btn_coverage").click().run()
            _ok(app)
        texts = [app.title[0].value] + [c.value for c in app.caption]
        texts += [h.value for h in app.subheader] + [m.value for m in app.markdown]
        texts += [m.label for m in app.metric] + [b.label for b in app.button]
        texts += [s.label for s in app.selectbox] + [n.label for n in app.number_input]
        texts += [x.label for x in app.text_input] + [e.value for e in app.info]
        texts += [r.label for r in app.radio if r.key != "lang"]
        texts += [o for r in app.radio if r.key != "lang" for o in r.options]
        texts += [o for b in app.selectbox if b.key.endswith("__en") for o in b.options]
        assert app.sidebar.radio(key="step__en").value == step
        texts += [d.label for d in app.get("download_button")]
        for df in app.dataframe:
            texts += [str(c) for c in df.value.columns]
        bad = [x for x in texts if CJK.search(str(x))]
        # data values (community and centre names) may be Chinese; labels must not be
        assert bad == [], (step, bad)


def test_coverage_and_sites_steps(app):
    _goto(app, "coverage")
    assert app.info and app.info[0].value == t("no_coverage", "zh")
    app.button(key="btn_coverage").click().run()
    _ok(app)
    plan = app.session_state["plan"]
    cov = plan.coverage
    share = cov.summary.loc[cov.summary["level"] == "all", "share_covered"].iloc[0]
    assert app.metric[0].value == f"{share:.1%}"
    by_grid = plan.coverage_by_grid()
    assert by_grid["households"].sum() == plan.grids["households"].sum()
    assert by_grid["households_covered"].sum() == int(
        cov.households.loc[cov.households["covered"].fillna(False).astype(bool), "households"].sum()
    )
    _goto(app, "sites")
    _ok(app)
    app.number_input(key="k_sites").set_value(2).run()
    app.button(key="btn_recommend").click().run()
    _ok(app)
    sites = app.session_state["sites"].sites
    assert len(sites) == 2 and list(sites["rank"]) == [1, 2]
    gaps = cov.gaps
    x, y = _inside(gaps.geometry.iloc[0]) if len(gaps) else _inside(plan.grids.geometry.iloc[0])
    _click(app, x, y)
    assert app.session_state["candidate"] == {"lat": y, "lng": x}
    app.button(key="btn_candidate").click().run()
    _ok(app)
    assert app.success and "→" in app.success[0].value


def test_export_page_builds_each_file_on_demand(app):
    import json

    _goto(app, "export")
    _ok(app)
    # showing the page builds nothing (no file in the export cache)
    assert app.get("download_button") == []
    assert not (app.session_state["_exports"] if "_exports" in app.session_state else {}).get("files")
    wanted = {
        "export_grids_geojson": "dl_export_grids_geojson",
        "export_grids_gpkg": "dl_export_grids_gpkg",
        "export_households": "dl_export_households",
        "export_excel": "dl_export_excel",
        "export_csv": "dl_csv",
        "save_plan": "dl_plan",
    }
    for key in wanted:
        app.button(key=f"btn_prepare_{key}").click().run()
        _ok(app)
    assert {d.key for d in app.get("download_button")} == set(wanted.values())
    # the built GeoJSON is the current plan's grids
    files = app.session_state["_exports"]["files"]
    name, data, _ = files[("export_grids_geojson", None)]
    assert name == "grids.geojson"
    ids = sorted(f["properties"]["grid_id"] for f in json.loads(data)["features"])
    assert ids == sorted(app.session_state["plan"].grids["grid_id"])
    # shown again: served from the cache, the very same bytes objects (nothing rebuilt)
    before = {k: id(v[1]) for k, v in files.items()}
    app.run()
    _ok(app)
    assert len(app.get("download_button")) == len(wanted)
    assert {k: id(v[1]) for k, v in app.session_state["_exports"]["files"].items()} == before
    # an edit makes them stale: the page offers to build them again
    plan = app.session_state["plan"]
    plan.lock(plan.grids["grid_id"].iloc[0])
    app.run()
    _ok(app)
    assert app.get("download_button") == []


def test_chinese_grid_detail_and_edit_messages_have_no_english(app):
    plan = app.session_state["plan"]
    flagged = plan.grids[plan.grids["status"] != "ok"]["grid_id"].tolist()
    assert flagged, "the sample has grids out of the band (an oversized building, a small community)"
    for gid in flagged:
        app.selectbox(key="sel_grid_box").set_value(gid).run()
        _ok(app)
        detail = app.table[0].value
        texts = [str(v) for v in detail.index] + [str(v) for v in detail.iloc[:, 0]]
        texts += [m.value for m in app.markdown] + [s.label for s in app.selectbox]
        texts += [str(o) for s in app.selectbox if s.key == "sel_unit_box" for o in s.options]
        bad = [x for x in texts if _english_words(x)]
        assert bad == [], (gid, bad)
        reason = str(detail.loc[t("col_reason", "zh")].iloc[0])
        assert CJK.search(reason) and re.search(r"\d", reason), reason
        assert detail.loc[t("col_locked", "zh")].iloc[0] == "否"
    # the grid table too: reasons in Chinese, yes/no for flags
    shown = app.dataframe[-1].value
    for col in (t("col_reason", "zh"), t("col_locked", "zh"), t("col_barrier_crossing", "zh")):
        assert not [v for v in shown[col] if _english_words(str(v))], col
    # an edit that makes a grid straddle a barrier: allowed, confirmed and warned in Chinese
    found = None
    for g in plan.grids["grid_id"]:
        for u in plan.units.loc[plan.units["grid_id"] == g, "unit_id"]:
            for to in plan.unit_neighbour_grids(u):
                try:
                    plan.move_unit(u, to)
                except GridplanError:
                    continue
                warned = bool(plan.last_warnings)
                plan.undo()
                if warned:
                    found = (g, u, to)
                    break
            if found:
                break
        if found:
            break
    assert found, "the sample has a move across an arterial road or the river"
    plan._redo.clear()
    g, u, to = found
    app.selectbox(key="sel_grid_box").set_value(g).run()
    app.selectbox(key="sel_unit_box").set_value(u).run()
    app.selectbox(key="move_to").set_value(to).run()
    _do(app, "btn_move")
    _ok(app)
    assert app.session_state["plan"].grids.set_index("grid_id").at[to, "barrier_crossing"]
    assert app.success and app.warning
    for msg in (app.success[0].value, app.warning[0].value):
        assert CJK.search(msg) and _english_words(msg) == [], msg
    assert to in app.warning[0].value
    app.button(key="btn_undo").click().run()
    _ok(app)
    assert app.success[0].value == "已撤销上一步" and not app.warning


def test_data_step_shows_the_validation_report(app):
    _goto(app, "data")
    _ok(app)
    assert any(s.value.startswith("数据检查通过") for s in app.success)
    assert app.session_state["validation"] is not None
    app.button(key="btn_load_sample").click().run()
    _ok(app)
    assert app.session_state["dataset"] == "sample" and not app.session_state["plan"].history


@pytest.mark.slow  # whole-sample partitions in the app: in CI
def test_generate_with_other_bounds_and_micro_grids(app):
    app.number_input(key="lo").set_value(250)
    app.number_input(key="hi").set_value(450)
    app.number_input(key="micro").set_value(100)
    app.button(key="btn_generate").click().run()
    _ok(app)
    plan = app.session_state["plan"]
    assert (plan.min_households, plan.max_households) == (250, 450)
    g = plan.grids
    assert ((g["households"] >= 250) & (g["households"] <= 450)).mean() > 0.8
    assert plan.micro_grids is not None and len(plan.micro_grids) > len(g)
    assert int(app.metric[0].value) == len(g)
    assert plan.check() == []
    # an edit redraws the micro-grids of the grids it touched
    assert plan.micro_max == 100
    n_units = plan.units["grid_id"].value_counts()
    gid = n_units[n_units >= 4].index.sort_values()[0]
    app.selectbox(key="sel_grid_box").set_value(gid).run()
    _do(app, "btn_split")
    _ok(app)
    plan = app.session_state["plan"]
    micro = plan.micro_grids
    for g in plan.edits[-1]["grid"], plan.edits[-1]["new"]:
        m = micro[micro["grid_id"] == g]
        assert m["households"].sum() == plan.grids.set_index("grid_id").at[g, "households"]
    assert plan.micro_stale == []


def test_steps_are_pages_and_the_sidebar_survives_a_switch(app):
    # each step is a page of st.navigation: the radio switches pages (st.switch_page resets
    # every widget); the language, the basemap and the step shown stay as chosen
    app.sidebar.radio(key="lang").set_value("en").run()
    assert app.sidebar.selectbox(key="basemap__en").value == "none"  # the default works offline
    app.sidebar.selectbox(key="basemap__en").set_value("tianditu").run()
    app.sidebar.text_input(key="tianditu_key").set_value("k123").run()
    _ok(app)
    for step, key in (
        ("data", "btn_load_sample"),
        ("export", "btn_prepare_export_csv"),
        ("grids", "btn_generate"),
    ):
        _goto(app, step)
        _ok(app)
        assert app.session_state["step"] == step
        assert app.sidebar.radio(key="step__en").value == step
        assert app.session_state["lang"] == "en" and app.title[0].value == t("app_title", "en")
        assert app.sidebar.selectbox(key="basemap__en").value == "tianditu"
        assert app.sidebar.text_input(key="tianditu_key").value == "k123"
        assert key in [b.key for b in app.button], (step, [b.key for b in app.button])
    # back in Chinese, the step radio in Chinese shows the same step
    app.sidebar.radio(key="lang").set_value("zh").run()
    assert app.sidebar.radio(key="step__zh").value == "grids"
    assert app.title[0].value == t("app_title", "zh")


def test_upload_step_maps_columns_in_words_and_replaces_the_plan(app, sample_dir):
    from gridplan.io.schema import mappable_fields

    _goto(app, "data")
    app.radio(key="source__zh").set_value("upload").run()
    _ok(app)
    files = {
        "households": sample_dir / "households" / "households.geojson",
        "communities": sample_dir / "boundaries" / "communities.geojson",
    }
    for kind, path in files.items():
        app.file_uploader(key=f"up_{kind}").set_value(
            (path.name, path.read_bytes(), "application/geo+json")
        ).run()
        _ok(app)
    # the column step: one choice per contract field, each named in words, not by its key
    boxes = {b.key: b for b in app.selectbox if b.key.startswith("map_")}
    for kind in files:
        assert {f"map_{kind}_{f}" for f in mappable_fields(kind)} <= set(boxes), kind
    for box in boxes.values():
        assert CJK.search(box.label) and not _english_words(box.label.replace("对应的列", "")), box.label
    assert boxes["map_households_households"].value == "households"  # its own column, preselected
    before = app.session_state["plan"]
    app.button(key="btn_read").click().run()
    _ok(app)
    assert app.session_state["dataset"] == "upload"
    plan = app.session_state["plan"]
    assert plan is not before and len(plan.grids) > 0
    assert int(plan.grids["households"].sum()) == int(plan.households["households"].sum())
    assert any(s.value.startswith("数据检查通过") for s in app.success)
