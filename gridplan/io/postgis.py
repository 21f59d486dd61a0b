"""PostGIS in and out: read an input layer from a table or a query, write a plan's layers as tables.

A source is a libpq URL with gridplan's own parameters::

    postgresql://[user@]host[:port]/database?table=[schema.]name[&geom=column]
    postgresql://[user@]host[:port]/database?sql=SELECT ...

``table`` reads a whole table or view, ``sql`` a query; ``sql=`` must come last and everything
after it is the query as written (``&``, ``+`` and ``%`` included; a query without spaces is
taken as URL-encoded). ``geom`` picks the geometry
column when there are several; a table without one is read like a CSV (lon/lat or WKT columns).
Every other parameter is libpq's (``sslmode``, ``service``, ``connect_timeout``, ...).

Credentials come from libpq's environment only: ``PGUSER``, ``PGPASSWORD``, ``PGSERVICE`` with a
service file, ``~/.pgpass`` (``PGPASSFILE``). A password in the URL is refused, because command
lines end up in shell histories, process lists and logs.

SQLAlchemy, psycopg 3 and GeoAlchemy2 are the optional ``postgis`` extra, imported when a
PostGIS source or target is used; without them the error says how to install them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd

from gridplan.errors import InputError
from gridplan.io.problems import Problem
from gridplan.io.tables import table_to_gdf

__all__ = ["SCHEMES", "TABLES", "KEYS", "is_postgis", "source_name", "read_source", "write_plan", "read_plan"]

SCHEMES = ("postgresql://", "postgres://")
#: The tables of a plan, in the order they are written: the export's levels and the coverage per grid.
TABLES = tuple(
    "streets communities grids coverage micro_grids households facilities isochrones sites".split()
)
#: The primary key of a plan's tables (used when the columns are present, complete and unique).
#: A table without one (households) gets :data:`ROW` as its key, the row's position in the layer:
#: PostgreSQL keeps no row order (large rows are placed where they fit), so it is read back by it.
KEYS: dict[str, tuple[str, ...]] = {
    "streets": ("street_id",),
    "communities": ("community_id",),
    "grids": ("grid_code",),
    "coverage": ("grid_code",),
    "micro_grids": ("micro_code",),
    "facilities": ("facility_id",),
    "sites": ("candidate_id",),
    "isochrones": ("facility_id", "minutes"),
}
ROW = "plan_row"
#: Columns indexed besides the key: households and sites are looked up by their grid.
INDEXED = ("grid_code",)
_OWN = ("table", "sql", "geom")
_CREDENTIALS_FIX = (
    "put the password in the environment (PGPASSWORD), in ~/.pgpass "
    "(host:port:database:user:password, mode 0600) or in a service file (PGSERVICE)"
)
_CREDENTIALS_FIX_ZH = "请将密码放在环境变量 PGPASSWORD、~/.pgpass 文件或服务文件（PGSERVICE）中"


def is_postgis(source) -> bool:
    """True when ``source`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(source, str) and source.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class _Source:
    conninfo: str  # the libpq URL without gridplan's parameters
    where: str  # host:port/database, for messages
    table: str | None = None
    schema: str | None = None
    sql: str | None = None
    geom: str | None = None

    @property
    def name(self) -> str:
        what = f"table {self.qualified}" if self.table else "query"
        return f"{what} in postgresql://{self.where}"

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else str(self.table)


def _parse(source: str, *, target: bool = False) -> _Source:
    """Split a source URL into the libpq part and gridplan's parameters, refusing passwords."""
    head, sep, sql = source.partition("sql=")
    if sep and head[-1:] not in ("?", "&"):  # "sql=" inside another parameter's value
        head, sql, sep = source, "", ""
    if sep and " " not in sql and re.search(r"%[0-9A-Fa-f]{2}", sql):
        sql = unquote(sql)  # a fully URL-encoded query
    parts = urlsplit(head.rstrip("?&"))
    params = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is not None or any(k == "password" for k, _ in params):
        raise InputError(
            "the PostgreSQL URL holds a password: command lines are kept in shell histories, "
            "process lists and logs",
            file=_redacted(source),
            fix="remove it from the URL and " + _CREDENTIALS_FIX,
            message_zh="数据库地址中不能包含密码（命令行会被记录）",
            fix_zh="请从地址中删去密码，并" + _CREDENTIALS_FIX_ZH,
        )
    own = {k: v for k, v in params if k in _OWN}
    rest = [(k, v) for k, v in params if k not in _OWN]
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), ""))
    host = parts.hostname or os.environ.get("PGHOST", "localhost")
    where = f"{host}:{parts.port or os.environ.get('PGPORT', '5432')}{parts.path}"
    schema, _, table = (own.get("table") or "").rpartition(".")
    src = _Source(conninfo, where, table or None, schema or None, sql.strip() or None, own.get("geom"))
    if target and (src.table or src.sql):
        raise InputError(
            "a PostGIS export target names a database, not a table or query",
            file=src.name,
            fix="drop ?table=/?sql= from the URL; choose the schema with --schema",
            message_zh="导出目标应为数据库地址，不应包含 table 或 sql 参数",
        )
    if not target and bool(src.table) == bool(src.sql):
        raise InputError(
            "a PostgreSQL source needs either ?table=NAME or ?sql=SELECT ... (one of them)",
            file=f"postgresql://{where}",
            fix="e.g. postgresql://host:5432/db?table=communities or ...?sql=SELECT * FROM communities",
            message_zh="数据库地址需指定 table=表名 或 sql=查询语句（二选一）",
        )
    return src


def _redacted(source: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", re.sub(r"(password=)[^&]*", r"\1***", source))


def source_name(source: str) -> str:
    """How messages name a PostGIS source: ``table communities in postgresql://host:port/db``."""
    try:
        return _parse(source).name
    except InputError as exc:
        return exc.file or "postgresql"


def _modules():
    """SQLAlchemy (with psycopg 3 and GeoAlchemy2 present), or an InputError saying how to install."""
    try:
        import geoalchemy2  # noqa: F401  (registers the geometry type that to_postgis uses)
        import psycopg  # noqa: F401
        import sqlalchemy
    except ImportError as exc:
        raise InputError(
            f"PostGIS support needs the 'postgis' extra ({exc.name} is not installed)",
            fix="pip install 'gridplan[postgis]' (SQLAlchemy, psycopg 3, GeoAlchemy2)",
            message_zh="PostGIS 功能需要安装 postgis 扩展依赖",
            fix_zh="请运行 pip install 'gridplan[postgis]'",
        ) from exc
    return sqlalchemy


def _engine(src: _Source):
    sa = _modules()
    import psycopg

    kwargs = {"application_name": "gridplan"}
    if "connect_timeout" not in src.conninfo and "PGCONNECT_TIMEOUT" not in os.environ:
        kwargs["connect_timeout"] = "10"  # an unreachable host fails in seconds, not minutes
    conninfo = psycopg.conninfo.make_conninfo(src.conninfo, **kwargs)
    # libpq parses the URL itself (services, pgpass, PG* variables), as psql would; a fresh
    # connection per use (NullPool), since a command connects once.
    return sa.create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo), poolclass=sa.pool.NullPool
    )


@contextmanager
def _database_errors(src: _Source, doing: str):
    """Turn the driver's errors into InputErrors that name the table and the fix."""
    sa = _modules()
    import psycopg

    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise _input_error(src, doing, exc.orig) from exc
    except psycopg.Error as exc:  # from the raw cursor GeoPandas copies rows with
        raise _input_error(src, doing, exc) from exc


def _input_error(src: _Source, doing: str, orig) -> InputError:
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    state = getattr(orig, "sqlstate", None)
    low = text.lower()
    if state == "28P01" or "password authentication failed" in low or "no password supplied" in low:
        return InputError(
            f"the database refused the credentials: {text}",
            file=src.name,
            fix="check the user (PGUSER or user@ in the URL) and " + _CREDENTIALS_FIX,
            message_zh="数据库拒绝了用户名或密码",
            fix_zh="请检查用户名（PGUSER）和密码；" + _CREDENTIALS_FIX_ZH,
        )
    if state in ("28000", "3D000") or "does not exist" in low and ("database" in low or "role" in low):
        return InputError(
            f"cannot connect: {text}",
            file=src.name,
            fix="check the database name and the user in the URL (or PGDATABASE/PGUSER)",
            message_zh="无法连接数据库：数据库或用户不存在",
        )
    if state is None or state.startswith("08"):
        return InputError(
            f"cannot reach the PostgreSQL server at {src.where}: {text}",
            file=src.name,
            fix="check that the server is running and that host and port are right "
            "(pg_isready -h HOST -p PORT)",
            message_zh=f"无法连接 PostgreSQL 服务器 {src.where}",
            fix_zh="请检查服务器是否运行、主机和端口是否正确",
        )
    if state == "42P01":
        fix = f"check the table name; create it or give ?table=schema.name ({doing})"
    elif state == "42703":
        fix = "check the column names in the query (they are case-sensitive when quoted)"
    elif state == "2BP01":
        fix = (
            "the export's columns changed and views depend on the old table: drop them, export, recreate them"
        )
    elif state == "42501":
        fix = "grant the user the privileges it needs (USAGE/CREATE on the schema, SELECT/INSERT/DELETE)"
    elif state.startswith("42"):
        fix = "check the SQL of ?sql=... (run it in psql first)"
    else:
        fix = "check the data in the database"
    return InputError(f"{doing} failed: {text}", file=src.name, fix=fix, message_zh=f"数据库操作失败：{text}")


# --- reading ------------------------------------------------------------------------------


def _quote(conn, *names: str) -> str:
    prep = conn.dialect.identifier_preparer
    return ".".join(prep.quote_identifier(n) for n in names)


def _check_table(conn, src: _Source) -> str:
    """``FROM`` text of the source table; an InputError listing the tables when it is missing."""
    sa = _modules()
    names = (src.schema, src.table) if src.schema else (src.table,)
    qualified = _quote(conn, *names)
    if conn.execute(sa.text("SELECT to_regclass(:q)"), {"q": qualified}).scalar() is not None:
        return qualified
    tables = conn.execute(
        sa.text(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name NOT IN "
            "('spatial_ref_sys', 'geometry_columns', 'geography_columns') ORDER BY 1 LIMIT 30"
        )
    ).scalars()
    listed = ", ".join(tables) or "none"
    raise InputError(
        f"table '{src.qualified}' not found in postgresql://{src.where} (tables: {listed})",
        file=src.name,
        fix="check the name after ?table= (schema.name for a schema other than public) and that "
        "the user may read it",
        message_zh=f"数据库中没有表 '{src.qualified}'",
        fix_zh="请检查 ?table= 后的表名（非 public 模式请写 模式.表名）",
    )


def _query(conn, src: _Source) -> str:
    """The SELECT to read: the table in its primary-key order (rows as the table numbers them),
    or the user's query."""
    if src.sql:
        return src.sql
    return _ordered(conn, _check_table(conn, src))


def _ordered(conn, qualified: str) -> str:
    key = _primary_key(conn, qualified)
    return f"SELECT * FROM {qualified}" + (f" ORDER BY {_quote_list(conn, key)}" if key else "")


def _geometry_columns(conn, sql: str) -> list[str]:
    """Columns of type ``geometry`` in the result of ``sql`` (from a query that returns no rows)."""
    sa = _modules()
    oids = set(
        conn.execute(sa.text("SELECT oid FROM pg_type WHERE typname IN ('geometry', 'geography')")).scalars()
    )
    result = conn.exec_driver_sql(f"SELECT * FROM ({sql}) AS gridplan_probe LIMIT 0")
    return [c.name for c in result.cursor.description if c.type_code in oids]


def read_source(source: str, problems: list[Problem], *, lonlat=None) -> gpd.GeoDataFrame:
    """Read a PostGIS table or query (the reader of :func:`gridplan.io.readers.read_any`).

    Parameters
    ----------
    source : str
        ``postgresql://host:port/db?table=name`` or ``...?sql=SELECT ...`` (see the module).
    problems : list of Problem
        Receives the notes of a table read like a CSV.
    lonlat : tuple of str, optional
        Longitude and latitude columns of a table without geometry.

    Returns
    -------
    geopandas.GeoDataFrame
        In the geometry's SRID (no CRS when it is 0).

    Raises
    ------
    InputError
        Password in the URL; unreachable server; refused credentials; missing table or column;
        several geometry columns without ``geom=``.
    """
    src = _parse(source)
    engine = _engine(src)
    try:
        with _database_errors(src, "reading"), engine.connect() as conn:
            sql = _query(conn, src)
            geoms = _geometry_columns(conn, sql)
            geom = _pick_geometry(src, geoms)
            if geom is None:
                frame = pd.read_sql(sql, conn)
                return table_to_gdf(frame, src.name, problems, lonlat=lonlat)
            gdf = gpd.read_postgis(sql, conn, geom_col=geom)
            srid = conn.exec_driver_sql(
                f"SELECT DISTINCT ST_SRID({_quote(conn, geom)}) FROM ({sql}) AS q LIMIT 2"
            ).scalars()
            srids = [s for s in srid if s]
            if len(srids) == 1 and gdf.crs is None:
                gdf = gdf.set_crs(srids[0])  # an empty or all-null column still has its SRID
            return gdf
    finally:
        engine.dispose()


def _pick_geometry(src: _Source, geoms: list[str]) -> str | None:
    if src.geom:
        if src.geom not in geoms:
            raise InputError(
                f"geom={src.geom} is not a geometry column of the {'table' if src.table else 'query'} "
                f"(geometry columns: {', '.join(geoms) or 'none'})",
                file=src.name,
                column=src.geom,
                fix="name one of the geometry columns with &geom=COLUMN",
                message_zh=f"{src.geom} 不是几何列",
            )
        return src.geom
    if len(geoms) > 1:
        raise InputError(
            f"the {'table' if src.table else 'query'} has {len(geoms)} geometry columns: {', '.join(geoms)}",
            file=src.name,
            fix="pick one with &geom=COLUMN",
            message_zh=f"有 {len(geoms)} 个几何列",
            fix_zh="请用 &geom=列名 指定",
        )
    return geoms[0] if geoms else None


def source_columns(source: str) -> list[str]:
    """The column names a reader sees in a PostGIS source, geometry excluded (no rows read)."""
    src = _parse(source)
    engine = _engine(src)
    try:
        with _database_errors(src, "reading"), engine.connect() as conn:
            sql = _query(conn, src)
            geoms = _geometry_columns(conn, sql)
            result = conn.exec_driver_sql(f"SELECT * FROM ({sql}) AS gridplan_probe LIMIT 0")
            return [c.name for c in result.cursor.description if c.name not in geoms]
    finally:
        engine.dispose()


# --- writing ------------------------------------------------------------------------------


def write_plan(
    layers: Mapping[str, pd.DataFrame | None], target: str, *, schema: str | None = None
) -> dict[str, int]:
    """Write a plan's layers as tables of one schema, replacing the previous plan at once.

    Every table is replaced in ONE transaction, so a reader sees the old plan or the new one,
    never a mix. Each layer is first copied into a staging table (``to_postgis``: COPY), then
    the target's rows are deleted and the staged rows inserted (DELETE + INSERT, not DROP or
    TRUNCATE): this is MVCC-safe, so readers are never blocked and a reader's snapshot, even
    one taken before the commit, sees a whole plan; and views and grants on the tables
    survive. Only when a layer's columns changed since the last export is its table dropped
    and created again (still in the transaction; readers of that table wait for the commit).
    A table of an earlier plan that this plan lacks (e.g. ``sites``) is emptied. Concurrent
    exports to one schema queue on an advisory lock.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or DataFrame
        Table name (one of :data:`TABLES`) -> data, e.g. from
        :func:`gridplan.report.export.export_layers`; ``None`` and empty layers are skipped.
    target : str
        ``postgresql://[user@]host[:port]/database`` (credentials from the environment).
    schema : str, optional
        Schema of the tables (created if absent); default ``public``.

    Returns
    -------
    dict of str to int
        Table -> rows written.

    Raises
    ------
    InputError
        Bad URL, unreachable server, refused credentials, missing privileges, an unknown layer.
    """
    src = _parse(target, target=True)
    schema = schema or "public"
    unknown = [n for n in layers if n not in TABLES]
    if unknown:
        raise InputError(
            f"no PostGIS table for layer(s) {', '.join(unknown)}",
            fix=f"layers are {', '.join(TABLES)}",
            message_zh="未知的图层",
        )
    frames = {n: _for_sql(f) for n, f in layers.items() if f is not None and len(f)}
    sa = _modules()
    engine = _engine(src)
    try:
        with _database_errors(src, f"writing the plan to schema '{schema}'"), engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": f"gridplan:{schema}"})
            if (
                conn.execute(sa.text("SELECT to_regnamespace(:s)"), {"s": _quote(conn, schema)}).scalar()
                is None
            ):
                conn.exec_driver_sql(f"CREATE SCHEMA {_quote(conn, schema)}")
            for name in TABLES:
                if name in frames:
                    _replace_table(conn, frames[name], name, schema)
                elif _exists(conn, _quote(conn, schema, name)):
                    conn.exec_driver_sql(f"DELETE FROM {_quote(conn, schema, name)}")
    finally:
        engine.dispose()
    return {n: len(f) for n, f in frames.items()}


def _for_sql(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose mixed object columns (numbers beside text) are text: a column has one type."""
    out = frame.reset_index(drop=True)
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col != geom and out[col].dtype == object:
            if not out[col].map(lambda v: v is None or isinstance(v, (str, bool))).all():
                out[col] = out[col].map(lambda v: None if v is None or v is pd.NA else str(v))
    return out


def _exists(conn, qualified: str) -> bool:
    sa = _modules()
    return conn.execute(sa.text("SELECT to_regclass(:q)"), {"q": qualified}).scalar() is not None


def _signature(conn, qualified: str) -> list[tuple[str, str]]:
    """Column names and full types (``geometry(Polygon,4326)``) of a table, in order."""
    sa = _modules()
    if not _exists(conn, qualified):
        return []
    rows = conn.execute(
        sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(:q) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"q": qualified},
    )
    return [(str(a), str(b)) for a, b in rows]


def _primary_key(conn, qualified: str) -> tuple[str, ...]:
    """The primary-key columns of a table, in key order (empty when it has none)."""
    sa = _modules()
    rows = conn.execute(
        sa.text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = to_regclass(:q) AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)"
        ),
        {"q": qualified},
    ).scalars()
    return tuple(str(r) for r in rows)


def _keyed(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``frame`` and its key: the table's own (:data:`KEYS`) when complete and unique, else a
    :data:`ROW` column added in front (1, 2, ... in layer order)."""
    cols = KEYS.get(name, ())
    if cols and all(c in frame.columns for c in cols):
        part = frame[list(cols)]
        if part.notna().all(axis=None) and not part.duplicated().any():
            return frame, cols
    frame = frame.copy()
    frame.insert(0, ROW, range(1, len(frame) + 1))
    return frame, (ROW,)


def _replace_table(conn, frame: pd.DataFrame, name: str, schema: str) -> None:
    """Stage ``frame`` and swap its rows into ``schema.name`` (see :func:`write_plan`)."""
    frame, key = _keyed(frame, name)
    staging = f"_gridplan_new_{name}"
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_postgis(staging, conn, schema=schema, if_exists="replace", index=False)
    else:
        frame.to_sql(staging, conn, schema=schema, if_exists="replace", index=False)
    target, new = _quote(conn, schema, name), _quote(conn, schema, staging)
    if _signature(conn, target) != _signature(conn, new) or _primary_key(conn, target) != key:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
        # LIKE ... INCLUDING ALL copies the geometry type, SRID and the GiST index GeoAlchemy2
        # made on the staging table.
        conn.exec_driver_sql(f"CREATE TABLE {target} (LIKE {new} INCLUDING ALL)")
        conn.exec_driver_sql(f"ALTER TABLE {target} ADD PRIMARY KEY ({_quote_list(conn, key)})")
        for col in INDEXED:
            if col in frame.columns and (col,) != key:
                conn.exec_driver_sql(f"CREATE INDEX ON {target} ({_quote(conn, col)})")
    else:
        conn.exec_driver_sql(f"DELETE FROM {target}")
    conn.exec_driver_sql(f"INSERT INTO {target} SELECT * FROM {new}")
    conn.exec_driver_sql(f"DROP TABLE {new}")


def _quote_list(conn, names) -> str:
    return ", ".join(_quote(conn, n) for n in names)


def _declared_types(frame: pd.DataFrame, signature: list[tuple[str, str]]) -> pd.DataFrame:
    """Restore the column types the driver does not give back: 32- and 16-bit integers come as
    int64, and a number column with NULLs (or a text column of NULLs) as untyped objects."""
    ints = {"bigint": "int64", "integer": "int32", "smallint": "int16"}
    for col, sqltype in signature:
        if col not in frame.columns:
            continue
        kind = frame[col].dtype.kind
        if sqltype in ints and kind == "i":
            frame[col] = frame[col].astype(ints[sqltype])
        elif kind != "O":
            continue
        elif sqltype in ("double precision", "real"):
            frame[col] = frame[col].astype("float64")
        elif sqltype in ints:
            frame[col] = frame[col].astype(ints[sqltype].capitalize())
        elif sqltype == "text":
            frame[col] = frame[col].astype("str")
    return frame


def read_plan(source: str, *, schema: str | None = None) -> dict[str, pd.DataFrame]:
    """Read back the tables :func:`write_plan` wrote, in their key order (the layers of a plan).

    Parameters
    ----------
    source : str
        ``postgresql://[user@]host[:port]/database``.
    schema : str, optional
        Default ``public``.

    Returns
    -------
    dict of str to DataFrame
        Table -> GeoDataFrame (``coverage``: DataFrame), for the non-empty tables of
        :data:`TABLES`, read in one snapshot (REPEATABLE READ), so they belong to one plan.
    """
    src = _parse(source, target=True)
    schema = schema or "public"
    engine = _engine(src)
    out: dict[str, pd.DataFrame] = {}
    try:
        with _database_errors(src, f"reading the plan in schema '{schema}'"), engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                for name in TABLES:
                    qualified = _quote(conn, schema, name)
                    if not _exists(conn, qualified):
                        continue
                    frame = _read_table(conn, qualified)
                    if len(frame):
                        out[name] = frame.drop(columns=[ROW], errors="ignore")
    finally:
        engine.dispose()
    return out


def _read_table(conn, qualified: str) -> pd.DataFrame:
    """A table of a plan in key order, with the declared types of its columns."""
    sql = _ordered(conn, qualified)
    geoms = _geometry_columns(conn, sql)
    frame = gpd.read_postgis(sql, conn, geom_col=geoms[0]) if geoms else pd.read_sql(sql, conn)
    return _declared_types(frame, _signature(conn, qualified))
