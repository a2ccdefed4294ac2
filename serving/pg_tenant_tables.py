"""Tenant-partitioned served tables: parents, schema drift, a tenant's fresh partitions.

Layout: each served table `marts.<t>` / `ops.<t>` is a parent `PARTITION BY LIST (tenant_id)`
(first column, `text not null`); one tenant's rows are one partition in `medspa_parts`, a
schema no reader may use. Partition names are `<schema initial>_<table, cut>_<hash>` with a
hash of schema, table and tenant, so they stay under PostgreSQL's 63-byte limit and unique.

A tenant's publish loads a fresh table `<partition>_n` with `CHECK (tenant_id = '<tenant>')`
(ATTACH then needs no scan) and the parent's indexes (ATTACH adopts them instead of building
them under the lock). One short transaction then locks the parents, detaches the tenant's
old partitions (parked as `_o`, dropped after the commit), renames the fresh tables in and
attaches them. Readers of the tenant see its old rows or its new rows; other tenants'
partitions are not touched at all.

Schema drift (the parent's columns differ from this build's, e.g. after an upgrade):
- a column the build has and the parent lacks is added to the parent (nullable, metadata
  only): other tenants read NULL there until they publish again;
- a column the parent has and the build lacks stays; this tenant's rows hold NULL there;
- a column whose type changed is refused (`PgSchemaDrift`) with the way out: drop the parent
  as the owner and publish every tenant again. Converting other tenants' data silently is
  not something a publish should decide.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import psycopg
from psycopg import sql

from serving import pg_tenant_roles
from serving.pg_roles import ServingRoles
from serving.pg_swap import PgPublishError
from serving.pg_types import index_columns

PARTS_SCHEMA = "medspa_parts"
TENANT_COLUMN = "tenant_id"
#: `format_type` spellings of the types `pg_types.pg_type` writes in short form.
_CANONICAL = {
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "time": "time without time zone",
}


class PgSchemaDrift(PgPublishError):
    """A served table's column changed type: a rebuild must be chosen deliberately."""


def partition_name(schema: str, table: str, tenant: str) -> str:
    digest = hashlib.sha256(f"{schema}.{table}\0{tenant}".encode()).hexdigest()[:12]
    return f"{schema[0]}_{table[:40]}_{digest}"


def _canonical(pg_type: str) -> str:
    return _CANONICAL.get(pg_type, pg_type)


def parent_columns(cur: psycopg.Cursor, schema: str, table: str) -> list[tuple[str, str]] | None:
    """The parent's columns (name, format_type), None when absent; refuses a plain table."""
    cur.execute(
        "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s",
        [schema, table],
    )
    row = cur.fetchone()
    if row is None:
        return None
    if row[0] != "p":
        raise PgPublishError(
            f"{schema}.{table} exists but is not partitioned by tenant: this database was "
            "published without a tenant registry. Publish tenants into a fresh database (or "
            "drop the schemas marts and ops as the owner first)"
        )
    cur.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute "
        "where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
        [f'"{schema}"."{table}"'],
    )
    return [(n, t) for n, t in cur.fetchall()]


