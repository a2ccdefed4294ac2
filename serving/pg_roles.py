"""Roles of the PostgreSQL serving database: the BI reader, location-scoped readers, RLS.

PostgreSQL roles belong to the server, not to a database, so every name below starts with the
deployment's role prefix (`MEDSPA_SERVING_ROLE_PREFIX`, default `medspa`; `ServingRoles`), and
the read group serves exactly one database: a publish or reader setup refuses a database whose
prefix already serves another one on the same server (two deployments sharing names would
reset each other's BI password and let each other's readers connect).

Layout (why each piece exists), named for the default prefix:
- `medspa_read` (NOLOGIN) holds every grant: CONNECT on the database, USAGE on `marts` and
  `ops`, SELECT on their tables. Readers are members, so a new table needs one grant, not one
  per reader, and the grants are re-applied to each freshly loaded schema before the swap.
- `medspa_chain` (NOLOGIN): members see every row of location-scoped marts (a permissive
  row-level-security policy). `medspa_bi` and readers created without `--location` join it.
- A location reader gets its own policy on every mart with `location_id`, listing its
  locations; chain-wide `_all` rows and other locations are invisible to it. The patient and
  provider dimensions have no `location_id` but belong to locations too: a reader sees a
  patient or provider whose home location is theirs or who has a row in their locations'
  facts (`LINKED_TABLES`; the facts' own policies filter that subquery). The reader list
  lives in `medspa_admin.readers`, which no reader can see, so each publish rebuilds the
  policies on the new tables.
- Every reader role: no superuser/createdb/createrole, `default_transaction_read_only`, an
  `idle_in_transaction_session_timeout` (`READER_IDLE_TIMEOUT`), no TEMP on the database, no
  `public` schema, not a member of the file/program roles, no advisory locks or large
  objects (`pg_functions`). That timeout is only a default a session can lift, so a swap
  blocked by a session idle in a transaction past it ends that session
  (`ending_idle_blockers`); a login may also change its own defaults (`alter role`), so every
  publish puts both back for the BI login and every registered reader and tenant login.
- Registry changes (`add_reader`, `remove_reader`) wait for a running publish
  (`wait_for_publish`), which read the registry before its swap.
- `add-reader` manages only its own readers: an existing role of that name that is not a
  member of the read group (the owner, another deployment's login) is refused, not altered.
- The groups and the BI login are managed only when this deployment made them: each is
  recorded with its oid in `medspa_admin.roles` when created. An existing unrecorded role of
  those names is refused, unless it is exactly as an earlier version (which recorded nothing)
  left it (`refuse_foreign_base_roles`).
- A new reader's name has at most `MAX_READER_NAME` characters, so its policy `reader_<name>`
  fits PostgreSQL's 63-byte names and no two readers share one. A reader dropped outside medspa
  (`drop owned by; drop role`) leaves the registry at the next publish, and so does a tenant
  login dropped that way (`medspa_admin.tenant_logins`); `remove-reader` itself drops what the
  reader owns or was granted here (`drop owned by`) before its role.
- A location reader's ids must be in the served `marts.dim_locations` (once it is served):
  a mistyped id would otherwise make a login that silently sees nothing.
Passwords are sent as SCRAM verifiers computed here, so the clear text never reaches the
server (or its logs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from serving import pg_functions
from serving.pg_swap import PgPublishError
from serving.role_names import ROLE_PREFIX

ADMIN_SCHEMA = "medspa_admin"
#: PostgreSQL's longest name, in bytes; longer ones are silently cut.
_MAX_IDENTIFIER = 63
#: A new reader's longest name: its policy `reader_<name>` must fit in `_MAX_IDENTIFIER`.
MAX_READER_NAME = _MAX_IDENTIFIER - len("reader_")
#: `medspa_admin.roles`: the groups and BI login this deployment created (name and oid).
ROLES_TABLE = "roles"
#: `\Z`, not `$`: `$` also matches before a final newline, which would let "name\n" through.
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
#: A reader's transaction left idle longer than this is ended by the server. A BI login that
#: opens a transaction and walks away holds its tables' locks, and every publish's swap (every
#: tenant's, in a tenant database) must wait for them: without a limit one forgotten session
#: would keep the previous data served night after night.
READER_IDLE_TIMEOUT = "60s"
#: The same limit, in seconds, for a publish's swap: the login default above is only a default
#: (any session may `set` it off), so a swap blocked by a reader idle in a transaction for
#: longer ends that reader's session itself (`ending_idle_blockers`). Tests lower it.
READER_IDLE_S = 60.0
#: How often a waiting swap looks for such readers.
IDLE_CHECK_S = 0.5
#: The single-chain publish's advisory lock, held for its whole run (`publish_postgres`);
#: registry changes take it too (`wait_for_publish`).
PUBLISH_LOCK = 748_213_911
#: How long `add-reader` waits for a running publish before it gives up, changing nothing.
PUBLISH_WAIT_S = 120.0
#: `medspa_admin.tenant_logins`: the tenant logins of a tenant database (`pg_tenant_roles`).
TENANT_LOGINS_TABLE = "tenant_logins"


@dataclass(frozen=True)
class ServingRoles:
    """The role names of one deployment, all derived from its prefix."""

    prefix: str = "medspa"

    def __post_init__(self) -> None:
        if not ROLE_PREFIX.fullmatch(self.prefix):
            raise ValueError(
                f"role prefix {self.prefix!r} (MEDSPA_SERVING_ROLE_PREFIX) must match "
                "[a-z][a-z0-9_]* and have at most 15 characters"
            )

    @property
    def read(self) -> str:
        """NOLOGIN group holding every grant; the one role with CONNECT on the database."""
        return f"{self.prefix}_read"

    @property
    def chain(self) -> str:
        """NOLOGIN group whose members see every location's rows."""
        return f"{self.prefix}_chain"

    @property
    def bi(self) -> str:
        """The BI tools' login (password MEDSPA_BI_PASSWORD)."""
        return f"{self.prefix}_bi"

    @property
    def operator(self) -> str:
        """NOLOGIN group that sees every tenant's rows in a tenant database."""
        return f"{self.prefix}_operator"

    def tenant_login(self, tenant: str) -> str:
        """A tenant's BI login (the caller checks the tenant name)."""
        return f"{self.prefix}_tenant_{tenant}"

    @property
    def reserved(self) -> frozenset[str]:
        return frozenset({self.read, self.chain, self.bi, self.operator, "postgres", "public"})


