"""Server functions no reader may call in the serving database: advisory locks, large objects.

PostgreSQL lets every role (PUBLIC) execute both families, and both reach past our grants:
- The publishes serialise themselves with advisory locks of fixed keys (the single-chain
  publish lock, one lock per tenant, the tenant publishes' schema and roles locks). A reader
  that takes one and sits idle stops every publish that lock guards. Secret keys would not
  help: `pg_locks` shows every held advisory lock's key to every login.
- Large objects are stored by whoever may execute `lo_create` & co., owned by that reader and
  kept after it logs out: a write, although a reader has no grant on any table (the
  read-only default is only a default a session may `set` off).

Function privileges live in each database's `pg_proc`, so revoking them from PUBLIC here
changes nothing in any other database of the server; the owner role that publishes (and runs
`add-reader`) gets the lock functions back by a grant. Only a superuser (the functions'
owner) may change them, hence where this runs:
- `pg_roles.bootstrap_sql`, the superuser's script of `serving pg-start` (`make pg`) and of
  the tests' databases, revokes them at every start: the local cluster always has it, one made
  before this rule too;
- every publish checks (`secure`), because a database may be recreated or restored and an
  external server has no `pg-start`: a superuser publisher revokes them itself, any other gets
  one note naming the SQL a superuser must run once (`revoke_sql`); `add-reader` prints the
  same note (`exposure_notes`, a check only).
"""

from __future__ import annotations

import psycopg

from safeio.sqlquote import quote_ident

_LOCKS = (
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
)
#: Every function that takes an advisory lock, in both overloads (the unlock functions only
#: release the caller's own locks and stay open).
LOCK_FUNCTIONS = tuple(f"{name}({args})" for name in _LOCKS for args in ("bigint", "int, int"))
#: Every function that creates, writes or removes a large object (or a server file from one).
#: Reading needs no revoke: a reader cannot create one, and may open none it does not own.
LARGE_OBJECT_FUNCTIONS = (
    "lo_creat(int)",
    "lo_create(oid)",
    "lo_from_bytea(oid, bytea)",
    "lo_import(text)",
    "lo_import(text, oid)",
    "lo_put(oid, bigint, bytea)",
    "lowrite(int, bytea)",
    "lo_truncate(int, int)",
    "lo_truncate64(int, bigint)",
    "lo_unlink(oid)",
    "lo_export(oid, text)",
)
FUNCTIONS = LOCK_FUNCTIONS + LARGE_OBJECT_FUNCTIONS


def revoke_sql(publisher: str) -> str:
    """Superuser SQL (idempotent), to run in the serving database: no function above for
    PUBLIC; the lock functions for `publisher`, the role that publishes and adds readers."""
    return (
        f"revoke execute on function {', '.join(FUNCTIONS)} from public; "
        f"grant execute on function {', '.join(LOCK_FUNCTIONS)} to {quote_ident(publisher)};"
    )


def exposed(cur: psycopg.Cursor, read_group: str) -> list[str]:
    """The functions above that PUBLIC or the read group (every reader) may still execute."""
    cur.execute(
        "select f from unnest(%s::text[]) f where to_regprocedure(f) is not null "
        "and (has_function_privilege('public', to_regprocedure(f), 'execute') "
        "or (to_regrole(%s) is not null "
        "and has_function_privilege(%s, to_regprocedure(f), 'execute')))",
        [list(FUNCTIONS), read_group, read_group],
    )
    return [f for (f,) in cur.fetchall()]


def _note(cur: psycopg.Cursor, left: list[str]) -> str:
    cur.execute("select current_user, current_database()")
    user, database = cur.fetchone()
    locks = sum(f in LOCK_FUNCTIONS for f in left)
    what = []
    if locks:
        what.append(f"{locks} advisory-lock functions (a reader holding one stops publishes)")
    if len(left) > locks:
        what.append(f"{len(left) - locks} large-object functions (a reader can store data)")
    return (
        f"readers may still execute {' and '.join(what)} in database {database}, and "
        f"{user} is not a superuser, so it cannot revoke them: a superuser must run once, "
        f"connected to database {database}: {revoke_sql(user)}"
    )


def exposure_notes(conn: psycopg.Connection, read_group: str) -> list[str]:
    """One note when readers may still execute any function above (a check; changes nothing)."""
    with conn.cursor() as cur:
        left = exposed(cur, read_group)
        return [_note(cur, left)] if left else []


def secure(conn: psycopg.Connection, read_group: str) -> list[str]:
    """Revoke the functions from readers when the connected role is a superuser; then check.

    Returns one note when readers may still execute any of them. The caller holds the lock
    that serialises its role and grant statements (PostgreSQL fails concurrent GRANTs on one
    object), since two superuser publishes could otherwise revoke at once.
    """
    with conn.cursor() as cur:
        left = exposed(cur, read_group)
        if left:
            cur.execute("select rolsuper, rolname from pg_roles where rolname = current_user")
            superuser, publisher = cur.fetchone()
            if superuser:
                cur.execute(revoke_sql(publisher))
                left = exposed(cur, read_group)
        return [_note(cur, left)] if left else []
