"""Publish the audited serving.duckdb into PostgreSQL, atomically and reader-safe.

Why a second target: Metabase (Cloud too) and Power BI connect natively to PostgreSQL, with
real roles, row-level security and a server that outlives a file swap.

How: the `marts` and `ops` tables of an already audited `serving.duckdb` are loaded into fresh
schemas `marts__next` / `ops__next` (binary COPY through DuckDB's postgres extension), then
indexed, commented from the dbt docs, granted and given their row-level-security policies.
Only then one short transaction locks the live tables, renames live -> `__old`,
`__next` -> live, and commits; the old tables are dropped right after. A reader's statement
therefore sees the old tables (the swap waits for it) or the new ones (it waited for the
swap), never a mix, and never an error: a statement blocked on a swapped-out table
re-resolves its name to the new one.
The swap waits for long readers in short attempts (each shorter than the server's 1 s
deadlock check, so a reader is never the one chosen as deadlock victim) up to
`lock_timeout_s`, then gives up: the `__next` schemas are dropped and the old data stays served.
Meanwhile a reader idle in a transaction for more than `pg_roles.READER_IDLE_S` that blocks
the swap has its session ended (`pg_roles.ending_idle_blockers`); a running query never is.
The publish's advisory lock, held from start to end, also keeps `add-reader` waiting, so a
registry change can never be read before the swap and then swapped away. No reader may take
it (or any advisory lock) in the serving database: `pg_functions`.
Every other wait for a reader's lock (e.g. dropping a crashed publish's leftovers) has the
same limit. Errors leave with the owner's password masked (`pg_url.masked_errors`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import duckdb_extensions
import psycopg
from psycopg import sql

from serving import pg_functions, pg_roles
from serving.pg_docs import OPS_DOCS, TableDoc
from serving.pg_swap import (
    NEXT,
    OLD,
    SCHEMAS,
    PgPublishError,
    drop_old,
    drop_schemas,
    readers_time_limit,
    swap,
)
from serving.pg_types import index_columns, pg_type
from serving.pg_url import mask_url, masked_errors

#: Serialises publishes to one database, and registry changes (add-reader) with them.
_ADVISORY_KEY = pg_roles.PUBLISH_LOCK


@dataclass(frozen=True)
class PgPublishResult:
    """What one publish did, for the run's metadata."""

    version: str
    rows: dict[str, int]
    seconds: float
    swap_seconds: float
    swap_attempts: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Table:
    schema: str
    name: str
    columns: list[tuple[str, str]]  # (name, postgres type)


def _tables(duck: duckdb.DuckDBPyConnection) -> list[_Table]:
    rows = duck.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = 'sv' and table_schema in ('marts', 'ops') "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        where = f"{schema}.{table}.{column}"
        tables.setdefault((schema, table), []).append((column, pg_type(dtype, where)))
    return [_Table(s, t, cols) for (s, t), cols in tables.items()]


def _create_sql(table: _Table) -> sql.Composed:
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in table.columns
    )
    rel = sql.Identifier(table.schema + NEXT, table.name)
    return sql.SQL("create table {} ({})").format(rel, cols)


def _create(cur: psycopg.Cursor, tables: list[_Table]) -> None:
    """Every table in one round trip: per-statement latency, not DDL, is what costs here."""
    cur.execute(sql.SQL("; ").join(_create_sql(t) for t in tables))


def _load(duck: duckdb.DuckDBPyConnection, table: _Table) -> int:
    """DuckDB's postgres extension: binary COPY straight into the pre-created table."""
    src = f'sv."{table.schema}"."{table.name}"'
    dst = f'pg."{table.schema}{NEXT}"."{table.name}"'
    duck.execute(f"insert into {dst} select * from {src}")
    return duck.execute(f"select count(*) from {src}").fetchone()[0]


def _finish(conn: psycopg.Connection, table: _Table, doc: TableDoc | None) -> None:
    """Indexes, ANALYZE (indexed KPI marts only: big facts get autovacuum's) and comments."""
    with conn.cursor() as cur:
        if _index(cur, table):
            rel = sql.Identifier(table.schema + NEXT, table.name)
            cur.execute(sql.SQL("analyze {}").format(rel))
        _comment(cur, table, doc)


