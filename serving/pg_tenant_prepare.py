"""The preparation phase of a tenant's publish: advisory locks, roles, parents ready.

Why a phase of its own: it is where tenants publishing at the same time meet. PostgreSQL
refuses concurrent GRANTs on one object ("tuple concurrently updated") and a parent whose
columns change under a running load would make that load's ATTACH fail, so:
- role and grant statements run under a short exclusive advisory lock (`ROLES_KEY`); no
  reader may take any of these locks (`pg_functions`);
- a publish holds the schema lock (`SCHEMA_KEY`) shared from here through its swap, and takes
  it exclusively only to create or widen a parent, waiting at most until its deadline (then
  a clear error) for the other tenants' loads to finish.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import psycopg
from psycopg import sql

from serving import pg_functions, pg_roles, pg_tenant_roles
from serving import pg_tenant_tables as tt
from serving.pg_docs import TENANT_DOC, TableDoc
from serving.pg_swap import PgPublishError, in_short_lock_attempts
from serving.postgres import _Table

#: Advisory lock space of the schema and roles locks (second key: SCHEMA_KEY / ROLES_KEY).
LOCK_SPACE = pg_tenant_roles.LOCK_SPACE
SCHEMA_KEY, ROLES_KEY = pg_tenant_roles.SCHEMA_KEY, pg_tenant_roles.ROLES_KEY


def wait_lock(
    cur: psycopg.Cursor, fn: str, key: int, deadline: float, what: str, space: int = LOCK_SPACE
) -> None:
    """Take an advisory lock, polling until the deadline; then fail naming what waited."""
    while True:
        cur.execute(sql.SQL("select {}(%s, %s)").format(sql.Identifier(fn)), [space, key])
        if cur.fetchone()[0]:
            return
        if time.monotonic() >= deadline:
            raise PgPublishError(
                f"waited too long for {what} (MEDSPA_SERVING_LOCK_TIMEOUT); "
                "the previous data is still served"
            )
        time.sleep(0.1)


def ensure_roles(
    conn: psycopg.Connection,
    bi_password: str | None,
    deadline: float,
    roles: pg_roles.ServingRoles,
) -> list[str]:
    """Groups, schemas and grants, every tenant login's defaults put back, and the functions
    no reader may call (`pg_functions`); returns the note on those functions, if any, and one
    per tenant login dropped outside medspa whose row was forgotten (the base roles' other
    notes are about the BI login, which sees no tenant's rows)."""
    with conn.cursor() as cur:
        wait_lock(cur, "pg_try_advisory_lock", ROLES_KEY, deadline, "another tenant's role setup")
        try:
            forgotten = pg_roles.forget_dropped_tenant_logins(conn)
            pg_roles.ensure_base_roles(conn, bi_password, roles)
            notes = pg_roles.dropped_tenant_login_notes(forgotten)
            notes += pg_functions.secure(conn, roles.read)
            pg_tenant_roles.ensure_groups(cur, roles)
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
                        ident, sql.Identifier(roles.read)
                    )
                )
        finally:
            cur.execute("select pg_advisory_unlock(%s, %s)", [LOCK_SPACE, ROLES_KEY])
    return notes


def _comment(cur: psycopg.Cursor, table: _Table, doc: TableDoc | None) -> None:
    tenant_col = sql.Identifier(table.schema, table.name, tt.TENANT_COLUMN)
    cur.execute(sql.SQL("comment on column {} is {}").format(tenant_col, sql.Literal(TENANT_DOC)))
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
    conn: psycopg.Connection,
    tables: list[_Table],
    docs: Mapping[str, TableDoc],
    deadline: float,
    roles: pg_roles.ServingRoles,
) -> list[str]:
    """Create or widen parents under the exclusive schema lock (waits for running loads)."""
    notes: list[str] = []
    with conn.cursor() as cur:
        wait_lock(
            cur,
            "pg_try_advisory_lock",
            SCHEMA_KEY,
            deadline,
            "other tenants' loads (to change a table)",
        )
        try:

            def change(tx: psycopg.Cursor) -> list[str]:
                made: list[str] = []
                for table in tables:
                    if tt.needs_ddl(tx, table.schema, table.name, table.columns):
                        made += tt.ensure_parent(
                            tx, table.schema, table.name, table.columns, roles
                        )[1]
                        _comment(tx, table, docs.get(table.name))
                return made

            remaining = max(0.1, deadline - time.monotonic())
            notes = in_short_lock_attempts(conn, remaining, change, "changing a served table")
        finally:
            cur.execute("select pg_advisory_unlock(%s, %s)", [LOCK_SPACE, SCHEMA_KEY])
    created = [n for n in notes if n.startswith("created ")]
    summary = [f"created {len(created)} tenant-partitioned table(s)"] if created else []
    return summary + [n for n in notes if not n.startswith("created ")]


def prepare(
    conn: psycopg.Connection,
    tables: list[_Table],
    docs: Mapping[str, TableDoc],
    deadline: float,
    roles: pg_roles.ServingRoles,
) -> tuple[dict[tuple[str, str], list[tuple[str, str]]], list[str]]:
    """Hold the shared schema lock with every parent matching this build; (columns, notes)."""
    notes: list[str] = []
    with conn.cursor() as cur:
        while True:
            wait_lock(
                cur,
                "pg_try_advisory_lock_shared",
                SCHEMA_KEY,
                deadline,
                "another tenant's table change",
            )
            if not any(tt.needs_ddl(cur, t.schema, t.name, t.columns) for t in tables):
                break
            cur.execute("select pg_advisory_unlock_shared(%s, %s)", [LOCK_SPACE, SCHEMA_KEY])
            notes += _change_parents(conn, tables, docs, deadline, roles)
        columns = {}
        for t in tables:
            parent = tt.parent_columns(cur, t.schema, t.name) or []
            missing = tt.drift(t.schema, t.name, parent, t.columns)[1]
            notes += [
                f"{t.schema}.{t.name}: column {c} is no longer built (NULL here)" for c in missing
            ]
            columns[(t.schema, t.name)] = parent
    return columns, notes