def drift(
    schema: str, table: str, parent: list[tuple[str, str]], built: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(columns to add to the parent, columns this tenant will leave NULL); raises on a type
    change, naming table and columns (never a value)."""
    if any(c == TENANT_COLUMN for c, _ in built):
        raise PgPublishError(
            f"{schema}.{table} has its own {TENANT_COLUMN} column: the tenant column is added "
            "by the publish; rename the model's column"
        )
    have = dict(parent)
    changed = [
        f"{c} ({have[c]} -> {_canonical(t)})"
        for c, t in built
        if c in have and have[c] != _canonical(t)
    ]
    if changed:
        raise PgSchemaDrift(
            f"{schema}.{table}: column type changed since the served table was created: "
            f"{', '.join(changed)}. Other tenants' rows still have the old type. To rebuild, "
            f"drop the table as the owner (`drop table {schema}.{table}`: every tenant's rows "
            "of it go) and publish every tenant again"
        )
    names = {c for c, _ in built}
    added = [(c, t) for c, t in built if c not in have]
    missing = [c for c, _ in parent if c not in names and c != TENANT_COLUMN]
    return added, missing


def ensure_parent(
    cur: psycopg.Cursor,
    schema: str,
    table: str,
    built: list[tuple[str, str]],
    roles: ServingRoles,
) -> tuple[list[tuple[str, str]], list[str]]:
    """Create the parent or apply additive drift; (final columns, notes). Caller holds the
    exclusive schema lock and a lock timeout."""
    parent = parent_columns(cur, schema, table)
    rel = sql.Identifier(schema, table)
    if parent is None:
        cols = [(TENANT_COLUMN, "text not null"), *built]
        cur.execute(
            sql.SQL("create table {} ({}) partition by list ({})").format(
                rel,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in cols
                ),
                sql.Identifier(TENANT_COLUMN),
            )
        )
        for i, index in enumerate(index_columns([c for c, _ in built])):
            cur.execute(
                sql.SQL("create index {} on {} ({})").format(
                    sql.Identifier(f"{table[:50]}_bi_{i}"),
                    rel,
                    sql.SQL(", ").join(map(sql.Identifier, index)),
                )
            )
        pg_tenant_roles.secure_parent(cur, schema, table, pg_tenant_roles.tenant_logins(cur), roles)
        return parent_columns(cur, schema, table) or [], [f"created {schema}.{table}"]
    added, missing = drift(schema, table, parent, built)
    for column, pg_type in added:
        cur.execute(
            sql.SQL("alter table {} add column {} {}").format(
                rel, sql.Identifier(column), sql.SQL(pg_type)
            )
        )
    notes = [
        f"{schema}.{table}: added column {c} (NULL for other tenants until they publish)"
        for c, _ in added
    ]
    notes += [
        f"{schema}.{table}: column {c} is no longer built (NULL for this tenant)" for c in missing
    ]
    return (parent_columns(cur, schema, table) or []) if added else parent, notes


def needs_ddl(cur: psycopg.Cursor, schema: str, table: str, built: list[tuple[str, str]]) -> bool:
    """Whether this build needs the parent created or widened (read-only check)."""
    parent = parent_columns(cur, schema, table)
    return parent is None or bool(drift(schema, table, parent, built)[0])


def create_fresh(
    cur: psycopg.Cursor, schema: str, table: str, tenant: str, columns: Sequence[tuple[str, str]]
) -> str:
    """The empty `<partition>_n` table of one tenant, shaped exactly like the parent."""
    fresh = partition_name(schema, table, tenant) + "_n"
    rel = sql.Identifier(PARTS_SCHEMA, fresh)
    cur.execute(sql.SQL("drop table if exists {}").format(rel))
    cols = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(c), sql.SQL(t), sql.SQL(" not null" if c == TENANT_COLUMN else "")
        )
        for c, t in columns
    ]
    check = sql.SQL("constraint tenant_only check ({} = {})").format(
        sql.Identifier(TENANT_COLUMN), sql.Literal(tenant)
    )
    cur.execute(sql.SQL("create table {} ({}, {})").format(rel, sql.SQL(", ").join(cols), check))
    # Default deny even for someone who got a grant by mistake: rows only through the parent.
    cur.execute(sql.SQL("alter table {} enable row level security").format(rel))
    return fresh


def index_fresh(cur: psycopg.Cursor, fresh: str, columns: Sequence[str]) -> bool:
    """The parent's indexes on the fresh table, so ATTACH adopts them; False when none."""
    rel = sql.Identifier(PARTS_SCHEMA, fresh)
    indexes = index_columns([c for c in columns if c != TENANT_COLUMN])
    for i, index in enumerate(indexes):
        # Named here, not by PostgreSQL: its generated name keeps the start of the table name
        # and cuts the tenant's digest off, so two tenants publishing at once pick the same
        # name and one fails on pg_class's unique index (the name is only deduplicated
        # against committed indexes). A random tail never meets another publish's.
        name = f"{fresh[:40]}_{i}_{secrets.token_hex(4)}"
        cur.execute(
            sql.SQL("create index {} on {} ({})").format(
                sql.Identifier(name), rel, sql.SQL(", ").join(map(sql.Identifier, index))
            )
        )
    if indexes:
        cur.execute(sql.SQL("analyze {}").format(rel))
    return bool(indexes)


def drop_fresh(cur: psycopg.Cursor, tenant: str) -> None:
    """Remove this tenant's unswapped `_n` and parked `_o` tables (a failed or crashed
    publish's leftovers)."""
    drop_suffixed(cur, tenant, "_n")
    drop_suffixed(cur, tenant, "_o")


def drop_suffixed(cur: psycopg.Cursor, tenant: str, suffix: str) -> None:
    names = [
        partition_name(schema, table, tenant) + suffix
        for schema, table in pg_tenant_roles.tenant_parents(cur)
    ]
    if names:
        cur.execute(
            sql.SQL("drop table if exists {}").format(
                sql.SQL(", ").join(sql.Identifier(PARTS_SCHEMA, n) for n in names)
            )
        )
