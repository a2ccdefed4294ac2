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
  concurrently on one object, are serialised by a short exclusive lock;
- no statement waits for a reader's lock longer than `lock_timeout_s` (a session
  `lock_timeout`; the swap's own attempts are shorter still).
The swaps of two tenants each lock every parent for milliseconds; they queue behind each other.
Locks and the preparation phase: `serving.pg_tenant_prepare`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from safeio.sqlquote import quote_ident, sql_str
from serving import pg_roles, pg_tenant_roles, pg_tenant_swap
from serving import pg_tenant_prepare as prep
from serving import pg_tenant_tables as tt
from serving.pg_docs import BENCHMARK_DOCS, OPS_DOCS, TableDoc
from serving.pg_roles import DEFAULT_ROLES, ServingRoles
from serving.pg_swap import PgPublishError, readers_time_limit
from serving.pg_types import pg_type
from serving.pg_url import masked_errors
from serving.postgres import PgPublishResult, _loader, _Table, _tables

TENANT_LOCK = 748_213_912  # (this, hashtext(tenant)): one publish per tenant
VERSION = _Table("ops", "serving_version", [("version", "text"), ("published_at", "timestamptz")])
#: The peer benchmarks' table, in each tenant's `peer_benchmarks.duckdb` and in `marts`.
BENCHMARKS = "kpi_benchmarks"


def _load_table(
    duck: duckdb.DuckDBPyConnection,
    cur: psycopg.Cursor,
    tenant: str,
    table: _Table,
    fresh: str,
    source_schema: str | None,
) -> int:
    """Binary COPY (DuckDB's postgres extension) of one table into the tenant's fresh table;
    read from the source file's table of the same name (in `source_schema` if given)."""
    names = [c for c, _ in table.columns]
    target = ", ".join(map(quote_ident, [tt.TENANT_COLUMN, *names]))
    source = ", ".join([sql_str(tenant), *map(quote_ident, names)])
    src = f"sv.{quote_ident(source_schema or table.schema)}.{quote_ident(table.name)}"
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
    source_schema: str | None = None,
) -> dict[str, int]:
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        tt.drop_fresh(cur, tenant)  # a crashed publish's leftovers, under the tenant's lock
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
                rows[f"{table.schema}.{table.name}"] = _load_table(
                    duck, cur, tenant, table, name, source_schema
                )
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


def _publish(
    source_duckdb: Path,
    url: str,
    tenant: str,
    version: str,
    tables_of: Callable[[duckdb.DuckDBPyConnection], list[_Table]],
    docs: Mapping[str, TableDoc],
    *,
    lock_timeout_s: float,
    bi_password: str | None,
    whole: bool,
    roles: ServingRoles,
    source_schema: str | None = None,
) -> PgPublishResult:
    """Load `tables_of(duck)` as `tenant`'s fresh partitions and swap them in. `whole`: the
    tenant's full serving set (its partitions of other tables go); else only these tables."""
    pg_tenant_roles.check_tenant(tenant)
    start = time.perf_counter()
    deadline = time.monotonic() + lock_timeout_s
    with (
        masked_errors(url),
        psycopg.connect(url, autocommit=True) as conn,
        readers_time_limit(
            conn, lock_timeout_s, f"tenant {tenant}'s previous data is still served"
        ),
        _loader(source_duckdb, url) as duck,
    ):
        with conn.cursor() as cur:
            if whole:
                cur.execute("select pg_try_advisory_lock(%s, hashtext(%s))", [TENANT_LOCK, tenant])
                if not cur.fetchone()[0]:
                    raise PgPublishError(
                        f"another publish of tenant {tenant} is running; try again later"
                    )
            else:  # an add-on publish waits for the tenant's own run to finish its swap
                cur.execute("select hashtext(%s)", [tenant])
                key = cur.fetchone()[0]
                prep.wait_lock(
                    cur, "pg_try_advisory_lock", key, deadline, "the tenant's publish", TENANT_LOCK
                )
            _refuse_single_chain_database(cur)
        notes = prep.ensure_roles(conn, bi_password, deadline, roles)
        duck.execute("use sv")
        tables = tables_of(duck)
        columns, drift_notes = prep.prepare(conn, tables, docs, deadline, roles)
        notes += drift_notes
        try:
            rows = _load(conn, duck, tenant, version, tables, columns, source_schema)
            loaded = time.perf_counter()
            # Another tenant's login idle in a transaction on a parent blocks this swap too.
            with pg_roles.ending_idle_blockers(url, conn, roles) as ended:
                attempts = pg_tenant_swap.swap_tenant(
                    conn,
                    tenant,
                    [(t.schema, t.name) for t in tables],
                    lock_timeout_s,
                    whole=whole,
                    keep=frozenset({("marts", BENCHMARKS)}),
                )
            notes += ended
            swap_seconds = time.perf_counter() - loaded
            parked = pg_tenant_swap.drop_parked(conn, tenant, lock_timeout_s)
            notes += [parked] if parked else []
        except BaseException:
            if not conn.closed:
                with conn.cursor() as cur:
                    tt.drop_fresh(cur, tenant)
            raise
    return PgPublishResult(
        version, rows, time.perf_counter() - start, swap_seconds, attempts, notes
    )


