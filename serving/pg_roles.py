"""Roles of the PostgreSQL serving database: the BI reader, location-scoped readers, RLS.

Layout (why each piece exists):
- `medspa_read` (NOLOGIN) holds every grant: CONNECT on the database, USAGE on `marts` and
  `ops`, SELECT on their tables. Readers are members, so a new table needs one grant, not one
  per reader, and the grants are re-applied to each freshly loaded schema before the swap.
- `medspa_chain` (NOLOGIN): members see every row of location-scoped marts (a permissive
  row-level-security policy). `medspa_bi` and readers created without `--location` join it.
- A location reader gets its own policy on every mart with `location_id`, listing its
  locations; chain-wide `_all` rows and other locations are invisible to it. The reader list
  lives in `medspa_admin.readers`, which no reader can see, so each publish rebuilds the
  policies on the new tables.
- Every reader role: no superuser/createdb/createrole, `default_transaction_read_only`, no
  TEMP on the database, no `public` schema, not a member of the file/program roles.
Passwords are sent as SCRAM verifiers computed here, so the clear text never reaches the
server (or its logs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

import psycopg
from psycopg import sql

READ_GROUP = "medspa_read"
CHAIN_GROUP = "medspa_chain"
BI_ROLE = "medspa_bi"
ADMIN_SCHEMA = "medspa_admin"
RESERVED = {READ_GROUP, CHAIN_GROUP, BI_ROLE, "postgres", "public"}
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The `SCRAM-SHA-256$...` string PostgreSQL stores for `password` (RFC 5802/7677)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(client_key).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"


def check_role_name(name: str) -> str:
    """A reader name must be a plain lower-case identifier and not one of ours."""
    if not _ROLE_NAME.match(name) or name in RESERVED or name.startswith("pg_"):
        raise ValueError(
            f"reader name {name!r} must match [a-z_][a-z0-9_]* (≤ 63 chars) and not be a "
            f"reserved role ({', '.join(sorted(RESERVED))}, pg_*)"
        )
    return name


def bootstrap_sql(database: str, owner: str, owner_password: str) -> str:
    """Superuser SQL (idempotent, for psql) creating the owner role and serving database."""
    check_role_name(owner)
    if not _ROLE_NAME.match(database):
        raise ValueError(f"database name {database!r} must match [a-z_][a-z0-9_]*")
    verifier = scram_verifier(owner_password)
    return f"""
select format('create role {owner}') where not exists (
    select from pg_roles where rolname = '{owner}') \\gexec
alter role {owner} login createrole nosuperuser nocreatedb password '{verifier}';
select format('create database {database} owner {owner}') where not exists (
    select from pg_database where datname = '{database}') \\gexec