DEFAULT_ROLES = ServingRoles()


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


def check_role_name(name: str, roles: ServingRoles = DEFAULT_ROLES) -> str:
    """A reader name must be a plain lower-case identifier and not one of ours."""
    reserved = roles.reserved
    if not _ROLE_NAME.fullmatch(name) or name in reserved or name.startswith("pg_"):
        raise ValueError(
            f"reader name {name!r} must match [a-z_][a-z0-9_]* (≤ 63 chars) and not be a "
            f"reserved role ({', '.join(sorted(reserved))}, pg_*)"
        )
    return name


def check_new_reader_name(name: str, registered: Sequence[str], roles: ServingRoles) -> str:
    """A reader name whose policy name `reader_<name>` is its own.

    PostgreSQL cuts names to 63 bytes: two long readers sharing their first characters would
    get one policy name, and adding the second would drop the first's policy. A new reader has
    at most `MAX_READER_NAME` characters; an already registered longer one (made before the
    limit) keeps working, unless its cut policy name is another reader's.
    """
    check_role_name(name, roles)
    if name not in registered and len(name) > MAX_READER_NAME:
        raise ValueError(
            f"reader name {name!r} has {len(name)} characters: at most {MAX_READER_NAME}, so "
            f"its row-level-security policy reader_<name> fits PostgreSQL's 63-byte names"
        )
    clash = [other for other in registered if other != name and _same_policy(other, name)]
    if clash:
        raise ValueError(
            f"reader name {name!r} would share its policy name with reader {clash[0]!r} "
            "(PostgreSQL cuts names to 63 bytes): choose a shorter or different name"
        )
    return name


def _same_policy(a: str, b: str) -> bool:
    return policy_name(a)[:_MAX_IDENTIFIER] == policy_name(b)[:_MAX_IDENTIFIER]


def policy_name(role: str) -> str:
    """A location reader's policy on each scoped table (PostgreSQL keeps its first 63 bytes)."""
    return f"reader_{role}"


def bootstrap_sql(database: str, owner: str, owner_password: str) -> str:
    """Superuser SQL (idempotent, for psql) creating the owner role and serving database."""
    check_role_name(owner)
    if not _ROLE_NAME.fullmatch(database):
        raise ValueError(f"database name {database!r} must match [a-z_][a-z0-9_]*")
    verifier = scram_verifier(owner_password)
    # pg_signal_backend and pg_read_all_stats: a publish's swap may then see which reader has
    # sat idle in a transaction past READER_IDLE_S and end that session (ending_idle_blockers).
    # Then, in the serving database itself (function privileges are per database), no reader
    # may take the publishes' advisory locks or store large objects (`pg_functions`).
    return f"""
select format('create role {owner}') where not exists (
    select from pg_roles where rolname = '{owner}') \\gexec
alter role {owner} login createrole nosuperuser nocreatedb password '{verifier}';
grant pg_signal_backend, pg_read_all_stats to {owner};
select format('create database {database} owner {owner}') where not exists (
    select from pg_database where datname = '{database}') \\gexec
\\connect {database}
{pg_functions.revoke_sql(owner)}
"""


def _role_exists(cur: psycopg.Cursor, name: str) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", [name])
    return cur.fetchone() is not None


def _create_group(cur: psycopg.Cursor, name: str) -> None:
    if not _role_exists(cur, name):
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(name)))
    _record_role(cur, name)


def _record_role(cur: psycopg.Cursor, name: str) -> None:
    """Note `name` (and its oid: a role dropped and re-made by someone else is not ours) as
    one of this deployment's roles, which `refuse_foreign_base_roles` then accepts."""
    cur.execute(
        f"insert into {ADMIN_SCHEMA}.{ROLES_TABLE} select rolname, oid from pg_roles "
        "where rolname = %s on conflict (role_name) do update set role_oid = excluded.role_oid",
        [name],
    )


def _recorded(cur: psycopg.Cursor, name: str) -> bool:
    cur.execute(f"select to_regclass('{ADMIN_SCHEMA}.{ROLES_TABLE}')")
    if cur.fetchone()[0] is None:
        return False
    cur.execute(
        f"select 1 from {ADMIN_SCHEMA}.{ROLES_TABLE} t join pg_roles r on r.oid = t.role_oid "
        "where t.role_name = %s and r.rolname = %s",
        [name, name],
    )
    return cur.fetchone() is not None


