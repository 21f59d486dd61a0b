"""The database under a plan store: one SQLite file by default, PostgreSQL when a URL names one.

Three tables hold every proposal (方案): ``gridplan_proposals`` (name, current version),
``gridplan_versions`` (one row a saved version, with its JSON manifest) and ``gridplan_pieces``
(content-addressed Parquet bytes shared between versions). The SQL is the same on both engines
(``?`` placeholders are turned into psycopg's ``%s``); a save or delete runs in one transaction
under the store's write lock (SQLite's ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so that
two sessions saving at once cannot both win.

PostgreSQL connections come from :mod:`gridplan.io.postgis` (libpq URL, credentials from the
environment only, the same error messages).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gridplan.errors import OutputError

__all__ = ["Database", "open_database", "DB_FILE"]

#: File name of the embedded store inside its data folder.
DB_FILE = "proposals.sqlite"
#: Keys asked for in one ``IN (...)`` query (SQLite's default limit is 32766 parameters).
_CHUNK = 500

#: Key of the PostgreSQL advisory lock writers of a store hold ("gpst" in ASCII).
_LOCK_KEY = 0x67707374

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS gridplan_pieces (key TEXT PRIMARY KEY, data {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS gridplan_proposals (name TEXT PRIMARY KEY, head INTEGER NOT NULL, "
    "updated TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS gridplan_versions (name TEXT NOT NULL, version INTEGER NOT NULL, "
    "parent INTEGER, saved TEXT NOT NULL, note TEXT NOT NULL, grids INTEGER NOT NULL, "
    "edits INTEGER NOT NULL, network INTEGER NOT NULL, manifest TEXT NOT NULL, "
    "PRIMARY KEY (name, version))",
)


class Tx:
    """One transaction: :meth:`rows` for queries, :meth:`run` for changes (rows changed)."""

    def __init__(self, execute) -> None:
        self._execute = execute

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """The rows of a query."""
        return [tuple(r) for r in self._execute(sql, params).fetchall()]

    def run(self, sql: str, params: Sequence = ()) -> int:
        """Run a statement; the number of rows it changed."""
        return self._execute(sql, params).rowcount

    def one(self, sql: str, params: Sequence = ()):
        """The first column of the first row, or None."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def existing(self, keys: Iterable[str]) -> set[str]:
        """Which of the piece ``keys`` are stored."""
        found: set[str] = set()
        keys = list(keys)
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            found |= {
                r[0] for r in self.rows(f"SELECT key FROM gridplan_pieces WHERE key IN ({marks})", part)
            }
        return found

    def pieces(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The bytes of the piece ``keys`` (missing keys are left out)."""
        out: dict[str, bytes] = {}
        keys = sorted(set(keys))
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            sql = f"SELECT key, data FROM gridplan_pieces WHERE key IN ({marks})"
            out.update((k, bytes(d)) for k, d in self.rows(sql, part))
        return out


class Database:
    """A store's database. Use :func:`open_database`."""

    where = ""

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:  # pragma: no cover - engines
        """A transaction; ``write=True`` holds the store's write lock until it ends."""
        raise NotImplementedError
        yield


class SqliteDatabase(Database):
    """The embedded store: one SQLite file, written under a lock for the whole transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self.transaction(write=True) as tx:
                for sql in _SCHEMA:
                    tx.run(sql.format(blob="BLOB"))
        except (OSError, sqlite3.Error) as exc:
            raise OutputError(
                f"cannot open the proposal store: {exc}",
                file=str(path),
                fix="set GRIDPLAN_DATA to a writable folder",
                message_zh=f"无法打开方案库：{exc}",
                fix_zh="请将 GRIDPLAN_DATA 设为可写的文件夹",
            ) from exc

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        # autocommit mode with explicit BEGIN IMMEDIATE: the write lock is taken before the
        # proposal's head is read, so that the optimistic check and the write are one step
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(conn.execute)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()


class PostgresDatabase(Database):
    """The server store: the same tables in a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        # one connection handling for PostGIS in gridplan: the URL rules, the libpq environment
        # and the error messages of gridplan.io.postgis
        from gridplan.io.postgis import _database_errors, _engine, _parse

        self._src = _parse(url, target=True)
        self._errors = _database_errors
        self.where = f"postgresql://{self._src.where}"
        self._engine = _engine(self._src)
        with self.transaction(write=True) as tx:
            for sql in _SCHEMA:
                tx.run(sql.format(blob="BYTEA"))

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        with self._errors(self._src, "the proposal store"), self._engine.begin() as conn:

            def execute(sql: str, params: Sequence = ()):
                return conn.exec_driver_sql(sql.replace("?", "%s"), tuple(params))

            if write:
                # one writer at a time, as in SQLite: a delete's sweep of unused pieces must
                # not remove a piece that a save running beside it has just found stored
                execute("SELECT pg_advisory_xact_lock(?)", [_LOCK_KEY])
            yield Tx(execute)


def default_folder() -> Path:
    """``GRIDPLAN_DATA``, or the user's data folder for gridplan (platformdirs)."""
    given = os.environ.get("GRIDPLAN_DATA")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("gridplan", appauthor=False))


def open_database(where: str | os.PathLike | None = None) -> Database:
    """The database a store names.

    Parameters
    ----------
    where : str or path, optional
        A ``postgresql://`` URL, a ``.sqlite``/``.db`` file, or a data folder (the file is
        :data:`DB_FILE` in it). Default: ``GRIDPLAN_DB`` when set, else the folder of
        :func:`default_folder`.

    Returns
    -------
    Database
    """
    from gridplan.io.postgis import is_postgis

    if where is None:
        where = os.environ.get("GRIDPLAN_DB") or default_folder()
    if is_postgis(where):
        return PostgresDatabase(str(where))
    path = Path(where).expanduser()
    if path.suffix.lower() not in (".sqlite", ".db", ".sqlite3"):
        path = path / DB_FILE
    return SqliteDatabase(path)