def _load_all(
    duck: duckdb.DuckDBPyConnection, url: str, tables: list[_Table], docs: Mapping[str, TableDoc]
) -> dict[str, int]:
    """Load every table; each one's indexes and comments are built on a second connection
    while DuckDB streams the next table (indexed KPI marts go first, so their index builds
    overlap the big facts' COPY instead of queuing after it)."""
    order = sorted(tables, key=lambda t: not index_columns([c for c, _ in t.columns]))
    rows: dict[str, int] = {}
    with (
        psycopg.connect(url, autocommit=True) as side,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pending = []
        for table in order:
            rows[f"{table.schema}.{table.name}"] = _load(duck, table)
            pending.append(pool.submit(_finish, side, table, docs.get(table.name)))
        for job in pending:
            job.result()  # re-raises the first failure
    return rows


def _loader(serving_duckdb: Path, url: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with serving.duckdb (read-only) and the PostgreSQL database attached.

    Measured on the medium chain, the extension's binary COPY beat COPY of DuckDB-written CSV
    through psycopg (no text formatting and parsing of numbers and timestamps).
    """
    duck = duckdb.connect()
    duckdb_extensions.import_extension("postgres", con=duck)
    duck.execute("load postgres")
    duck.execute(f"attach '{_sql_str(str(serving_duckdb))}' as sv (read_only)")
    try:
        duck.execute(f"attach '{_sql_str(url)}' as pg (type postgres)")
    except duckdb.Error as exc:
        # The extension's message may echo the connection string: never let the password out.
        password = unquote(urlsplit(url).password or "")
        message = str(exc).replace(url, mask_url(url))
        message = message.replace(password, "***") if password else message
        duck.close()
        raise PgPublishError(f"cannot connect to {mask_url(url)}: {message}") from None
    return duck


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _comment(cur: psycopg.Cursor, table: _Table, doc: TableDoc | None) -> None:
    """All of one table's comments in one round trip (they are many, and each is tiny)."""
    if doc is None:
        return
    rel = sql.Identifier(table.schema + NEXT, table.name)
    statements = []
    if doc.description:
        statements.append(
            sql.SQL("comment on table {} is {}").format(rel, sql.Literal(doc.description))
        )
    for column, _ in table.columns:
        text = doc.columns.get(column)
        if text:
            col = sql.Identifier(table.schema + NEXT, table.name, column)
            statements.append(sql.SQL("comment on column {} is {}").format(col, sql.Literal(text)))
    if statements:
        cur.execute(sql.SQL("; ").join(statements))


def _index(cur: psycopg.Cursor, table: _Table) -> bool:
    """The BI filter indexes of one table; False when it has none."""
    names = [c for c, _ in table.columns]
    indexes = index_columns(names)
    for i, cols in enumerate(indexes):
        cur.execute(
            sql.SQL("create index {} on {} ({})").format(
                sql.Identifier(f"{table.name[:50]}_bi_{i}"),
                sql.Identifier(table.schema + NEXT, table.name),
                sql.SQL(", ").join(map(sql.Identifier, cols)),
            )
        )
    return bool(indexes)


def _version_table(cur: psycopg.Cursor, version: str) -> _Table:
    table = _Table("ops", "serving_version", [("version", "text"), ("published_at", "timestamptz")])
    _create(cur, [table])
    cur.execute(
        "insert into ops__next.serving_version values (%s, %s)", [version, dt.datetime.now(dt.UTC)]
    )
    return table


#: How long a publish waits for the lock before it is refused: long enough for an `add-reader`
#: (a fraction of a second) to finish, so a night's publish is not failed by an administrator
#: adding a reader at that moment; short, because another publish holds it for minutes.
PUBLISH_LOCK_GRACE_S = 10.0


def _publish_lock(cur: psycopg.Cursor) -> bool:
    """Take the database's publish lock (session level), trying for `PUBLISH_LOCK_GRACE_S`."""
    deadline = time.monotonic() + PUBLISH_LOCK_GRACE_S
    while True:
        cur.execute("select pg_try_advisory_lock(%s)", [_ADVISORY_KEY])
        if cur.fetchone()[0]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def _refuse_tenant_database(cur: psycopg.Cursor) -> None:
    """A database holding tenants' partitioned tables must never be swapped out wholesale, and
    one with tenant logins must not get single-chain tables: the read group's grants would
    let every tenant login read every table of that chain."""
    cur.execute(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'p' and n.nspname = any(%s)",
        [list(SCHEMAS)],
    )
    if cur.fetchone()[0]:
        raise PgPublishError(
            "this database serves tenants (tables partitioned by tenant_id): publishing one "
            "chain without a tenant registry would replace every tenant's data; set "
            "MEDSPA_TENANTS_FILE or point MEDSPA_SERVING_URL at another database"
        )
    logins = pg_roles.registered_tenant_logins(cur)
    if logins:
        raise PgPublishError(
            f"this database has tenant logins ({', '.join(logins)}): publishing one chain "
            "here would let each of them read every table of that chain; nothing was "
            "changed; point MEDSPA_SERVING_URL at another database (or set "
            "MEDSPA_TENANTS_FILE to publish tenants here)"
        )


def publish_postgres(
    serving_duckdb: Path,
    url: str,
    version: str,
    docs: Mapping[str, TableDoc],
    *,
    lock_timeout_s: float = 60.0,
    bi_password: str | None = None,
    roles: pg_roles.ServingRoles = pg_roles.DEFAULT_ROLES,
    log: Callable[[str], None] = lambda _msg: None,
) -> PgPublishResult:
    """Load serving.duckdb's `marts` and `ops` into PostgreSQL at `url` and swap them in."""
    start = time.perf_counter()
    all_docs = {**docs, **OPS_DOCS}
    with (
        masked_errors(url),
        psycopg.connect(url, autocommit=True) as conn,
        readers_time_limit(conn, lock_timeout_s, "the previous data is still served"),
        _loader(serving_duckdb, url) as duck,
    ):
        with conn.cursor() as cur:
            if not _publish_lock(cur):
                raise PgPublishError(
                    "another publish (or add-reader) to this database is running; try again later"
                )
            _refuse_tenant_database(cur)
        notes = pg_roles.ensure_base_roles(conn, bi_password, roles)
        notes += pg_functions.secure(conn, roles.read)
        duck.execute("use sv")
        tables = _tables(duck)
        rows: dict[str, int] = {}
        try:
            with conn.cursor() as cur:
                # Leftovers of a crashed publish, or old tables a reader kept last time.
                drop_schemas(cur, NEXT)
                drop_schemas(cur, OLD)
                for schema in SCHEMAS:
                    cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema + NEXT)))
                _create(cur, tables)
                duck.execute("call pg_clear_cache()")  # the extension must see the new tables
                rows.update(_load_all(duck, url, tables, all_docs))
                version_table = _version_table(cur, version)
                rows["ops.serving_version"] = 1
                _comment(cur, version_table, all_docs.get("serving_version"))
                for schema in SCHEMAS:
                    pg_roles.secure_schema(
                        conn, schema + NEXT, pg_roles.location_tables(conn, schema + NEXT), roles
                    )
            loaded = time.perf_counter()
            with pg_roles.ending_idle_blockers(url, conn, roles) as ended:
                attempts = swap(conn, lock_timeout_s)
            notes += ended
            swap_seconds = time.perf_counter() - loaded
            dropped = drop_old(conn, lock_timeout_s)
            notes += [dropped] if dropped else []
        except BaseException:
            # Past the lock limit the leftovers stay: the next publish drops them first thing.
            with contextlib.suppress(psycopg.errors.LockNotAvailable), conn.cursor() as cur:
                drop_schemas(cur, NEXT)
            raise
    for note in notes:
        log(note)
    return PgPublishResult(
        version, rows, time.perf_counter() - start, swap_seconds, attempts, notes
    )


def served_version(url: str) -> str | None:
    """The version currently served (None before the first publish)."""
    with masked_errors(url), psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('ops.serving_version') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute("select version from ops.serving_version")
        row = cur.fetchone()
        return row[0] if row else None