#: How a deployment made before roles were recorded left each role (refuse_foreign_base_roles):
#: the read group holds CONNECT on this database, the chain group has a member in the read
#: group or is named by a policy here, the BI login is a member of the read group.
_EARLIER_SETUP = {
    "read": "select 1 from pg_database d cross join lateral aclexplode(d.datacl) acl "
    "where acl.grantee = %(oid)s and d.datname = %(db)s and acl.privilege_type = 'CONNECT'",
    "chain": "select 1 where exists (select from pg_auth_members m join pg_auth_members r "
    "on r.member = m.member where m.roleid = %(oid)s and r.roleid = %(read)s) "
    "or exists (select from pg_policy p where %(oid)s = any(p.polroles))",
    "bi": "select 1 from pg_auth_members where roleid = %(read)s and member = %(oid)s",
}


def _set_up_earlier(
    cur: psycopg.Cursor, name: str, kind: str, database: str, roles: ServingRoles
) -> bool:
    """Whether an unrecorded role `name` looks exactly as this code used to leave it."""
    cur.execute(
        "select r.oid, r.rolcanlogin, r.rolsuper, (select oid from pg_roles where rolname = %s) "
        "from pg_roles r where r.rolname = %s",
        [roles.read, name],
    )
    oid, can_login, is_super, read = cur.fetchone()
    if is_super or (can_login and kind != "bi"):
        return False
    cur.execute(_EARLIER_SETUP[kind], {"oid": oid, "db": database, "read": read})
    return cur.fetchone() is not None


def refuse_foreign_base_roles(
    cur: psycopg.Cursor, database: str, roles: ServingRoles, with_bi: bool
) -> None:
    """Refuse, before changing anything, to take over a group or BI login of our names that
    this deployment did not create.

    Roles are server-wide: `<prefix>_bi` may be someone's own login, `<prefix>_read` another
    application's group. Making it ours would reset its password or hand its members our data.
    A role is ours when recorded in `medspa_admin.roles` by the code that created it; a role
    of an earlier version (not recorded) is accepted when it is exactly as that code left it
    (for the BI login the rule of `refuse_foreign_role`: a member of our read group).
    """
    kinds = {"read": roles.read, "chain": roles.chain} | ({"bi": roles.bi} if with_bi else {})
    for kind, name in kinds.items():
        if not _role_exists(cur, name) or _recorded(cur, name):
            continue
        if not _set_up_earlier(cur, name, kind, database, roles):
            raise ValueError(
                f"role {name!r} already exists on this server but was not created by this "
                f"deployment (not recorded in {ADMIN_SCHEMA}.{ROLES_TABLE}, and not set up as "
                f"its {kind} role): nothing was changed; give this deployment other names "
                "with MEDSPA_SERVING_ROLE_PREFIX, or drop that role first if it is really unused"
            )


def _harden_login(cur: psycopg.Cursor, role: str, database: str, roles: ServingRoles) -> None:
    # Created without superuser/createdb/createrole (the defaults); the tests check it.
    reset_login_defaults(cur, role, database)
    cur.execute(sql.SQL("grant {} to {}").format(sql.Identifier(roles.read), sql.Identifier(role)))


def reset_login_defaults(cur: psycopg.Cursor, role: str, database: str) -> None:
    """A reader's read-only and idle-timeout defaults in this database, put back.

    Any login may `alter role <itself> in database ... set` its own defaults, so every publish
    puts them back for every reader it knows (`ensure_base_roles`), not only at creation.
    """
    ident = sql.Identifier(role)
    db = sql.Identifier(database)
    cur.execute(
        sql.SQL("alter role {} in database {} set default_transaction_read_only = on").format(
            ident, db
        )
    )
    cur.execute(
        sql.SQL("alter role {} in database {} set idle_in_transaction_session_timeout = {}").format(
            ident, db, sql.Literal(READER_IDLE_TIMEOUT)
        )
    )


def refuse_foreign_role(cur: psycopg.Cursor, name: str, roles: ServingRoles) -> None:
    """Refuse to alter an existing role `name` that this deployment did not make a reader.

    Roles are server-wide: the name may be the owner, another deployment's login or someone's
    own account. Resetting its password and settings would lock its user out (and hand its
    access to whoever sets the new password), so only members of our read group are managed.
    """
    if not _role_exists(cur, name):
        return
    cur.execute(
        "select 1 from pg_auth_members m join pg_roles g on g.oid = m.roleid "
        "join pg_roles r on r.oid = m.member "
        "where g.rolname = %s and r.rolname = %s and not r.rolsuper",
        [roles.read, name],
    )
    if cur.fetchone() is None:
        raise ValueError(
            f"role {name!r} already exists on this server and is not one of this deployment's "
            f"readers (not a member of {roles.read}): choose another name, or drop that role "
            "first if it is really unused"
        )