"""


def _role_exists(cur: psycopg.Cursor, name: str) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", [name])
    return cur.fetchone() is not None


def _create_group(cur: psycopg.Cursor, name: str) -> None:
    if not _role_exists(cur, name):
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(name)))


def _harden_login(cur: psycopg.Cursor, role: str, database: str) -> None:
    # Created without superuser/createdb/createrole (the defaults); the tests check it.
    ident = sql.Identifier(role)
    cur.execute(
        sql.SQL("alter role {} in database {} set default_transaction_read_only = on").format(
            ident, sql.Identifier(database)
        )
    )
    cur.execute(sql.SQL("grant {} to {}").format(sql.Identifier(READ_GROUP), ident))


def _ensure_groups(cur: psycopg.Cursor, database: str) -> None:
    """Group roles, the reader registry and database-level hardening (idempotent)."""
    db = sql.Identifier(database)
    for group in (READ_GROUP, CHAIN_GROUP):
        _create_group(cur, group)
    # Nobody but our readers may connect; nobody but the owner gets temp tables or `public`.
    cur.execute(sql.SQL("revoke all on database {} from public").format(db))
    cur.execute(
        sql.SQL("grant connect on database {} to {}").format(db, sql.Identifier(READ_GROUP))
    )
    cur.execute("revoke all on schema public from public")
    admin = sql.Identifier(ADMIN_SCHEMA)
    cur.execute(sql.SQL("create schema if not exists {}").format(admin))
    cur.execute(sql.SQL("revoke all on schema {} from public").format(admin))
    cur.execute(
        f"create table if not exists {ADMIN_SCHEMA}.readers "
        "(role_name text primary key, locations text[])"
    )


def ensure_base_roles(conn: psycopg.Connection, bi_password: str | None) -> list[str]:
    """Groups, `medspa_bi` and database-level hardening; returns notes for the run log."""
    notes: list[str] = []
    bi = sql.Identifier(BI_ROLE)
    with conn.cursor() as cur:
        _ensure_groups(cur, conn.info.dbname)
        if not _role_exists(cur, BI_ROLE):
            cur.execute(sql.SQL("create role {} nologin").format(bi))
        _harden_login(cur, BI_ROLE, conn.info.dbname)
        cur.execute(sql.SQL("grant {} to {}").format(sql.Identifier(CHAIN_GROUP), bi))
        if bi_password:
            verifier = sql.Literal(scram_verifier(bi_password))
            cur.execute(sql.SQL("alter role {} login password {}").format(bi, verifier))
        else:
            # Left as it is: a run without the variable must not lock BI tools out.
            cur.execute("select rolcanlogin from pg_roles where rolname = %s", [BI_ROLE])
            if not cur.fetchone()[0]:
                notes.append(
                    f"{BI_ROLE} is NOLOGIN: set MEDSPA_BI_PASSWORD and publish again (or run "
                    "`make pg`) to let Metabase / Power BI log in"
                )
    return notes


def readers(conn: psycopg.Connection) -> dict[str, list[str] | None]:
    """Registered readers: role -> its locations (None = the whole chain)."""
    with conn.cursor() as cur:
        cur.execute(f"select to_regclass('{ADMIN_SCHEMA}.readers')")
        if cur.fetchone()[0] is None:
            return {}
        cur.execute(f"select role_name, locations from {ADMIN_SCHEMA}.readers order by 1")
        return {name: locs for name, locs in cur.fetchall()}


def secure_schema(conn: psycopg.Connection, schema: str, location_tables: Sequence[str]) -> None:
    """Grants and row-level security on one freshly loaded schema, before it is swapped in."""
    ident = sql.Identifier(schema)
    group = sql.Identifier(READ_GROUP)
    scoped = readers(conn)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("revoke all on schema {} from public").format(ident))
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(ident, group))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident, group))
        for table in location_tables:
            rel = sql.Identifier(schema, table)
            cur.execute(sql.SQL("alter table {} enable row level security").format(rel))
            cur.execute(
                sql.SQL("create policy chain_wide on {} for select to {} using (true)").format(
                    rel, sql.Identifier(CHAIN_GROUP)
                )
            )
            for role, locations in scoped.items():
                if locations is not None:
                    _reader_policy(cur, rel, role, locations)


def _reader_policy(
    cur: psycopg.Cursor, rel: sql.Identifier, role: str, locations: Sequence[str]
) -> None:
    """The policy that shows `role` only the rows of its locations in one table."""
    cur.execute(
        sql.SQL("create policy {} on {} for select to {} using (location_id = any({}))").format(
            sql.Identifier(f"reader_{role}"),
            rel,
            sql.Identifier(role),
            sql.Literal(list(locations)),
        )
    )


def location_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    """Tables of `schema` that have a `location_id` column (the ones RLS scopes)."""
    with conn.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.columns "
            "where table_schema = %s and column_name = 'location_id' order by 1",
            [schema],
        )
        return [t for (t,) in cur.fetchall()]


def _refuse_tenant_database(cur: psycopg.Cursor) -> None:
    """Location ids repeat across tenants: a location policy on tenant-partitioned tables would
    show one tenant's reader every tenant's rows of that location. Tenants get tenant logins."""
    cur.execute(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'p' and n.nspname in ('marts', 'ops')"
    )
    if cur.fetchone()[0]:
        raise ValueError(
            "this database serves tenants: a location or chain reader would cross tenants; "
            "create a tenant's login with `medspa serving add-reader --tenant NAME`"
        )


def add_reader(
    conn: psycopg.Connection, name: str, password: str, locations: Sequence[str] | None
) -> None:
    """Create (or update) a login reader; with `locations`, scoped to them by RLS at once."""
    check_role_name(name)
    if not password:
        raise ValueError("a reader needs a password (the --password-env variable is empty)")
    with conn.cursor() as cur:
        _refuse_tenant_database(cur)
        _ensure_groups(cur, conn.info.dbname)
        ident = sql.Identifier(name)
        if not _role_exists(cur, name):
            cur.execute(sql.SQL("create role {} login").format(ident))
        verifier = sql.Literal(scram_verifier(password))
        cur.execute(sql.SQL("alter role {} login password {}").format(ident, verifier))
        _harden_login(cur, name, conn.info.dbname)
        chain = sql.Identifier(CHAIN_GROUP)
        if locations:
            cur.execute(sql.SQL("revoke {} from {}").format(chain, ident))
        else:
            cur.execute(sql.SQL("grant {} to {}").format(chain, ident))
        cur.execute(
            f"insert into {ADMIN_SCHEMA}.readers values (%s, %s) on conflict (role_name) "
            "do update set locations = excluded.locations",
            [name, list(locations) if locations else None],
        )
        # The served tables get the policy now; later publishes rebuild it from the registry.
        for table in location_tables(conn, "marts"):
            rel = sql.Identifier("marts", table)
            policy = sql.Identifier(f"reader_{name}")
            cur.execute(sql.SQL("drop policy if exists {} on {}").format(policy, rel))
            if locations:
                _reader_policy(cur, rel, name, locations)
