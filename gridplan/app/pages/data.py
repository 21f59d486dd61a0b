"""Step 1, data: the bundled sample or the planner's own files, their columns and the data check."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.app import services
from gridplan.app.hints import app_wording
from gridplan.app.sources import load_sample_into_session
from gridplan.app.state import KINDS, L, choice, field_label, lang, new_plan, show_error, ss
from gridplan.errors import GridplanError
from gridplan.io.schema import mappable_fields
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS

__all__ = ["page"]

COORDS = ("wgs84", "gcj02", "bd09")


def page() -> None:
    """The data step: choose the source, read and check it, show the check and the layers."""
    src = choice(st.radio, L("data_source"), ("sample", "upload"), "source", "source", horizontal=True)
    if src == "sample":
        if st.button(L("load_sample"), key="btn_load_sample"):
            load_sample_into_session()
            st.rerun()
    else:
        _upload_form()
    _show_validation()
    layers = ss.get("layers") or {}
    st.subheader(L("loaded_layers"))
    st.dataframe(
        pd.DataFrame(
            {
                L("rows"): {
                    L(f"upload_kind_{k}"): len(v) for k, v in layers.items() if k in KINDS and v is not None
                }
            }
        )
    )


def _upload_form() -> None:
    st.caption(L("upload_help"))
    coords = choice(st.selectbox, L("coords"), COORDS, "coords", "coords")
    files, mapping = {}, {}
    for kind in KINDS:
        f = st.file_uploader(L(f"upload_kind_{kind}"), key=f"up_{kind}")
        if f is not None:
            files[kind] = f
            mapping[kind] = _column_mapping(kind, f)
    net_file = st.file_uploader(L("upload_kind_network"), key="up_network")
    if st.button(L("read_validate"), key="btn_read"):
        _read_uploads(files, mapping, coords, net_file)


def _column_mapping(kind: str, upload) -> dict[str, str]:
    """The contract fields of ``kind`` (:func:`gridplan.io.schema.mappable_fields`), each with
    the file column chosen for it; a field whose own column is in the file is preselected."""
    with st.expander(L("column_mapping", kind=L(f"upload_kind_{kind}"))):
        cols = services.upload_columns(upload.name, upload.getvalue())
        none = L("column_none")
        mapping = {}
        for fld in mappable_fields(kind):
            options = [none] + cols
            default = options.index(fld) if fld in cols else 0
            picked = st.selectbox(
                L("column_for", field=field_label(fld)), options, index=default, key=f"map_{kind}_{fld}"
            )
            if picked != none and picked != fld:
                mapping[fld] = picked
    return mapping


def _read_uploads(files: dict, mapping: dict, coords: str, net_file) -> None:
    """Read every uploaded layer; replace the session's data only when all of it is usable."""
    if "households" not in files or "communities" not in files:
        st.warning(L("need_required"))
        return
    lo, hi = int(ss.get("lo", GRID_MIN_HOUSEHOLDS)), int(ss.get("hi", GRID_MAX_HOUSEHOLDS))
    try:
        out = services.load_uploads(
            {kind: (f.name, f.getvalue()) for kind, f in files.items()},
            columns=mapping,
            coords=coords,
            network=None if net_file is None else (net_file.name, net_file.getvalue()),
            min_households=lo,
            max_households=hi,
        )
    except GridplanError as exc:
        st.error(L("upload_failed", msg=app_wording(exc.localized(lang()), lang())))
        return
    ss.validation = out.problems
    if out.refusal is not None:
        show_error(out.refusal)
    if not out.usable:
        return
    ss.layers = out.layers
    ss.network = out.network
    ss.dataset = "upload"
    ss.coverage_params = None
    new_plan(out.result, out.layers, lo, hi)


def _show_validation() -> None:
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
        code = lang()
        zh = code == "zh"
        rows = [
            {
                L("severity"): L(f"severity_{p.severity}"),
                L("where"): _where(p),
                L("problem"): app_wording((p.message_zh or p.message) if zh else p.message, code),
                L("fix"): app_wording((p.fix_zh or p.fix) if zh else p.fix, code),
            }
            for p in problems
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def _where(problem) -> str:
    """File, column and first rows of a problem; a layer and a contract field in words."""
    file = L(f"upload_kind_{problem.file}") if problem.file in KINDS else problem.file
    column = field_label(problem.column) if problem.column else ""
    return " ".join(x for x in [file or "", column, ", ".join(map(str, problem.shown_rows[:10]))] if x)