def claim_database(cur: psycopg.Cursor, database: str, roles: ServingRoles) -> None:
    """Refuse when `roles` already serve another database of this server.

    The read group's explicit CONNECT grants say which database a prefix serves. A second
    deployment (another clinic, or staging beside production) reusing the names would reset the
    first one's BI password and make its readers members of a group that can connect here.
    """
    cur.execute(
        "select d.datname from pg_database d cross join lateral aclexplode(d.datacl) as acl "
        "join pg_roles r on r.oid = acl.grantee "
        "where r.rolname = %s and acl.privilege_type = 'CONNECT' and d.datname <> %s "
        "order by 1",
        [roles.read, database],
    )
    others = [name for (name,) in cur.fetchall()]
    if others:
        raise ValueError(
            f"the roles {roles.prefix}_* already serve database {others[0]!r} on this server "
            f"(PostgreSQL roles belong to the server, not to a database): give the deployment of "
            f"{database!r} its own names with MEDSPA_SERVING_ROLE_PREFIX (e.g. "
            f"{_suggested_prefix(database)!r}), or revoke connect on {others[0]!r} from "
            f"{roles.read} if that deployment is gone"
        )


def _suggested_prefix(database: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]", "_", database.lower()).lstrip("0123456789_") or "serving"
    return cleaned[:15]


def _ensure_groups(
    cur: psycopg.Cursor, database: str, roles: ServingRoles, with_bi: bool = False
) -> None:
    """Group roles, the registries and database-level hardening (idempotent); refused before
    any change when our names belong to another deployment or someone else."""
    claim_database(cur, database, roles)
    refuse_foreign_base_roles(cur, database, roles, with_bi)
    db = sql.Identifier(database)
    admin = sql.Identifier(ADMIN_SCHEMA)
    cur.execute(sql.SQL("create schema if not exists {}").format(admin))
    cur.execute(sql.SQL("revoke all on schema {} from public").format(admin))
    cur.execute(
        f"create table if not exists {ADMIN_SCHEMA}.{ROLES_TABLE} "
        "(role_name text primary key, role_oid oid not null)"
    )
    for group in (roles.read, roles.chain):
        _create_group(cur, group)
    # Nobody but our readers may connect; nobody but the owner gets temp tables or `public`.
    cur.execute(sql.SQL("revoke all on database {} from public").format(db))
    cur.execute(
        sql.SQL("grant connect on database {} to {}").format(db, sql.Identifier(roles.read))
    )
    cur.execute("revoke all on schema public from public")
    cur.execute(
        f"create table if not exists {ADMIN_SCHEMA}.readers "
        "(role_name text primary key, locations text[])"
    )


def ensure_base_roles(
    conn: psycopg.Connection, bi_password: str | None, roles: ServingRoles = DEFAULT_ROLES
) -> list[str]:
    """Groups, the BI login and database-level hardening; returns notes for the run log."""
    notes: list[str] = []
    bi = sql.Identifier(roles.bi)
    with conn.cursor() as cur:
        _ensure_groups(cur, conn.info.dbname, roles, with_bi=True)
        if not _role_exists(cur, roles.bi):
            cur.execute(sql.SQL("create role {} nologin").format(bi))
        _record_role(cur, roles.bi)
        _harden_login(cur, roles.bi, conn.info.dbname, roles)
        cur.execute(sql.SQL("grant {} to {}").format(sql.Identifier(roles.chain), bi))
        if bi_password:
            verifier = sql.Literal(scram_verifier(bi_password))
            cur.execute(sql.SQL("alter role {} login password {}").format(bi, verifier))
        else:
            # Left as it is: a run without the variable must not lock BI tools out.
            cur.execute("select rolcanlogin from pg_roles where rolname = %s", [roles.bi])
            if not cur.fetchone()[0]:
                notes.append(
                    f"{roles.bi} is NOLOGIN: set MEDSPA_BI_PASSWORD and publish again (or run "
                    "`make pg`) to let Metabase / Power BI log in"
                )
    notes += [
        f"reader {name} was dropped outside medspa: removed from {ADMIN_SCHEMA}.readers"
        for name in forget_dropped_readers(conn)
    ]
    notes += dropped_tenant_login_notes(forget_dropped_tenant_logins(conn))
    with conn.cursor() as cur:
        for name in _our_logins(cur, list(readers(conn)) + registered_tenant_logins(cur), roles):
            reset_login_defaults(cur, name, conn.info.dbname)
    return notes


def _our_logins(cur: psycopg.Cursor, names: Sequence[str], roles: ServingRoles) -> list[str]:
    """Those of `names` that are still this deployment's readers (read group, no superuser)."""
    cur.execute(
        "select rolname from pg_roles r where rolname = any(%s) and not rolsuper "
        "and pg_has_role(r.oid, %s, 'member') order by 1",
        [list(names), roles.read],
    )
    return [name for (name,) in cur.fetchall()]


def forget_dropped_readers(conn: psycopg.Connection) -> list[str]:
    """Delete the registry rows of readers whose role no longer exists; returns their names.

    `drop owned by x; drop role x` is the normal PostgreSQL way to remove a login, and it
    leaves the row: without this every later publish would fail creating a policy for a
    role that is gone.
    """
    with conn.cursor() as cur:
        cur.execute(f"select to_regclass('{ADMIN_SCHEMA}.readers')")
        if cur.fetchone()[0] is None:
            return []
        cur.execute(
            f"delete from {ADMIN_SCHEMA}.readers where to_regrole(quote_ident(role_name)) is null "
            "returning role_name"
        )
        return sorted(name for (name,) in cur.fetchall())


