"""Estates and units by their names, messages without raw ids, tables in words, and the grid
box in step with the panel after a language switch."""

from __future__ import annotations

import pandas as pd
import pytest

from gridplan.app.naming import names_of
from gridplan.app.state import table
from gridplan.i18n import t

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app.test_app import APP, _click, _english_words, _inside, _ok  # noqa: E402

RAW_UNIT = "420106001002/E:XQ015#2"


@pytest.fixture(scope="module")
def names():
    from gridplan.datasets.sample import load_sample

    return names_of(load_sample())


def test_units_and_messages_carry_names(names):
    est = names.estates
    assert est["XQ001"] == "锦绣花园"
    assert names.unit("420106001001/E:XQ001#2", "zh") == "锦绣花园（第2部分）"
    assert names.unit("420106001001/E:XQ001", "en") == "锦绣花园"
    assert names.unit("420106001001/E:NOPE#1", "zh") == "小区 NOPE（第1部分）"  # no name: the id
    msg = names.message(f"单元 {RAW_UNIT} 不与网格 X 相邻，无法移动", "zh")
    assert RAW_UNIT not in msg and est["XQ015"] + "（第2部分）" in msg, msg
    move = {"op": "move", "unit": "420106001001/E:XQ001#2", "from": "A-01", "to": "A-02"}
    assert names.edit(move, "zh") == "已将 锦绣花园（第2部分） 从网格 A-01 移到 A-02"
    assert "XQ001" not in names.edit(move, "en")
    # a building moved out of its estate part, by the building's name
    building = {
        "op": "move_building",
        "building": "B00002",
        "unit": "420106001001/E:XQ001#2",
        "from": "A-01",
        "to": "A-02",
    }
    assert names.edit(building, "zh") == f"已将 {names.buildings['B00002']} 从网格 A-01 移到 A-02"
    assert "B00002" not in names.edit(building, "en")


def test_tables_show_shares_as_percentages_and_codes_in_words():
    df = pd.DataFrame(
        {
            "share_covered": [0.3292, None],
            "cumulative_share_covered": [0.994219, 1.0],
            "source": ["network_node", "user"],
            "kind": ["community_centre", "station"],
            "level": ["community", "all"],
            "meets_area_norm": pd.array([False, None], dtype="boolean"),
            "m2_per_100_households": [14.96, 0.0],
            "centres": [1, 0],
            "cumulative_households_covered": [29923.0, 30097.0],
        }
    )
    zh = table(df, "zh")
    assert zh[t("col_share_covered", "zh")].tolist() == ["32.9%", "—"]
    assert zh[t("col_cumulative_share_covered", "zh")].tolist() == ["99.4%", "100.0%"]
    assert zh[t("col_source", "zh")].tolist() == ["路网节点", "候选地点"]
    assert zh[t("col_kind", "zh")].tolist() == ["社区党群服务中心", "党群服务站"]
    assert zh[t("col_level", "zh")].tolist() == ["社区", "全部"]
    assert zh[t("col_meets_area_norm", "zh")].tolist() == ["否", "—"]
    assert not [c for c in zh.columns if _english_words(c)], list(zh.columns)
    en = table(df, "en")
    assert en["Source"].tolist() == ["network node", "candidate"]


def test_the_grid_box_follows_the_panel_across_a_language_switch_and_names_estates(sample_dir):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    plan = at.session_state["plan"]
    gid = plan.grids["grid_id"].iloc[3]
    _click(at, *_inside(plan.grids.set_index("grid_id").geometry[gid]))
    assert at.selectbox(key="sel_grid_box").value == gid
    for code in ("en", "zh", "en"):
        at.sidebar.radio(key="lang").set_value(code).run()
        _ok(at)
        assert at.session_state["sel_grid"] == gid
        assert at.selectbox(key="sel_grid_box").value == gid, code
        assert at.subheader[0].value == t("selected_grid", code, grid=gid)
    at.sidebar.radio(key="lang").set_value("zh").run()
    # the panel names the grid's estates, the unit box its parts, by name
    names = names_of(at.session_state["layers"])
    estates = plan.grid_detail(gid)["estates"]
    shown = " ".join(m.value for m in at.markdown)
    assert estates and all(names.estate(e) in shown for e in estates), shown
    assert not any(f"小区 {e}" in shown for e in estates)
    options = at.selectbox(key="sel_unit_box").options
    assert options[1:] and not any("XQ" in o for o in options[1:]), options


def test_a_real_refusal_of_the_plan_names_the_estate(names):
    from gridplan.datasets.sample import load_sample
    from gridplan.errors import GridplanError
    from gridplan.plan.model import Plan
    from gridplan.workflows import plan_grids

    s = load_sample()
    plan = Plan.from_partition(
        plan_grids(s, n_jobs=1), s["households"], s["communities"], estates=s["estates"]
    )
    uid = next(u for u in plan.units["unit_id"] if "/E:" in u and "#" in u)
    here = plan.units.set_index("unit_id").at[uid, "grid_id"]
    with pytest.raises(GridplanError) as caught:
        plan.move_unit(uid, here)  # already there: refused, with the unit's id in the message
    for lang in ("zh", "en"):
        raw = caught.value.localized(lang)
        assert uid in raw
        shown = names.message(raw, lang, units=[uid])
        assert uid not in shown and names.unit(uid, lang) in shown and "/E:" not in shown, shown