def publish_tenant_postgres(
    serving_duckdb: Path,
    url: str,
    tenant: str,
    version: str,
    docs: Mapping[str, TableDoc],
    *,
    lock_timeout_s: float = 60.0,
    bi_password: str | None = None,
    roles: ServingRoles = DEFAULT_ROLES,
    log: Callable[[str], None] = lambda _msg: None,
) -> PgPublishResult:
    """Replace `tenant`'s rows of every served table with this serving.duckdb's, atomically."""
    result = _publish(
        serving_duckdb,
        url,
        tenant,
        version,
        lambda duck: [*_tables(duck), VERSION],
        {**docs, **OPS_DOCS},
        lock_timeout_s=lock_timeout_s,
        bi_password=bi_password,
        whole=True,
        roles=roles,
    )
    for note in result.notes:
        log(note)
    return result


def publish_tenant_benchmarks(
    benchmarks_duckdb: Path,
    url: str,
    tenant: str,
    docs: Mapping[str, TableDoc],
    *,
    lock_timeout_s: float = 60.0,
    roles: ServingRoles = DEFAULT_ROLES,
) -> PgPublishResult:
    """Serve one tenant's `peer_benchmarks.duckdb` as its rows of `marts.kpi_benchmarks`.

    For the peer-benchmarks step, after it wrote each tenant's file: the same partition swap
    and row-level security as the marts (a tenant's login sees its own benchmark rows, which
    hold the peers' percentiles and its own rank only). Touches no other table; waits for the
    tenant's own publish if one is running.
    """

    def tables_of(duck: duckdb.DuckDBPyConnection) -> list[_Table]:
        rows = duck.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = 'sv' and table_schema = 'main' and table_name = ? "
            "order by ordinal_position",
            [BENCHMARKS],
        ).fetchall()
        if not rows:
            raise PgPublishError(f"{benchmarks_duckdb.name} holds no {BENCHMARKS} table")
        return [
            _Table("marts", BENCHMARKS, [(c, pg_type(t, f"{BENCHMARKS}.{c}")) for c, t in rows])
        ]

    return _publish(
        benchmarks_duckdb,
        url,
        tenant,
        "",
        tables_of,
        {**docs, **BENCHMARK_DOCS},
        lock_timeout_s=lock_timeout_s,
        bi_password=None,
        whole=False,
        roles=roles,
        source_schema="main",
    )


def served_versions(url: str) -> dict[str, str]:
    """tenant -> the version PostgreSQL serves for it (empty before any tenant publish)."""
    with masked_errors(url), psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
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