def forget_dropped_tenant_logins(conn: psycopg.Connection) -> list[str]:
    """Delete the `tenant_logins` rows whose role no longer exists; returns their role names.

    As for readers (`forget_dropped_readers`): a tenant login dropped with `drop owned by x;
    drop role x` leaves its row, and a publish creating a table would then fail creating that
    login's policy (`role ... does not exist`) for every tenant.
    """
    with conn.cursor() as cur:
        if not _has_tenant_logins(cur):
            return []
        cur.execute(
            sql.SQL(
                "delete from {} where to_regrole(quote_ident(role_name)) is null "
                "returning role_name"
            ).format(sql.Identifier(ADMIN_SCHEMA, TENANT_LOGINS_TABLE))
        )
        return sorted(name for (name,) in cur.fetchall())


def dropped_tenant_login_notes(names: Sequence[str]) -> list[str]:
    """The run log's line for each tenant login `forget_dropped_tenant_logins` forgot."""
    return [
        f"tenant login {name} was dropped outside medspa: removed from "
        f"{ADMIN_SCHEMA}.{TENANT_LOGINS_TABLE} (add-reader --tenant makes it again)"
        for name in names
    ]


def readers(conn: psycopg.Connection) -> dict[str, list[str] | None]:
    """Registered readers: role -> its locations (None = the whole chain)."""
    with conn.cursor() as cur:
        cur.execute(f"select to_regclass('{ADMIN_SCHEMA}.readers')")
        if cur.fetchone()[0] is None:
            return {}
        cur.execute(f"select role_name, locations from {ADMIN_SCHEMA}.readers order by 1")
        return {name: locs for name, locs in cur.fetchall()}


def secure_schema(
    conn: psycopg.Connection,
    schema: str,
    location_tables: Sequence[str],
    roles: ServingRoles = DEFAULT_ROLES,
) -> None:
    """Row-level security and grants on one freshly loaded schema, before it is swapped in.

    One transaction, and the grants last: a reader gets USAGE on the schema only together with
    every table's row-level security and policies, so a location reader can never read another
    location's rows of the loaded tables. (Before the grants no reader can touch the schema, so
    the ALTERs never wait for a reader's lock either.)
    """
    ident = sql.Identifier(schema)
    group = sql.Identifier(roles.read)
    forget_dropped_readers(conn)
    scoped = readers(conn)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("revoke all on schema {} from public").format(ident))
        for table in location_tables:
            rel = sql.Identifier(schema, table)
            cur.execute(sql.SQL("alter table {} enable row level security").format(rel))
            cur.execute(
                sql.SQL("create policy chain_wide on {} for select to {} using (true)").format(
                    rel, sql.Identifier(roles.chain)
                )
            )
            for role, locations in scoped.items():
                if locations is not None:
                    _reader_policy(cur, schema, table, role, locations)
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(ident, group))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident, group))


#: Marts without `location_id` whose rows belong to locations: table -> (its key, the facts
#: whose rows tie a key to a location). Each also has `home_location_id`.
LINKED_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dim_patients": ("patient_key", ("fct_appointments",)),
    "dim_providers": ("provider_id", ("fct_appointments", "fct_provider_shifts")),
}


def _location_filter(
    cur: psycopg.Cursor, schema: str, table: str, locations: Sequence[str]
) -> sql.Composable:
    """The row filter of a location reader on one table of `schema`."""
    listed = sql.Literal(list(locations))
    if table not in LINKED_TABLES:
        return sql.SQL("location_id = any({})").format(listed)
    key, facts = LINKED_TABLES[table]
    cur.execute(
        "select table_name from information_schema.columns where table_schema = %s "
        "and table_name = any(%s) and column_name = %s order by 1",
        [schema, list(facts), key],
    )
    present = [name for (name,) in cur.fetchall()]
    # A subquery in a policy runs as the reader, so each fact's own policy keeps only the
    # reader's locations: no second list of locations to keep in step.
    linked = [
        sql.SQL("{} in (select {} from {})").format(
            sql.Identifier(key), sql.Identifier(key), sql.Identifier(schema, fact)
        )
        for fact in present
    ]
    return sql.SQL(" or ").join([sql.SQL("home_location_id = any({})").format(listed), *linked])


def _reader_policy(
    cur: psycopg.Cursor, schema: str, table: str, role: str, locations: Sequence[str]
) -> None:
    """The policy that shows `role` only the rows of its locations in one table."""
    cur.execute(
        sql.SQL("create policy {} on {} for select to {} using ({})").format(
            sql.Identifier(policy_name(role)),
            sql.Identifier(schema, table),
            sql.Identifier(role),
            _location_filter(cur, schema, table, locations),
        )
    )


def location_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    """Tables of `schema` that row-level security scopes: those with a `location_id` column
    and the `LINKED_TABLES` (their rows belong to locations through a home and the facts)."""
    with conn.cursor() as cur:
        cur.execute(
            "select distinct table_name from information_schema.columns "
            "where table_schema = %s and (column_name = 'location_id' "
            "or (column_name = 'home_location_id' and table_name = any(%s))) order by 1",
            [schema, list(LINKED_TABLES)],
        )
        return [t for (t,) in cur.fetchall()]


def registered_tenant_logins(cur: psycopg.Cursor) -> list[str]:
    """Tenant logins recorded in this database whose role still exists (sorted)."""
    return live_tenant_logins(cur, "role_name")


def _has_tenant_logins(cur: psycopg.Cursor) -> bool:
    cur.execute("select to_regclass(%s)", [f"{ADMIN_SCHEMA}.{TENANT_LOGINS_TABLE}"])
    return cur.fetchone()[0] is not None


