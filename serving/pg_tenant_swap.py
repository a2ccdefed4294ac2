"""A tenant's swap: its fresh partitions in, its old ones out, in one short transaction.

Kept apart from the load because its locking is the subtle part (as `pg_swap` is for the
single-chain layout). Every parent is locked at once, in attempts below the deadlock check,
so when a reader's statement and the swap wait on each other the swap backs off, never the
reader. The old partitions are detached and parked as `_o` inside the swap and dropped after
its commit: unlinking their files inside the swap tripled its time on the small demo.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

from serving import pg_tenant_roles
from serving.pg_swap import attempt_until
from serving.pg_tenant_tables import PARTS_SCHEMA, drop_suffixed, partition_name


def swap_tenant(
    conn: psycopg.Connection,
    tenant: str,
    tables: Sequence[tuple[str, str]],
    lock_timeout_s: float,
    *,
    whole: bool = True,
    keep: frozenset[tuple[str, str]] = frozenset(),
) -> int:
    """Replace `tenant`'s partition of every parent in one transaction; returns attempts.

    `tables` are the parents this build supplies (their `_n` tables are loaded); with `whole`
    the tenant's partitions of other parents (tables it no longer builds) are dropped in the
    same commit, except `keep` (tables published by a later step, e.g. the peer benchmarks);
    without `whole` (that later step's own publish) the tenant's other partitions all stay.
    Parents are locked in one sorted statement, in attempts shorter than the deadlock check,
    so a reader is never the deadlock victim: the swap backs off and retries instead.
    """
    built = set(tables)

    def replace_partitions(cur: psycopg.Cursor) -> None:
        others = set(pg_tenant_roles.tenant_parents(cur)) - keep if whole else set()
        parents = sorted(others | built)
        cur.execute(
            sql.SQL("lock table {} in access exclusive mode").format(
                sql.SQL(", ").join(sql.Identifier(s, t) for s, t in parents)
            )
        )
        # One round trip: the lock is held for the server's work, not our latency.
        cur.execute(
            sql.SQL("; ").join(
                statement
                for schema, table in parents
                for statement in _replace(schema, table, tenant, (schema, table) in built)
            )
        )

    return attempt_until(
        conn,
        lock_timeout_s,
        replace_partitions,
        lambda attempts: (
            f"readers held the served tables for more than {lock_timeout_s:g} s "
            f"({attempts} swap attempts); tenant {tenant}'s previous data is still served"
        ),
    )[1]


def _replace(schema: str, table: str, tenant: str, fresh: bool) -> list[sql.Composed]:
    """Statements swapping one parent's partition of `tenant`: detach the live one and park it
    as `_o` (dropped after the commit: unlinking files inside the swap tripled its time), then
    rename the fresh table in and attach it."""
    live = partition_name(schema, table, tenant)
    parent, old = sql.Identifier(schema, table), sql.Identifier(PARTS_SCHEMA, live)
    statements = [
        sql.SQL(
            "do $$ begin if to_regclass({}) is not null then "
            "alter table {} detach partition {}; alter table {} rename to {}; end if; end $$"
        ).format(
            sql.Literal(f'"{PARTS_SCHEMA}"."{live}"'),
            parent,
            old,
            old,
            sql.Identifier(live + "_o"),
        )
    ]
    if fresh:
        statements += [
            sql.SQL("alter table {} rename to {}").format(
                sql.Identifier(PARTS_SCHEMA, live + "_n"), sql.Identifier(live)
            ),
            sql.SQL("alter table {} attach partition {} for values in ({})").format(
                parent, old, sql.Literal(tenant)
            ),
        ]
    return statements


def drop_parked(conn: psycopg.Connection, tenant: str, lock_timeout_s: float) -> str | None:
    """Drop `tenant`'s detached `_o` tables after the swap committed (no reader can reach them:
    they are no partition any more and nobody has grants). Returns a note when a lock held
    them past the timeout; the next publish of the tenant drops them first thing."""
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                sql.SQL("set local lock_timeout = {}").format(
                    sql.Literal(f"{int(lock_timeout_s * 1000)}ms")
                )
            )
            drop_suffixed(cur, tenant, "_o")
    except psycopg.errors.LockNotAvailable:
        return (
            f"tenant {tenant}'s previous partitions are still locked: its next publish drops them"
        )
    return None
