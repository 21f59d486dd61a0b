"""Atomic file output: write to a temporary name in the target folder, then rename.

A killed run leaves either the previous file or the new one, never half of one. Written by hand
because the pattern is a few lines and no well-kept library covers GDAL/pyogrio writers, which need
a real path rather than a file object.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gridplan.errors import OutputError

__all__ = ["atomic_path", "atomic_outputs"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The temporary name keeps the suffix so that format drivers chosen by extension still work.
    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {path.parent}: {exc}",
                          fix="choose an --out folder you can write to") from exc
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # Some GDAL drivers refuse to overwrite an existing (empty) file: hand them a free name.
    tmp_path.unlink()
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


class atomic_outputs:
    """Stage several output files and publish them together at the end of a run.

    Files are written to temporary names; :meth:`commit` renames them all into place. If the run
    fails before ``commit`` (an exception, a kill), no target file is touched.

    Examples
    --------
    >>> with atomic_outputs("out") as out:            # doctest: +SKIP
    ...     grids.to_file(out.path("grids.geojson"))
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._staged: list[tuple[Path, Path]] = []

    def path(self, name: str) -> Path:
        """A temporary path to write ``name`` to."""
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
        Path(tmp).unlink()
        self._staged.append((Path(tmp), target))
        return Path(tmp)

    def __enter__(self) -> "atomic_outputs":
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create output folder {self.folder}: {exc}",
                              fix="choose an --out folder you can write to") from exc
        return self

    def commit(self) -> list[Path]:
        """Move every staged file into place; returns the target paths."""
        done = []
        for tmp, target in self._staged:
            if tmp.exists():
                os.replace(tmp, target)
                done.append(target)
        self._staged.clear()
        return done

    def discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged.clear()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