def live_tenant_logins(cur: psycopg.Cursor, column: str) -> list[str]:
    """`column` (`role_name`, `tenant_id`) of the tenant logins recorded in this database whose
    role still exists, sorted: a login dropped outside medspa (`drop owned by x; drop role x`)
    leaves its row until the next publish forgets it (`forget_dropped_tenant_logins`)."""
    if not _has_tenant_logins(cur):
        return []
    cur.execute(
        sql.SQL(
            "select {} from {} where to_regrole(quote_ident(role_name)) is not null order by 1"
        ).format(sql.Identifier(column), sql.Identifier(ADMIN_SCHEMA, TENANT_LOGINS_TABLE))
    )
    return [value for (value,) in cur.fetchall()]


def _refuse_tenant_database(cur: psycopg.Cursor) -> None:
    """Location ids repeat across tenants: a location policy on tenant-partitioned tables would
    show one tenant's reader every tenant's rows of that location. Tenants get tenant logins.
    A database with tenant logins but no tables yet is a tenant database too."""
    cur.execute(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'p' and n.nspname in ('marts', 'ops')"
    )
    if cur.fetchone()[0] or registered_tenant_logins(cur):
        raise ValueError(
            "this database serves tenants: a location or chain reader would cross tenants; "
            "create a tenant's login with `medspa serving add-reader --tenant NAME`"
        )


