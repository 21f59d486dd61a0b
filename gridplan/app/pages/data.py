"""Step 1, data: the bundled sample or the planner's own files, their columns and the data check."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.app import services
from gridplan.app.hints import app_wording, fix_text
from gridplan.app.sources import load_sample_into_session, network
from gridplan.app.state import KINDS, L, choice, field_label, lang, new_plan, ss, start_proposal, timed_status
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
            ss.data_error = None
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
    """One uploader per layer, each with its datum and column mapping.

    Uploaded files, datums and column choices are kept in the session (``uploads``, and plain
    keys next to the widgets'), not only in the widgets: Streamlit clears a page's widgets when
    the planner goes to another step, and the files must still be there on coming back.
    """
    st.caption(L("upload_help"))
    kept = ss.setdefault("uploads", {})
    files, mapping, coords = {}, {}, {}
    for kind in KINDS:
        f = st.file_uploader(L(f"upload_kind_{kind}"), key=f"up_{kind}")
        if f is not None:
            kept[kind] = (f.name, f.getvalue())
        if kind not in kept:
            continue
        name, data = kept[kind]
        if f is None:
            a, b = st.columns([4, 1])
            a.caption(L("upload_kept", name=name) + " · " + L("upload_replace"))
            b.button(L("upload_remove"), key=f"rm_{kind}", on_click=_remove_upload, args=(kind,))
        files[kind] = (name, data)
        coords[kind] = choice(st.selectbox, L("coords_for"), COORDS, f"coords_{kind}", "coords")
        mapping[kind] = _column_mapping(kind, name, data)
    net_file = st.file_uploader(L("upload_kind_network"), key="up_network")
    if net_file is not None:
        kept["network"] = (net_file.name, net_file.getvalue())
    if "network" in kept and net_file is None:
        a, b = st.columns([4, 1])
        a.caption(L("upload_kept", name=kept["network"][0]))
        b.button(L("upload_remove"), key="rm_network", on_click=_remove_upload, args=("network",))
    if st.button(L("read_validate"), key="btn_read"):
        _read_uploads(files, mapping, coords, kept.get("network"))


def _remove_upload(kind: str) -> None:
    ss.uploads.pop(kind, None)


def _column_mapping(kind: str, name: str, data: bytes) -> dict[str, str]:
    """The contract fields of ``kind`` (:func:`gridplan.io.schema.mappable_fields`), each with
    the file column chosen for it; a field whose own column is in the file is preselected, a
    choice made earlier for the same file is kept."""
    with st.expander(L("column_mapping", kind=L(f"upload_kind_{kind}"))):
        cache = ss.setdefault("_columns", {})
        ident = (kind, name, len(data))
        if ident not in cache:
            cache[ident] = services.upload_columns(name, data)
        cols = cache[ident]
        none = L("column_none")
        mapping = {}
        for fld in mappable_fields(kind):
            options = [none] + cols
            key, keep = f"map_{kind}_{fld}", f"_map_{kind}_{fld}"
            saved = ss.get(keep)
            kw = {}
            if key not in ss:
                kw["index"] = (
                    options.index(saved) if saved in cols else options.index(fld) if fld in cols else 0
                )
            picked = st.selectbox(L("column_for", field=field_label(fld)), options, key=key, **kw)
            ss[keep] = picked if picked != none else None
            if picked != none and picked != fld:
                mapping[fld] = picked
    return mapping


def _read_uploads(files: dict, mapping: dict, coords: dict, net_file) -> None:
    """Read every uploaded layer; replace the session's data only when all of it is usable.

    The previous check's outcome is dropped first, so that an old "check passed" never stays
    under a new refusal."""
    ss.validation = None
    ss.data_error = None
    if "households" not in files or "communities" not in files:
        ss.data_error = ("need_required", None)
        return
    lo, hi = int(ss.get("lo", GRID_MIN_HOUSEHOLDS)), int(ss.get("hi", GRID_MAX_HOUSEHOLDS))
    sizes = [len(data) for _, data in files.values()] + ([len(net_file[1])] if net_file else [])
    label = L("progress_upload", n=len(sizes), size=f"{sum(sizes) / 1e6:.1f} MB")
    try:
        with timed_status(label):
            out = services.load_uploads(
                files,
                columns=mapping,
                coords=coords,
                network=net_file,
                min_households=lo,
                max_households=hi,
            )
    except GridplanError as exc:
        ss.data_error = ("upload_failed", exc)
        return
    ss.validation = out.problems
    if out.refusal is not None:
        ss.data_error = ("refusal", out.refusal)
    if not out.usable:
        return
    ss.layers = out.layers
    ss.network = out.network
    ss.dataset = "upload"
    ss.coverage_params = None
    new_plan(out.result, out.layers, lo, hi)
    # new data, a new proposal: the one edited so far stays in the store as it was
    start_proposal(network=network)


def _error_text(key: str, exc: GridplanError | None) -> str:
    """The data step's refusal in the language shown now (kept as its cause, not its words)."""
    if exc is None:
        return L(key)
    msg = app_wording(exc.localized(lang()), lang())
    return L("upload_failed", msg=msg) if key == "upload_failed" else msg


def _show_validation() -> None:
    if ss.get("data_error"):
        st.error(_error_text(*ss.data_error))
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
                L("fix"): fix_text(p, code, _kind_of(p)),
            }
            for p in problems
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def _kind_of(problem) -> str | None:
    """The layer of a problem's file in words (the column step's section), if it was uploaded."""
    by_name = {name: kind for kind, (name, _) in (ss.get("uploads") or {}).items() if kind in KINDS}
    kind = problem.file if problem.file in KINDS else by_name.get(problem.file)
    return L(f"upload_kind_{kind}") if kind else None


def _where(problem) -> str:
    """File, column and first rows of a problem; a layer and a contract field in words."""
    file = L(f"upload_kind_{problem.file}") if problem.file in KINDS else problem.file
    column = field_label(problem.column) if problem.column else ""
    return " ".join(x for x in [file or "", column, ", ".join(map(str, problem.shown_rows[:10]))] if x)
