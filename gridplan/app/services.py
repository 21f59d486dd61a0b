"""The data step's work without Streamlit: uploaded files read, checked and planned.

The app's page only gathers the uploaded files and shows the outcome; the sequence itself (read
each layer safely, load the network, check the layers together, partition them) is
:func:`load_uploads`, tested directly on files. Reading, checking and planning are those of
:mod:`gridplan.workflows`, which the command line uses too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from gridplan.app import uploads
from gridplan.errors import GridplanError, InputError
from gridplan.grids.api import PartitionResult
from gridplan.io.problems import Problem
from gridplan.network import WalkNetwork
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS
from gridplan.workflows import checked_layers, plan_grids

__all__ = ["Upload", "UploadedData", "upload_columns", "load_uploads"]

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
    coords: str = "wgs84",
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
    coords : {"wgs84", "gcj02", "bd09"}
        Datum of the files' longitude/latitude.
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
        gdf, found = uploads.read_upload(kind, name, data, columns=columns.get(kind), coords=coords)
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