def wait_for_publish(cur: psycopg.Cursor, wait_s: float = PUBLISH_WAIT_S) -> None:
    """Wait (at most `wait_s`) until no single-chain publish runs, then keep publishes out until
    the caller's transaction ends; ValueError when the wait runs out.

    Why the publish's own lock rather than the publish re-reading the registry inside its swap:
    a publish reads the registry once, to build the reader policies of `marts__next` before the
    swap, and holds `PUBLISH_LOCK` from its start until after the swap. A registry change made
    under that lock therefore either commits before a publish starts (which then reads it) or
    waits until the publish has swapped and is done (and then alters the live tables itself):
    no change can land in between and be swapped away. Rebuilding the policies inside the swap
    would also be correct, but would keep the served tables locked against every reader for
    each policy's DDL instead of for a few renames.
    """
    # This wait only: the caller's own lock_timeout (e.g. short DDL attempts) is put back after.
    cur.execute(
        "select current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
        [f"{max(1, int(wait_s * 1000))}ms"],
    )
    previous = cur.fetchone()[0]
    try:
        cur.execute("select pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])
    except psycopg.errors.LockNotAvailable:
        raise ValueError(
            f"a publish to this database is still running after {wait_s:g} s: nothing was "
            "changed; run the command again once it has finished"
        ) from None
    cur.execute("select set_config('lock_timeout', %s, true)", [previous])


def add_reader(
    conn: psycopg.Connection,
    name: str,
    password: str,
    locations: Sequence[str] | None,
    roles: ServingRoles = DEFAULT_ROLES,
    publish_wait_s: float = PUBLISH_WAIT_S,
) -> None:
    """Create (or update) a login reader; with `locations`, scoped to them by RLS at once.

    One transaction, after any running publish (`wait_for_publish`): the registry row and the
    live tables' policies change together. An existing role is updated only when it is already
    one of this deployment's readers (`refuse_foreign_role`)."""
    check_role_name(name, roles)
    if not password:
        raise ValueError("a reader needs a password (the --password-env variable is empty)")
    with conn.transaction(), conn.cursor() as cur:
        wait_for_publish(cur, publish_wait_s)
        check_new_reader_name(name, list(readers(conn)), roles)
        _refuse_tenant_database(cur)
        if locations:
            refuse_unknown_locations(cur, locations)
        _ensure_groups(cur, conn.info.dbname, roles)
        refuse_foreign_role(cur, name, roles)
        ident = sql.Identifier(name)
        if not _role_exists(cur, name):
            cur.execute(sql.SQL("create role {} login").format(ident))
        verifier = sql.Literal(scram_verifier(password))
        cur.execute(sql.SQL("alter role {} login password {}").format(ident, verifier))
        _harden_login(cur, name, conn.info.dbname, roles)
        chain = sql.Identifier(roles.chain)
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
        _replace_live_policies(cur, conn, name, locations)


#: Where a location reader's ids are checked (when the serving database has it).
LOCATIONS_TABLE = ("marts", "dim_locations")
#: At most this many valid ids are named in the error; the rest are counted.
_LOCATIONS_SHOWN = 20


def refuse_unknown_locations(cur: psycopg.Cursor, locations: Sequence[str]) -> None:
    """ValueError naming the `locations` that are not in the served `marts.dim_locations`
    (and the valid ids), so a typo does not make a reader who silently sees nothing.

    Checked only once that table is served: before the first publish there is nothing to check
    against, and a reader may be set up ahead of it.
    """
    schema, table = LOCATIONS_TABLE
    cur.execute(
        "select 1 from information_schema.columns where table_schema = %s "
        "and table_name = %s and column_name = 'location_id'",
        [schema, table],
    )
    if cur.fetchone() is None:
        return
    cur.execute(
        sql.SQL(
            "select distinct location_id from {} where location_id is not null order by 1"
        ).format(sql.Identifier(schema, table))
    )
    known = [loc for (loc,) in cur.fetchall()]
    unknown = sorted(set(locations) - set(known))
    if not unknown:
        return
    shown = ", ".join(known[:_LOCATIONS_SHOWN]) or "none"
    more = f" and {len(known) - _LOCATIONS_SHOWN} more" if len(known) > _LOCATIONS_SHOWN else ""
    raise ValueError(
        f"unknown location id(s) {', '.join(unknown)}: not in {schema}.{table} of this "
        f"database, nothing was changed; valid ids: {shown}{more} (all of them: "
        f"`select location_id, location_name from {schema}.{table} order by 1` as the owner)"
    )


def _replace_live_policies(
    cur: psycopg.Cursor, conn: psycopg.Connection, name: str, locations: Sequence[str] | None
) -> None:
    """Drop `name`'s policy on every served scoped table; recreate it for `locations`."""
    for table in location_tables(conn, "marts"):
        rel = sql.Identifier("marts", table)
        policy = sql.Identifier(policy_name(name))
        cur.execute(sql.SQL("drop policy if exists {} on {}").format(policy, rel))
        if locations:
            _reader_policy(cur, "marts", table, name, locations)


def can_end_reader_sessions(cur: psycopg.Cursor) -> bool:
    """Whether the current role may see readers' session states and end their sessions."""
    cur.execute(
        "select pg_has_role('pg_signal_backend', 'usage') "
        "and pg_has_role('pg_read_all_stats', 'usage')"
    )
    return bool(cur.fetchone()[0])


def end_idle_blockers(
    cur: psycopg.Cursor, blocked_pid: int, roles: ServingRoles, idle_s: float
) -> list[str]:
    """End the reader sessions that block backend `blocked_pid` while idle in a transaction for
    longer than `idle_s`; returns a note per session ended.

    Only members of our read group (never the owner, a superuser or anyone else's session),
    and only sessions idle in a transaction: a session running a statement is never ended.
    The state is read and the session ended in one statement (the CTE is computed first), so
    the window in which an idle reader could start a statement is as short as PostgreSQL
    allows.
    """
    cur.execute(
        "with idle as materialized ("
        " select a.pid, a.usename from pg_stat_activity a"
        " where a.pid = any(pg_blocking_pids(%(pid)s)) and a.state = 'idle in transaction'"
        " and a.state_change < clock_timestamp() - make_interval(secs => %(idle)s)"
        " and pg_has_role(a.usesysid, %(read)s, 'member')"
        " and not exists (select from pg_roles r where r.oid = a.usesysid and r.rolsuper))"
        " select usename, pid from idle where pg_terminate_backend(pid) order by 2",
        {"pid": blocked_pid, "idle": idle_s, "read": roles.read},
    )
    return [
        f"ended reader {user}'s session (pid {pid}): idle in a transaction for more than "
        f"{idle_s:g} s, it held the served tables against the swap"
        for user, pid in cur.fetchall()
    ]


def _watch_blockers(
    conn: psycopg.Connection,
    blocked_pid: int,
    roles: ServingRoles,
    idle_s: float,
    stop: threading.Event,
    ended: list[str],
) -> None:
    """The watcher thread: every IDLE_CHECK_S, end idle readers blocking `blocked_pid`."""
    try:
        with conn.cursor() as cur:
            while not stop.wait(IDLE_CHECK_S):
                ended.extend(end_idle_blockers(cur, blocked_pid, roles, idle_s))
    except psycopg.Error:
        return  # best effort: the swap's own timeout still bounds the publish


@contextmanager
def ending_idle_blockers(
    url: str, swapping: psycopg.Connection, roles: ServingRoles
) -> Iterator[list[str]]:
    """While the block runs (a swap on `swapping`), end readers idle in a transaction for more
    than READER_IDLE_S that block it; yields the notes of sessions ended.

    Why: `idle_in_transaction_session_timeout` is only a login default that any session may
    lift with `set`, and a swap needs ACCESS EXCLUSIVE on tables such a session keeps locked
    (in a tenant database, on every tenant's parents). A second connection watches, because
    the swapping one is waiting. Without the right to signal (pg_signal_backend and
    pg_read_all_stats, which `serving pg-start` grants the owner) nothing is ended, and a
    failed swap's error says so.
    """
    idle_s = READER_IDLE_S
    with psycopg.connect(url, autocommit=True) as watch:
        with watch.cursor() as cur:
            allowed = can_end_reader_sessions(cur)
        ended: list[str] = []
        stop = threading.Event()
        args = (watch, swapping.info.backend_pid, roles, idle_s, stop, ended)
        thread = threading.Thread(target=_watch_blockers, args=args, daemon=True)
        if allowed:
            thread.start()
        try:
            yield ended
        except PgPublishError as exc:
            raise PgPublishError(
                f"{exc}; {_unended_note(allowed, watch.info.user, idle_s)}"
            ) from exc
        finally:
            stop.set()
            if allowed:
                thread.join()


def _unended_note(allowed: bool, owner: str, idle_s: float) -> str:
    """Why a failed swap's blockers were left running."""
    if allowed:
        return (
            f"no reader blocking it had been idle in a transaction for more than {idle_s:g} s "
            "(such sessions are ended; a running query never is)"
        )
    return (
        f"{owner} may not end readers' sessions left idle in a transaction (grant it "
        "pg_signal_backend and pg_read_all_stats, as `medspa serving pg-start` does)"
    )


def remove_reader(
    conn: psycopg.Connection,
    name: str,
    roles: ServingRoles = DEFAULT_ROLES,
    publish_wait_s: float = PUBLISH_WAIT_S,
) -> list[str]:
    """Drop a reader `add_reader` made: its login is closed, its open sessions ended, then its
    policies, whatever it owns or was granted here (`_drop_owned_by`), registry row and role
    dropped in one transaction after any running publish (which would otherwise rebuild its
    policies). Returns a note on its sessions (none if it had none); ValueError, saying what
    a superuser must drop, when the role still holds something the owner may not drop (in
    another database, or granted by another role).

    Only a registered reader that is still a member of our read group is dropped: the BI login,
    a tenant login, the owner or anyone else's role of that name is refused, nothing changed.
    Why its sessions are ended first: dropping a policy waits for every session using the table,
    so a reader idle in a transaction would hold the removal until its idle timeout; and
    PostgreSQL lets a dropped role's sessions run on. Its login is closed first (committed) so no
    new session starts in between; a removal that fails after that leaves a reader that cannot
    log in, and running `remove-reader` again finishes it.
    """
    check_role_name(name, roles)
    with conn.transaction(), conn.cursor() as cur:
        wait_for_publish(cur, publish_wait_s)
        if name not in readers(conn):
            if name in registered_tenant_logins(cur):
                raise ValueError(
                    f"{name!r} is a tenant's login: it goes when the tenant is offboarded "
                    "(remove it from the registry, then `medspa tenant remove <tenant>`); "
                    "nothing was changed"
                )
            raise ValueError(
                f"{name!r} is not a reader added by `add-reader` to this database (not in "
                f"{ADMIN_SCHEMA}.readers): nothing was changed"
            )
        exists = _role_exists(cur, name)
        if exists:
            refuse_foreign_role(cur, name, roles)
            cur.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(name)))
    notes = _end_sessions_of(conn, name) if exists else []
    try:
        with conn.transaction(), conn.cursor() as cur:
            wait_for_publish(cur, publish_wait_s)
            if exists and _role_exists(cur, name):
                _drop_policies_of(cur, name)
                _drop_owned_by(cur, name)
                cur.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
            cur.execute(f"delete from {ADMIN_SCHEMA}.readers where role_name = %s", [name])
    except psycopg.errors.DependentObjectsStillExist as exc:
        detail = (exc.diag.message_detail or "").replace("\n", "; ")
        raise ValueError(
            f"reader {name} cannot be dropped: it still holds what the owner may not drop "
            f"({detail}); it can no longer log in, and nothing else was changed; as a "
            f"superuser, run `drop owned by {name};` in each database named (after "
            f"`reassign owned by {name} to <role>;` to keep what it owns), then run "
            "remove-reader again"
        ) from None
    return notes


