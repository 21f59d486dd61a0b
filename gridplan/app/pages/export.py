"""Step 5, export: the plan's files, each built on demand, and opening a saved plan."""

from __future__ import annotations

import io
from pathlib import Path

import streamlit as st

from gridplan.app import uploads
from gridplan.app.services import export_coverage
from gridplan.app.state import L, lang, show_error, ss, start_proposal, table
from gridplan.errors import GridplanError

__all__ = ["EXPORTS", "build_export", "page"]

#: Export key -> the file it makes.
EXPORTS = {
    "export_grids_geojson": "grids.geojson",
    "export_grids_gpkg": "grids.gpkg",
    "export_households": "households.csv",
    "export_excel": "report.xlsx",
    "export_csv": "grids.csv",
    "export_map_png": "grids_map.png",
    "export_map_pdf": "grids_map.pdf",
    "save_plan": "plan.gpkg",
}
#: The map exports and their MIME types: drawn in the session's language.
_MAPS = {"export_map_png": "image/png", "export_map_pdf": "application/pdf"}
_GPKG = "application/geopackage+sqlite3"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build_export(key: str) -> tuple[str, bytes, str]:
    """One export file of the current plan: (file name, bytes, MIME type)."""
    from gridplan import io as gio
    from gridplan.report.export import export

    plan = ss.plan
    sites = ss.get("sites")
    hh = plan.assignment.drop(columns=["unit_id"])
    # the layers every full export carries (GeoPackage and Excel)
    full = dict(
        communities=plan.communities,
        micro_grids=plan.micro_grids,
        households=hh,
        facilities=ss.layers.get("facilities"),
        sites=None if sites is None else sites.sites,
        coverage=export_coverage(plan),
    )
    with uploads.staging() as folder:
        if key == "export_grids_geojson":
            path = export(plan.grids, geojson=folder / "grids.geojson", communities=plan.communities)[
                "geojson"
            ]
            return "grids.geojson", Path(path).read_bytes(), "application/geo+json"
        if key == "export_grids_gpkg":
            path = export(
                plan.grids,
                gpkg=folder / "grids.gpkg",
                **full,
                isochrones=None if plan.coverage is None else plan.coverage.isochrones,
            )["gpkg"]
            return "grids.gpkg", Path(path).read_bytes(), _GPKG
        if key == "export_households":
            gio.write(hh, folder / "households.csv")
            return "households.csv", (folder / "households.csv").read_bytes(), "text/csv"
        if key == "export_excel":
            path = export(plan.grids, xlsx=folder / "report.xlsx", **full)["xlsx"]
            return "report.xlsx", Path(path).read_bytes(), _XLSX
        if key == "export_csv":
            buf = io.StringIO()
            table(plan.grids).to_csv(buf, index=False)
            return "grids.csv", buf.getvalue().encode("utf-8-sig"), "text/csv"
        if key in _MAPS:
            from gridplan.report.figures import plot_grids

            name = EXPORTS[key]
            # titled with the proposal's name; the default title when there is none
            title = ss.get("proposal") or None
            plot_grids(plan.grids, folder / name, communities=plan.communities, title=title, lang=lang())
            return name, (folder / name).read_bytes(), _MAPS[key]
        plan.save(folder / "plan.gpkg")
        return "plan.gpkg", (folder / "plan.gpkg").read_bytes(), _GPKG


def _export_cache() -> dict:
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


def _variant(key: str):
    """What else than the plan an export's file depends on: the language of the grid table's
    headers; the language and the title (the proposal's name) of the maps; nothing for the rest."""
    if key == "export_csv":
        return lang()
    if key in _MAPS:
        return (lang(), ss.get("proposal"))
    return None


def _on_build(key: str, variant) -> None:
    try:
        _export_cache()[(key, variant)] = build_export(key)
    except GridplanError as exc:
        ss.flash_error = exc.localized(lang())


def page() -> None:
    """The export step: a build button per file, its download once built; open a saved plan."""
    files = _export_cache()
    st.caption(L("export_ready"))
    for key in EXPORTS:
        built = files.get((key, _variant(key)))
        a, b = st.columns([2, 3])
        a.button(
            L("export_prepare", what=EXPORTS[key]),
            key=f"btn_prepare_{key}",
            on_click=_on_build,
            args=(key, _variant(key)),
        )
        if built is not None:
            name, data, mime = built
            b.download_button(
                L(key),
                data,
                file_name=name,
                mime=mime,
                key="dl_csv" if key == "export_csv" else "dl_plan" if key == "save_plan" else f"dl_{key}",
            )
    up = st.file_uploader(L("open_plan"), type=["gpkg"], key="up_plan")
    if up is not None and ss.get("_opened") != (up.name, up.size):
        _open_plan(up)


def _open_plan(up) -> None:
    """Make a saved plan (:meth:`gridplan.plan.model.Plan.save`) the session's plan and data."""
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
    ss.layers = {"households": opened.households, "communities": opened.communities, **opened.context}
    ss.dataset = "upload"
    ss.network = None
    ss.sel_grid = ss.sel_unit = None
    # an opened file is a proposal of its own: the one edited so far stays as it was
    start_proposal()
    st.success(L("plan_opened", n=len(opened.grids)))
