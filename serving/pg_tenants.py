"""Publish one tenant's audited serving.duckdb into the consolidated PostgreSQL database.

With a tenant registry every tenant publishes into the ONE database at `MEDSPA_SERVING_URL`;
every served table carries `tenant_id` and is partitioned by it (`serving.pg_tenant_tables`),
and row-level security shows each tenant's login its own rows (`serving.pg_tenant_roles`).
A publish replaces only its tenant's partitions, in one short swap; other tenants' rows are
never written.

Concurrency (the run queue runs two tenants at once):
- one publish per tenant: a session advisory lock keyed on the tenant; a second publish of
  the same tenant is refused at once (the queue never starts one; a manual run gets a clear
  error instead of an interleaving);
- different tenants run side by side: they share the schema lock while they load and swap;
  only a publish that must create or widen a parent takes it exclusively, waiting (at most
  `lock_timeout_s`, then a clear error) until running loads finish, so no tenant ever loads
  against a parent whose columns change under it;
- role and grant statements (`ensure_base_roles`), which PostgreSQL refuses to run
  concurrently on one object, are serialised by a short exclusive lock.
The swaps of two tenants each lock every parent for milliseconds; they queue behind each other.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping

import duckdb
import psycopg
from psycopg import sql

from safeio.sqlquote import quote_ident, sql_str
from serving import pg_roles, pg_tenant_roles
from serving import pg_tenant_tables as tt
from serving.pg_docs import OPS_DOCS, TableDoc
from serving.pg_swap import PgPublishError
from serving.postgres import PgPublishResult, _loader, _Table, _tables

_TENANT_LOCK = 748_213_912  # (this, hashtext(tenant)): one publish per tenant
_SHARED_LOCK = 748_213_913  # (this, 0): schema lock; (this, 1): roles and grants
VERSION = _Table("ops", "serving_version", [("version", "text"), ("published_at", "timestamptz")])


def _wait(cur: psycopg.Cursor, fn: str, key: int, deadline: float, what: str) -> None:
    """Take an advisory lock, polling until the deadline; then fail naming what waited."""
    while True:
        cur.execute(sql.SQL("select {}(%s, %s)").format(sql.Identifier(fn)), [_SHARED_LOCK, key])
        if cur.fetchone()[0]:
            return
        if time.monotonic() >= deadline:
            raise PgPublishError(
                f"waited too long for {what} (MEDSPA_SERVING_LOCK_TIMEOUT); "
                "the previous data is still served"
            )
        time.sleep(0.1)


def _ensure_roles(conn: psycopg.Connection, bi_password: str | None, deadline: float) -> list[str]:
    with conn.cursor() as cur:
        _wait(cur, "pg_try_advisory_lock", 1, deadline, "another tenant's role setup")
        try:
            notes = pg_roles.ensure_base_roles(conn, bi_password)
            pg_tenant_roles.ensure_groups(cur)
            cur.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(tt.PARTS_SCHEMA))
            )
            cur.execute(
                sql.SQL("revoke all on schema {} from public").format(
                    sql.Identifier(tt.PARTS_SCHEMA)
                )
            )
            for schema in ("marts", "ops"):
                ident = sql.Identifier(schema)
                cur.execute(sql.SQL("create schema if not exists {}").format(ident))
                cur.execute(sql.SQL("revoke all on schema {} from public").format(ident))
                cur.execute(
                    sql.SQL("grant usage on schema {} to {}").format(
                        ident, sql.Identifier(pg_roles.READ_GROUP)
                    )
                )
        finally:
            cur.execute("select pg_advisory_unlock(%s, 1)", [_SHARED_LOCK])
    return notes


def _comment(cur: psycopg.Cursor, table: _Table, doc: TableDoc | None) -> None:
    if doc is None:
        return
    rel = sql.Identifier(table.schema, table.name)
    if doc.description:
        cur.execute(sql.SQL("comment on table {} is {}").format(rel, sql.Literal(doc.description)))
    for column, _ in table.columns:
        if doc.columns.get(column):
            col = sql.Identifier(table.schema, table.name, column)
            cur.execute(
                sql.SQL("comment on column {} is {}").format(col, sql.Literal(doc.columns[column]))
            )


def _change_parents(
    conn: psycopg.Connection, tables: list[_Table], docs: Mapping[str, TableDoc], deadline: float
) -> list[str]:
    """Create or widen parents under the exclusive schema lock (waits for running loads)."""
    notes: list[str] = []
    with conn.cursor() as cur:
        _wait(cur, "pg_try_advisory_lock", 0, deadline, "other tenants' loads (to change a table)")
        try:
            with conn.transaction():
                remaining = max(1, int((deadline - time.monotonic()) * 1000))
                cur.execute(
                    sql.SQL("set local lock_timeout = {}").format(sql.Literal(f"{remaining}ms"))
                )
                for table in tables:
                    if tt.needs_ddl(cur, table.schema, table.name, table.columns):
                        _, made = tt.ensure_parent(cur, table.schema, table.name, table.columns)
                        _comment(cur, table, docs.get(table.name))
                        notes += made
        except psycopg.errors.LockNotAvailable as exc:
            raise PgPublishError(
                "readers held a served table too long to change its columns; "
                "the previous data is still served"
            ) from exc
        finally:
            cur.execute("select pg_advisory_unlock(%s, 0)", [_SHARED_LOCK])
    return notes


def _prepare(
    conn: psycopg.Connection, tables: list[_Table], docs: Mapping[str, TableDoc], deadline: float
) -> tuple[dict[tuple[str, str], list[tuple[str, str]]], list[str]]:
    """Hold the shared schema lock with every parent matching this build; (columns, notes)."""
    notes: list[str] = []
    with conn.cursor() as cur:
        while True:
            _wait(cur, "pg_try_advisory_lock_shared", 0, deadline, "another tenant's table change")
            if not any(tt.needs_ddl(cur, t.schema, t.name, t.columns) for t in tables):
                break
            cur.execute("select pg_advisory_unlock_shared(%s, 0)", [_SHARED_LOCK])
            notes += _change_parents(conn, tables, docs, deadline)
        columns = {}
        for t in tables:
            parent = tt.parent_columns(cur, t.schema, t.name) or []
            missing = tt.drift(t.schema, t.name, parent, t.columns)[1]
            notes += [
                f"{t.schema}.{t.name}: column {c} is no longer built (NULL here)" for c in missing
            ]
            columns[(t.schema, t.name)] = parent
    return columns, notes


def _load_table(
    duck: duckdb.DuckDBPyConnection, cur: psycopg.Cursor, tenant: str, table: _Table, fresh: str
) -> int:
    """Binary COPY (DuckDB's postgres extension) of one table into the tenant's fresh table."""
    names = [c for c, _ in table.columns]
    target = ", ".join(map(quote_ident, [tt.TENANT_COLUMN, *names]))
    source = ", ".join([sql_str(tenant), *map(quote_ident, names)])
    src = f"sv.{quote_ident(table.schema)}.{quote_ident(table.name)}"
    duck.execute(
        f"insert into pg.{quote_ident(tt.PARTS_SCHEMA)}.{quote_ident(fresh)} ({target}) "
        f"select {source} from {src}"
    )
    tt.index_fresh(cur, fresh, names)
    return duck.execute(f"select count(*) from {src}").fetchone()[0]


def _load(
    conn: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    tenant: str,
    version: str,
    tables: list[_Table],
    columns: Mapping[tuple[str, str], list[tuple[str, str]]],
) -> dict[str, int]:
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        fresh = {
            (t.schema, t.name): tt.create_fresh(
                cur, t.schema, t.name, tenant, columns[(t.schema, t.name)]
            )
            for t in tables
        }
        duck.execute("call pg_clear_cache()")  # the extension must see the new tables
        for table in tables:
            name = fresh[(table.schema, table.name)]
            if table is VERSION:
                cur.execute(
                    sql.SQL(
                        "insert into {} (tenant_id, version, published_at) values (%s, %s, %s)"
                    ).format(sql.Identifier(tt.PARTS_SCHEMA, name)),
                    [tenant, version, dt.datetime.now(dt.UTC)],
                )
                rows["ops.serving_version"] = 1
            else:
                rows[f"{table.schema}.{table.name}"] = _load_table(duck, cur, tenant, table, name)
    return rows


def _refuse_single_chain_database(cur: psycopg.Cursor) -> None:
    """Plain served tables mean a single-chain database: tenants never publish over it."""
    cur.execute(
        "select n.nspname, c.relname from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'r' and n.nspname in ('marts', 'ops') limit 1"
    )
    row = cur.fetchone()
    if row is not None:
        tt.parent_columns(cur, row[0], row[1])  # raises, naming the table


def publish_tenant_postgres(
    serving_duckdb,
    url: str,
    tenant: str,
    version: str,
    docs: Mapping[str, TableDoc],
    *,
    lock_timeout_s: float = 60.0,
    bi_password: str | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> PgPublishResult:
    """Replace `tenant`'s rows of every served table with this serving.duckdb's, atomically."""
    pg_tenant_roles.check_tenant(tenant)
    start = time.perf_counter()
    deadline = time.monotonic() + lock_timeout_s
    all_docs = {**docs, **OPS_DOCS}
    with psycopg.connect(url, autocommit=True) as conn, _loader(serving_duckdb, url) as duck:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s, hashtext(%s))", [_TENANT_LOCK, tenant])
            if not cur.fetchone()[0]:
                raise PgPublishError(
                    f"another publish of tenant {tenant} is running; try again later"
                )
        with conn.cursor() as cur:
            _refuse_single_chain_database(cur)
        notes = _ensure_roles(conn, bi_password, deadline)
        duck.execute("use sv")
        tables = [*_tables(duck), VERSION]
        columns, drift_notes = _prepare(conn, tables, all_docs, deadline)
        notes += drift_notes
        try:
            rows = _load(conn, duck, tenant, version, tables, columns)
            loaded = time.perf_counter()
            attempts = tt.swap_tenant(
                conn, tenant, [(t.schema, t.name) for t in tables], lock_timeout_s
            )
            swap_seconds = time.perf_counter() - loaded
        except BaseException:
            if not conn.closed:
                with conn.cursor() as cur:
                    tt.drop_fresh(cur, tenant)
            raise
    for note in notes:
        log(note)
    return PgPublishResult(
        version, rows, time.perf_counter() - start, swap_seconds, attempts, notes
    )


def served_versions(url: str) -> dict[str, str]:
    """tenant -> the version PostgreSQL serves for it (empty before any tenant publish)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('ops.serving_version') is not null")
        if not cur.fetchone()[0]:
            return {}
        cur.execute(
            "select count(*) from information_schema.columns where table_schema = 'ops' "
            "and table_name = 'serving_version' and column_name = %s",
            [tt.TENANT_COLUMN],
        )
        if not cur.fetchone()[0]:
            return {}
        cur.execute("select tenant_id, version from ops.serving_version")
        return dict(cur.fetchall())
