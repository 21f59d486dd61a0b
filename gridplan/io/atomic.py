"""Atomic file output: write to a temporary name in the target folder, then rename.

A killed run leaves either the previous file or the new one, never half of one. Written by hand
because the pattern is a few lines and no well-kept library covers GDAL/pyogrio writers, which need
a real path rather than a file object.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gridplan.errors import OutputError

__all__ = ["atomic_path", "atomic_outputs", "recover", "JOURNAL"]


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
        raise OutputError(
            f"cannot create output folder {path.parent}: {exc}", fix="choose an --out folder you can write to"
        ) from exc
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


#: The journal of a commit in progress, in the output folder (removed when the commit ends).
JOURNAL = ".gridplan-commit.json"


class atomic_outputs:
    """Stage several output files and publish them together, all or nothing.

    Files are written to temporary names; :meth:`commit` renames them into place under a
    journal: every file it replaces is first renamed to a backup, so that a failure on any
    rename puts every earlier file back, and a killed commit is rolled back by the next
    ``atomic_outputs`` on the same folder (the journal lists what to undo). If the run fails
    before ``commit`` (an exception, a kill), no target file is touched.

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

    def __enter__(self) -> atomic_outputs:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create output folder {self.folder}: {exc}",
                fix="choose an --out folder you can write to",
            ) from exc
        recover(self.folder)
        return self

    def commit(self) -> list[Path]:
        """Move every staged file into place, all or none; returns the target paths."""
        staged = [(tmp, target) for tmp, target in self._staged if tmp.exists()]
        self._staged.clear()
        steps = [(tmp, target, target.with_name(f".{target.name}.{tmp.name}.bak")) for tmp, target in staged]
        journal = self.folder / JOURNAL
        journal.write_text(json.dumps([[str(a), str(b), str(c)] for a, b, c in steps]), encoding="utf-8")
        try:
            for tmp, target, backup in steps:
                if target.exists():
                    os.replace(target, backup)
                os.replace(tmp, target)
        except BaseException:
            _roll_back(steps)
            journal.unlink(missing_ok=True)
            raise
        for _, _, backup in steps:
            backup.unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
        return [target for _, target, _ in steps]

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


def _roll_back(steps: list[tuple[Path, Path, Path]]) -> None:
    """Undo a partial commit: restore every backup, remove every newly published file."""
    for tmp, target, backup in reversed(steps):
        with contextlib.suppress(OSError):
            if backup.exists():
                os.replace(backup, target)
            elif not tmp.exists() and target.exists():
                target.unlink()  # published by this commit over nothing: take it back
        with contextlib.suppress(OSError):
            tmp.unlink()


def recover(folder: str | os.PathLike) -> bool:
    """Roll back a commit that was killed half-way in ``folder`` (True if there was one)."""
    journal = Path(folder) / JOURNAL
    if not journal.exists():
        return False
    try:
        steps = [(Path(a), Path(b), Path(c)) for a, b, c in json.loads(journal.read_text("utf-8"))]
    except (ValueError, TypeError) as exc:
        raise OutputError(
            f"unreadable commit journal {journal}: {exc}",
            fix="check the folder's files and delete the journal",
        ) from exc
    _roll_back(steps)
    journal.unlink(missing_ok=True)
    return True