def _drop_owned_by(cur: psycopg.Cursor, name: str) -> None:
    """Drop what reader `name` owns in this database and revoke what was granted to it.

    A reader owns nothing `add-reader` gave it, but any login may leave something behind:
    default privileges (`alter default privileges ... to public`, which only it or a superuser
    may drop), a large object stored before those functions were revoked, grants to it. Each
    makes `drop role` fail. `drop owned by` needs the role's privileges: the owner's
    CREATEROLE lets it grant itself membership, which goes with the role (or with this
    transaction, if the drop fails).
    """
    ident = sql.Identifier(name)
    cur.execute("select rolsuper from pg_roles where rolname = current_user")
    if not cur.fetchone()[0]:
        cur.execute("select pg_has_role(%s, 'usage')", [name])
        if not cur.fetchone()[0]:
            cur.execute(sql.SQL("grant {} to current_user").format(ident))
    cur.execute(sql.SQL("drop owned by {}").format(ident))


#: How long ending a removed reader's session waits for it to exit (and release its locks).
SESSION_END_WAIT_MS = 5000


def _end_sessions_of(conn: psycopg.Connection, name: str) -> list[str]:
    """End every session of reader `name`, waiting for each to exit; a note says how many, or
    why they were left running (then dropping its policies waits for any in a transaction)."""
    with conn.cursor() as cur:
        if not can_end_reader_sessions(cur):
            cur.execute("select count(*) from pg_stat_activity where usename = %s", [name])
            left = cur.fetchone()[0]
            if not left:
                return []
            return [
                f"{left} session(s) of {name} were left running, without rights to any served "
                f"table: {conn.info.user} may not end them (grant it pg_signal_backend and "
                "pg_read_all_stats, as `medspa serving pg-start` does)"
            ]
        cur.execute(
            "select count(*) filter (where pg_terminate_backend(pid, %s)) from pg_stat_activity "
            "where usename = %s and pid <> pg_backend_pid()",
            [SESSION_END_WAIT_MS, name],
        )
        ended = cur.fetchone()[0]
    return [f"ended {ended} open session(s) of {name}"] if ended else []


def _drop_policies_of(cur: psycopg.Cursor, name: str) -> None:
    """Every policy of this database naming role `name` (the live tables' and any leftover
    `__next` / `__old` schema's): PostgreSQL refuses to drop a role a policy still names."""
    cur.execute(
        "select n.nspname, c.relname, p.polname from pg_policy p "
        "join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace "
        "where (select oid from pg_roles where rolname = %s) = any(p.polroles) order by 1, 2",
        [name],
    )
    for schema, table, policy in cur.fetchall():
        cur.execute(
            sql.SQL("drop policy {} on {}").format(
                sql.Identifier(policy), sql.Identifier(schema, table)
            )
        )
