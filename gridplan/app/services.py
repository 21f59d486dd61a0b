"""The app's work without Streamlit: uploaded files read, checked and planned; the plan searched
by the names a planner knows; tables worded for the planner.

The app's page only gathers the uploaded files and shows the outcome; the sequence itself (read
each layer safely, load the network, check the layers together, partition them) is
:func:`load_uploads`, tested directly on files. Reading, checking and planning are those of
:mod:`gridplan.workflows`, which the command line uses too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.app import uploads
from gridplan.app.labels import text
from gridplan.errors import GridplanError, InputError
from gridplan.grids.api import PartitionResult
from gridplan.io.checks import household_counts
from gridplan.io.problems import Problem
from gridplan.network import WalkNetwork
from gridplan.norms import DEFAULT_NORMS, GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.plan.common import grid_sort_key
from gridplan.workflows import checked_layers, plan_grids

if TYPE_CHECKING:
    from gridplan.app.naming import Names
    from gridplan.plan.model import Plan

__all__ = [
    "Upload",
    "UploadedData",
    "upload_columns",
    "load_uploads",
    "plan_standards",
    "export_coverage",
    "siting_note",
    "proposal_name",
    "proposals_table",
    "versions_table",
    "comparison_table",
    "Found",
    "find_in_plan",
]

#: One uploaded file: (its name, its bytes), or a path on disk.
Upload = tuple[str, bytes] | str | Path


@dataclass
class UploadedData:
    """What :func:`load_uploads` made of the files.

    Attributes
    ----------
    layers : dict
        Layer kind -> the checked layer (as read when the check could not run; None for a file
        that could not be read).
    problems : list of Problem
        Everything the readers and the check found; any ``"error"`` means the data is not usable.
    network : WalkNetwork, optional
        The uploaded walking network.
    result : PartitionResult, optional
        The grids of usable data.
    refusal : GridplanError, optional
        Why the partition refused usable data (the data is then not usable either).
    """

    layers: dict[str, gpd.GeoDataFrame | None]
    problems: list[Problem]
    network: WalkNetwork | None = None
    result: PartitionResult | None = None
    refusal: GridplanError | None = None

    @property
    def usable(self) -> bool:
        """No error among the problems, and grids were made."""
        return self.result is not None


def _has_error(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def _as_upload(upload: Upload) -> tuple[str, bytes]:
    if isinstance(upload, (str, Path)):
        path = Path(upload)
        return path.name, path.read_bytes()
    return upload


def upload_columns(name: str, data: bytes) -> list[str]:
    """The column names of an uploaded file as the reader will see them, for the column step;
    [] when the file cannot even be staged (the read says why, later)."""
    with uploads.staging() as folder:
        try:
            return uploads.peek_columns(uploads.stage_upload(name, data, folder))
        except InputError:
            return []


def load_uploads(
    files: Mapping[str, Upload],
    *,
    columns: Mapping[str, dict] | None = None,
    coords: str | Mapping[str, str] = "wgs84",
    network: Upload | None = None,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
) -> UploadedData:
    """Read, check and partition uploaded layers.

    Each file is staged and read safely (:func:`gridplan.app.uploads.read_upload`); when no file
    has an error, the layers are checked together (:func:`gridplan.workflows.checked_layers`);
    when the check finds no error either, they are partitioned
    (:func:`gridplan.workflows.plan_grids`).

    Parameters
    ----------
    files : mapping
        Layer kind (``households``, ``communities``, ``buildings``, ``estates``, ``facilities``,
        ``barriers``) -> the uploaded file: (name, bytes) or a path.
    columns : mapping, optional
        Layer kind -> its contract field -> file column (the column step).
    coords : {"wgs84", "gcj02", "bd09"} or mapping
        Datum of the files' longitude/latitude: one for every file, or layer kind -> datum
        (a kind not named is WGS-84), since a planner's files come from different sources.
    network : (name, bytes) or path, optional
        A walking network file.
    min_households, max_households : int
        The household band of a grid.

    Returns
    -------
    UploadedData

    Raises
    ------
    GridplanError
        A file that cannot be taken at all (too large, unsupported, a broken or unsafe zip) or a
        network that cannot be loaded: the upload failed, nothing was checked.
    """
    columns = dict(columns or {})
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for kind, upload in files.items():
        name, data = _as_upload(upload)
        names[kind] = name
        datum = coords if isinstance(coords, str) else coords.get(kind, "wgs84")
        gdf, found = uploads.read_upload(kind, name, data, columns=columns.get(kind), coords=datum)
        problems += found
        frames[kind] = gdf
    net = None if network is None else uploads.read_network_upload(*_as_upload(network))
    out = UploadedData(frames, problems, net)
    if _has_error(problems):
        return out
    out.layers, checked = checked_layers(frames, names=names)
    out.problems = problems + checked.problems
    if _has_error(out.problems):
        return out
    try:
        # the uploaded walking network's lines are the streets the grid lines follow
        streets = None if net is None else net.edges[["geometry"]]
        out.result = plan_grids(
            out.layers,
            min_households=min_households,
            max_households=max_households,
            n_jobs=1,
            streets=streets,
        )
    except GridplanError as exc:
        out.refusal = exc
    return out


def plan_standards(plan) -> pd.DataFrame | None:
    """The coverage's standards table (:func:`gridplan.access.norms_check.standards_table`) with
    the grids and grid workers of each community counted on the plan's current grids.

    The coverage is computed once for the households (the sample's is cached for every
    session), without the grids, which the planner keeps editing: its own grid count is 0 or
    stale, so it is counted here from the plan.

    Returns
    -------
    DataFrame or None
        None when no coverage is attached.
    """
    cov = plan.coverage
    if cov is None or cov.standards is None:
        return None
    out = pd.DataFrame(cov.standards).copy()
    per = plan.grids.groupby(plan.grids["community_id"].astype(str)).size()
    out["grids"] = out["community_id"].astype(str).map(per).fillna(0).astype(np.int64)
    out["grid_workers_needed"] = out["grids"] * DEFAULT_NORMS.grid_workers_per_grid
    return out


def export_coverage(plan):
    """The plan's coverage with :func:`plan_standards` as its standards (for the exports);
    None without coverage."""
    if plan.coverage is None:
        return None
    return dataclasses.replace(plan.coverage, standards=plan_standards(plan))


def siting_note(report: Mapping, asked: int, lang: str = "zh") -> str | None:
    """Why a siting run recommends fewer sites than ``asked``, in ``lang``; None when it gave
    them all.

    Parameters
    ----------
    report : mapping
        :attr:`gridplan.siting.api.SitingResult.report`.
    asked : int
        The number of sites the planner asked for.
    lang : {"zh", "en"}
    """
    got = int(report.get("sites", 0))
    if got >= asked:
        return None
    eligible = int(report.get("households_eligible", 0))
    covered = int(report.get("households_covered_after", 0))
    off = int(report.get("households_off_network", 0))
    key = "siting_fewer_full" if eligible and covered >= eligible else "siting_fewer_unreachable"
    return text(key, lang, asked=asked, got=got, share=float(report.get("share_after", 0.0)), off=off)


def proposal_name(taken, lang: str = "zh", now: datetime | None = None) -> str:
    """A new proposal name from the time (``方案 2026-11-30 09:15``), not among ``taken``.

    Parameters
    ----------
    taken : iterable of str
        The names in the store.
    lang : {"zh", "en"}
    now : datetime, optional
        Default: the local time now.
    """
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    base = text("proposal_default", lang, time=stamp)
    taken = set(taken)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base} ({n})"
    return name


def proposals_table(listing: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """:meth:`gridplan.plan.store.PlanStore.list` with headers in words."""
    cols = {c: text(f"proposal_col_{c}", lang) for c in ("name", "version", "versions", "updated")}
    return listing[list(cols)].rename(columns=cols)


def versions_table(versions: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """:meth:`gridplan.plan.store.PlanStore.versions` with headers and yes/no in words."""
    from gridplan.i18n import yes_no

    out = versions[["version", "saved", "note", "grids", "edits", "network"]].copy()
    out["network"] = out["network"].map(lambda v: yes_no(bool(v), lang)).astype(object)
    return out.rename(columns={c: text(f"version_col_{c}", lang) for c in out.columns})


#: Figures of :func:`gridplan.plan.store_compare.compare` shown as shares.
_SHARES = ("share_in_band", "share_covered")


def comparison_table(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """:attr:`gridplan.plan.store_compare.Comparison.table` for the planner: one row per figure
    in words, shares as percentages, compactness with two decimals, counts as integers, a
    figure that was not computed (coverage of a version saved without it) as "—"."""

    def shown(figure: str, value) -> str:
        if pd.isna(value):
            return "—"
        if figure in _SHARES:
            return f"{float(value):.1%}"
        if figure == "mean_compactness":
            return f"{float(value):.2f}"
        return f"{int(round(float(value))):,}"

    rows = {text(f"figure_{fig}", lang): [shown(str(fig), v) for v in table.loc[fig]] for fig in table.index}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=[str(c) for c in table.columns])
    out.index.name = text("figure", lang)
    return out.reset_index()


# ---------------------------------------------------------------- search in the grids step
#: Kinds of things the grids step finds, in the order its matches are ranked.
FIND_KINDS = ("grid", "estate", "community", "building")


@dataclass(frozen=True)
class Found:
    """One thing a search of the plan matched.

    Attributes
    ----------
    kind : {"grid", "estate", "building", "community"}
    name : str
        As the planner knows it: the grid code, the estate's name, the building's name with its
        estate's (its id when it has no name), the community's name.
    grid_id : str
        The grid to select: the grid itself, the grid holding most of the estate's or the
        building's households, the community's first grid.
    unit_id : optional
        The partition unit to select with it (the unit holding most of an estate's or a
        building's households), None for a grid or a community.
    """

    kind: str
    name: str
    grid_id: str
    unit_id: object = None


def _norm(value) -> str:
    return "".join(str(value).split()).casefold()


def find_in_plan(plan: Plan, query: str, names: Names) -> list[Found]:
    """Grids, estates, buildings and communities of ``plan`` whose code, name or id contain
    ``query``, best first.

    Letters case and spaces do not count. A match of the whole text ranks before a match of a
    part of it; then grids, estates, communities and buildings, in that order; then grid code
    order.

    Parameters
    ----------
    plan : Plan
    query : str
        What the planner typed: a grid code, an estate's name (or id), a building's id (or
        name), a community's name (or code).
    names : Names
        The dataset's estate and building names (:func:`gridplan.app.naming.names_of`).

    Returns
    -------
    list of Found
        Empty for an empty query or when nothing matches.
    """
    q = _norm(query)
    if not q:
        return []
    ranked: list[tuple[tuple, Found]] = []

    def offer(texts, found: Found, order) -> None:
        keys = [_norm(t) for t in texts if t is not None and str(t).strip()]
        if any(q in k for k in keys):
            rank = 0 if q in keys else 1
            ranked.append(((rank, FIND_KINDS.index(found.kind), grid_sort_key(found.grid_id), order), found))

    grids = plan.grids
    for gid in grids["grid_id"].astype(str):
        offer([gid], Found("grid", gid, gid), gid)
    firsts = grids.assign(grid_id=grids["grid_id"].astype(str)).groupby("community_id", sort=False)["grid_id"]
    for cid, gids in firsts:
        first = min(gids, key=grid_sort_key)
        name = grids.loc[grids["community_id"] == cid, "community_name"].iloc[0]
        shown = str(name) if isinstance(name, str) and name.strip() else str(cid)
        offer([name, cid], Found("community", shown, first), str(cid))
    for kind, column in (("estate", "estate_id"), ("building", "building_id")):
        for key, gid, uid, estate in _holders(plan, column):
            if kind == "estate":
                texts, shown = [names.estates.get(key), key], names.estate(key)
            else:
                texts = [key, names.buildings.get(key)]
                own = names.buildings.get(key)
                shown = own if own is None or estate is None else f"{names.estate(estate)} {own}"
                shown = shown or key
            offer(texts, Found(kind, shown, gid, uid), key)
    ranked.sort(key=lambda pair: pair[0])
    return [found for _, found in ranked]


def _holders(plan: Plan, column: str) -> list[tuple[str, str, object, str | None]]:
    """Per value of the households' ``column`` (estate or building id): the unit holding most of
    its households (the first such unit on a tie), that unit's grid, and the value's estate."""
    a = plan.assignment
    if column not in a.columns:
        return []
    a = a.assign(_w=household_counts(a), _order=np.arange(len(a)))
    a = a[a[column].notna() & a["grid_id"].notna()]
    if a.empty:
        return []
    a = a.assign(_key=a[column].astype(str))
    per_unit = a.groupby(["_key", "unit_id"], sort=False).agg(
        w=("_w", "sum"), first=("_order", "min"), grid=("grid_id", "first")
    )
    per_unit = per_unit.reset_index().sort_values(["_key", "w", "first"], ascending=[True, False, True])
    best = per_unit.drop_duplicates("_key")
    estate = (
        a.groupby("_key", sort=False)["estate_id"].first()
        if "estate_id" in a.columns
        else pd.Series(dtype=object)
    )
    return [
        (key, str(grid), uid, None if pd.isna(estate.get(key)) else str(estate.get(key)))
        for key, uid, grid in zip(best["_key"], best["unit_id"], best["grid"])
    ]
