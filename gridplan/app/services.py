"""The data step's work without Streamlit: uploaded files read, checked and planned.

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

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.app import uploads
from gridplan.app.labels import text
from gridplan.errors import GridplanError, InputError
from gridplan.grids.api import PartitionResult
from gridplan.io.problems import Problem
from gridplan.network import WalkNetwork
from gridplan.norms import DEFAULT_NORMS, GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.workflows import checked_layers, plan_grids

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
        out.result = plan_grids(
            out.layers, min_households=min_households, max_households=max_households, n_jobs=1
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
