"""The sample district's partition kept on disk between server starts.

Partitioning the sample along its streets, footprints and estates takes 4-5 s, most of a cold
open of the app (the first session after a server start). The result depends only on the code, the libraries doing the geometry and the
bundled data, so it is stored with :class:`joblib.Memory` (scikit-learn's disk cache) under a key
made of all three: any change to any of them is a new key, never a stale grid. A folder that
cannot be written only costs the time: the partition is then computed as before.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

__all__ = ["cache_folder", "code_key", "on_disk"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: Libraries whose versions change the grids of the same input.
_LIBRARIES = ("shapely", "numpy", "scipy", "pandas", "geopandas", "pymetis", "networkx", "momepy")


def cache_folder() -> Path:
    """``GRIDPLAN_CACHE``, else the user's cache folder for gridplan (platformdirs): apart from
    the proposals (``GRIDPLAN_DATA``), since it holds nothing that cannot be computed again."""
    given = os.environ.get("GRIDPLAN_CACHE")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("gridplan", appauthor=False))


@cache
def code_key() -> str:
    """A digest of gridplan's source files, the bundled data and the geometry libraries' versions."""
    import shapely

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix not in {".pyc"} and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={importlib.metadata.version(name)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{name}=none".encode())
    h.update(shapely.geos_version_string.encode())
    return h.hexdigest()[:20]


def on_disk(make: Callable[..., T], *args) -> T:
    """``make(*args)``, from the disk cache when an earlier call with the same arguments, code,
    data and libraries stored it.

    Parameters
    ----------
    make : callable
        A module-level function of hashable arguments whose result pickles.
    *args
        Its arguments.

    Returns
    -------
    object
        What ``make`` returns.
    """
    try:
        import joblib

        memory = joblib.Memory(cache_folder(), verbose=0)
        return memory.cache(make)(*args, code_key())
    except OSError as exc:  # an unwritable data folder: compute, as without the cache
        _log.warning("disk cache at %s not usable (%s); computing", cache_folder(), exc)
        return make(*args, code_key())
