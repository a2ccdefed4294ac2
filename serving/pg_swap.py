"""The atomic swap of freshly loaded schemas for the served ones, and the old ones' removal.

Kept apart from the load because its locking is the subtle part. One transaction locks every
served table (ACCESS EXCLUSIVE), renames `marts`/`ops` -> `__old` and `__next` -> live, and
commits; readers blocked meanwhile re-resolve their table names to the new tables. Locks are
taken in short attempts (below PostgreSQL's 1 s deadlock check), so when a reader's statement
and the swap wait on each other it is always the swap that backs off and retries, never the
reader that fails. The old tables are dropped after the commit, the same way.
Every other statement of a publish waits for readers' locks at most `lock_timeout_s` too
(`readers_time_limit`), so no reader can hold a publish up beyond the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from psycopg import sql

SCHEMAS = ("marts", "ops")
NEXT, OLD = "__next", "__old"
#: One lock attempt's wait; below PostgreSQL's default deadlock_timeout (1 s).
ATTEMPT_S = 0.5
T = TypeVar("T")


class PgPublishError(RuntimeError):
    """The PostgreSQL publish did not complete; the previously served data is untouched."""


@contextmanager
def readers_time_limit(
    conn: psycopg.Connection, lock_timeout_s: float, still_served: str
) -> Iterator[None]:
    """A session `lock_timeout` of `lock_timeout_s` on the publish's connection, and its expiry
    as a clear PgPublishError (`still_served` says what readers keep seeing).

    The swap and the old tables' drop wait in their own short attempts (`set local` overrides
    the session value inside their transactions); this bounds every other wait, e.g. dropping
    a crashed publish's leftovers that a reader still has open.
    """
    limit = sql.Literal(f"{max(1, int(lock_timeout_s * 1000))}ms")  # 0 would mean no limit
    conn.execute(sql.SQL("set lock_timeout = {}").format(limit))
    try:
        yield
    except psycopg.errors.LockNotAvailable as exc:
        raise PgPublishError(
            f"readers held the served tables for more than {lock_timeout_s:g} s "
            f"(MEDSPA_SERVING_LOCK_TIMEOUT); {still_served}"
        ) from exc


def drop_schemas(cur: psycopg.Cursor, suffix: str) -> None:
    for schema in SCHEMAS:
        cur.execute(
            sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema + suffix))
        )


def swap(conn: psycopg.Connection, lock_timeout_s: float) -> int:
    """Rename `__next` in for the live schemas in one transaction; returns attempts used."""

    def rename(cur: psycopg.Cursor) -> None:
        cur.execute(
            "select format('%%I.%%I', schemaname, tablename) from pg_tables "
            "where schemaname = any(%s)",
            [list(SCHEMAS)],
        )
        live = [r for (r,) in cur.fetchall()]
        if live:
            cur.execute(f"lock table {', '.join(live)} in access exclusive mode")
        for schema in SCHEMAS:
            cur.execute("select to_regnamespace(%s) is not null", [schema])
            if cur.fetchone()[0]:
                cur.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(schema), sql.Identifier(schema + OLD)
                    )
                )
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(schema + NEXT), sql.Identifier(schema)
                )
            )

    return attempt_until(
        conn,
        lock_timeout_s,
        rename,
        lambda attempts: (
            f"readers held the served tables for more than {lock_timeout_s:g} s "
            f"({attempts} swap attempts); the previous data is still served"
        ),
    )[1]


def drop_old(conn: psycopg.Connection, lock_timeout_s: float) -> str | None:
    """Drop the swapped-out tables after the swap committed (readers no longer wait on it).

    Short lock attempts like the swap's, so a reader is never the deadlock victim. Only a
    transaction that began before the swap can still hold the old tables; if it outlasts
    the timeout, the `__old` schemas stay until the next publish drops them first thing.
    """
    deadline = time.monotonic() + lock_timeout_s
    while True:
        wait = sql.Literal(f"{int(ATTEMPT_S * 1000)}ms")
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(sql.SQL("set local lock_timeout = {}").format(wait))
                drop_schemas(cur, OLD)
            return None
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            if time.monotonic() >= deadline:
                return "a reader still held the previous tables: the next publish drops them"
            time.sleep(0.05)


def attempt_until(
    conn: psycopg.Connection,
    lock_timeout_s: float,
    work: Callable[[psycopg.Cursor], T],
    failure: Callable[[int], str],
) -> tuple[T, int]:
    """Run `work` in one transaction whose lock waits are attempts below the deadlock check,
    retried until `lock_timeout_s`; (its result, attempts used). DDL that must lock served
    tables (a swap, a new column, a new policy) then backs off instead of making a reader the
    deadlock victim, and never leaves readers queued behind it for long. Past the deadline,
    PgPublishError(failure(attempts))."""
    deadline = time.monotonic() + lock_timeout_s
    attempts = 0
    while True:
        attempts += 1
        wait_ms = max(50, int(min(ATTEMPT_S, deadline - time.monotonic()) * 1000))
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    sql.SQL("set local lock_timeout = {}").format(sql.Literal(f"{wait_ms}ms"))
                )
                return work(cur), attempts
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
            if time.monotonic() >= deadline:
                raise PgPublishError(failure(attempts)) from exc
            time.sleep(0.05)


def in_short_lock_attempts(
    conn: psycopg.Connection, lock_timeout_s: float, work: Callable[[psycopg.Cursor], T], what: str
) -> T:
    """`attempt_until` for DDL beside a publish (`what` names it in the error)."""
    return attempt_until(
        conn,
        lock_timeout_s,
        work,
        lambda attempts: (
            f"readers held the served tables for more than {lock_timeout_s:g} s "
            f"({attempts} attempts) while {what}; nothing was changed"
        ),
    )[0]
