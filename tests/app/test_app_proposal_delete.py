"""Deleting a proposal in the app: only a proposal that is not open, only once confirmed, and
the store (a real one in a temporary folder) no longer lists it, while the open one stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridplan.plan.store import PlanStore

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_a_proposal_is_deleted_only_when_confirmed_and_never_the_open_one(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDPLAN_DB", raising=False)
    monkeypatch.setenv("GRIDPLAN_DATA", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    at.sidebar.radio(key=f"step__{at.session_state['lang']}").set_value("proposals").run()
    # two proposals saved under new names; the session goes on editing the second
    for name in ("甲方案", "乙方案"):
        at.text_input(key="save_as_name").input(name)
        [b for b in at.button if b.label == "另存为新方案"][0].click().run()
        _ok(at)
    assert at.session_state["proposal"] == "乙方案"
    store = PlanStore(tmp_path)
    assert {"甲方案", "乙方案"} <= set(store.list()["name"])
    # the open proposal is not offered; without the tick the button does nothing
    offered = at.selectbox(key="delete_name").options
    assert "乙方案" not in offered and "甲方案" in offered
    at.selectbox(key="delete_name").set_value("甲方案").run()
    button = at.button(key="btn_delete_proposal")
    assert button.disabled
    at.checkbox(key="delete_sure_甲方案").check().run()
    at.button(key="btn_delete_proposal").click().run()
    _ok(at)
    assert any("已删除方案“甲方案”" in s.value for s in at.success)
    names = set(PlanStore(tmp_path).list()["name"])
    assert "甲方案" not in names and "乙方案" in names
    # the page already lists it no more (the deletion ran before the page was drawn)
    assert "甲方案" not in at.dataframe[0].value.iloc[:, 0].tolist()
    assert "乙方案" in at.dataframe[0].value.iloc[:, 0].tolist()
