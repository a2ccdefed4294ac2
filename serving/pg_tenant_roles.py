"""Who sees which tenant in the consolidated PostgreSQL serving database.

With a tenant registry every served table is a parent partitioned by `tenant_id`
(`serving.pg_tenant_tables`). Row-level security on the parents decides what a login sees:
- a tenant's BI login `<prefix>_tenant_<tenant>` (`medspa_tenant_<tenant>` by default) gets
  one policy per parent, `tenant_id = '<tenant>'`: a constant, so the planner prunes every
  other tenant's partition;
- the `<prefix>_operator` group (NOLOGIN; grant it to an operator's login) has a policy that
  shows every row; the owner role that publishes owns the tables and so sees everything too;
- everybody else (`<prefix>_bi`, location readers, made for a single chain) has no policy and
  therefore sees no row: row-level security denies by default, so no chain-wide login of the
  single-chain layout can read across tenants.
The partitions themselves live in a schema no reader may use, without grants, so a tenant
login cannot bypass the parents' policies by naming a partition.

Tenant logins are recorded in `medspa_admin.tenant_logins` (invisible to readers), so a
parent created later (a new mart, a rebuild) gets every login's policy at creation.
Passwords travel as SCRAM verifiers (`pg_roles.scram_verifier`), as for every reader.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from serving import pg_roles
from serving.pg_swap import in_short_lock_attempts

LOGINS_TABLE = pg_roles.TENANT_LOGINS_TABLE
#: Advisory lock space of the tenant publishes' schema and roles locks (second key).
LOCK_SPACE = 748_213_913
SCHEMA_KEY, ROLES_KEY = 0, 1
#: `\Z`, not `$` (which also matches before a final newline): "glow\n" is no tenant.
_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")


def check_tenant(tenant: str) -> str:
    """A tenant name as the registry allows it (so it fits role and partition names)."""
    if not _TENANT.fullmatch(tenant):
        raise ValueError(
            f"tenant name {tenant!r} must match [a-z0-9][a-z0-9_-]* (at most 40 characters)"
        )
    return tenant


def tenant_role(tenant: str, roles: pg_roles.ServingRoles = pg_roles.DEFAULT_ROLES) -> str:
    """The BI login of one tenant: `<prefix>_tenant_<tenant>` (at most 63 bytes)."""
    return roles.tenant_login(check_tenant(tenant))


def policy_name(tenant: str) -> str:
    return f"tenant_{check_tenant(tenant)}"


def ensure_groups(cur: psycopg.Cursor, roles: pg_roles.ServingRoles) -> None:
    """The operator group and the login registry (idempotent; caller serialises DDL, and has
    run `pg_roles._ensure_groups`, which makes the table of this deployment's roles).

    The operator group sees every tenant's rows: an existing role of that name that this
    deployment did not create (another application's group, someone's login) is refused, as
    the read and chain groups are, rather than handed every tenant's data.
    """
    if not pg_roles._role_exists(cur, roles.operator):
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(roles.operator)))
    elif not pg_roles._recorded(cur, roles.operator) and not _operator_set_up_earlier(
        cur, roles.operator
    ):
        raise ValueError(
            f"role {roles.operator!r} already exists on this server but was not created by "
            f"this deployment (not recorded in {pg_roles.ADMIN_SCHEMA}.{pg_roles.ROLES_TABLE}, "
            "and not set up as its operator group): nothing was changed; give this deployment "
            "other names with MEDSPA_SERVING_ROLE_PREFIX, or drop that role first if it is "
            "really unused"
        )
    pg_roles._record_role(cur, roles.operator)
    admin = sql.Identifier(pg_roles.ADMIN_SCHEMA)
    cur.execute(sql.SQL("create schema if not exists {}").format(admin))
    cur.execute(sql.SQL("revoke all on schema {} from public").format(admin))
    cur.execute(
        sql.SQL(
            "create table if not exists {} (role_name text primary key, tenant_id text not null)"
        ).format(sql.Identifier(pg_roles.ADMIN_SCHEMA, LOGINS_TABLE))
    )


def _operator_set_up_earlier(cur: psycopg.Cursor, name: str) -> bool:
    """An unrecorded operator group as earlier versions left it: no login, no superuser, and
    named by this database's `operator_all` policies."""
    cur.execute(
        "select 1 from pg_roles r where r.rolname = %s and not r.rolcanlogin and not r.rolsuper "
        "and exists (select from pg_policy p where p.polname = 'operator_all' "
        "and r.oid = any(p.polroles))",
        [name],
    )
    return cur.fetchone() is not None


def tenant_logins(cur: psycopg.Cursor) -> list[str]:
    """Tenants that have a BI login (whose policies every parent carries).

    Only logins whose role still exists, as `pg_roles.registered_tenant_logins`: a login
    dropped outside medspa (`drop owned by x; drop role x`) leaves its row, and a policy for a
    role that is gone cannot be created, which would fail every tenant's publish that creates
    a table. Each publish also deletes such rows (`pg_roles.forget_dropped_tenant_logins`).
    """
    return pg_roles.live_tenant_logins(cur, "tenant_id")


def secure_parent(
    cur: psycopg.Cursor,
    schema: str,
    table: str,
    tenants: list[str],
    roles: pg_roles.ServingRoles,
) -> None:
    """A new parent: readable by the read group, rows by policy only (operator + each login)."""
    rel = sql.Identifier(schema, table)
    cur.execute(sql.SQL("grant select on {} to {}").format(rel, sql.Identifier(roles.read)))
    cur.execute(sql.SQL("alter table {} enable row level security").format(rel))
    cur.execute(
        sql.SQL("create policy operator_all on {} for select to {} using (true)").format(
            rel, sql.Identifier(roles.operator)
        )
    )
    for tenant in tenants:
        ensure_tenant_policy(cur, schema, table, tenant, roles)


def ensure_tenant_policy(
    cur: psycopg.Cursor, schema: str, table: str, tenant: str, roles: pg_roles.ServingRoles
) -> bool:
    """The policy showing `tenant`'s login its own rows of one parent; True if created now."""
    name = policy_name(tenant)
    cur.execute(
        "select 1 from pg_policies where schemaname = %s and tablename = %s and policyname = %s",
        [schema, table, name],
    )
    if cur.fetchone() is not None:
        return False
    cur.execute(
        sql.SQL("create policy {} on {} for select to {} using (tenant_id = {})").format(
            sql.Identifier(name),
            sql.Identifier(schema, table),
            sql.Identifier(tenant_role(tenant, roles)),
            sql.Literal(tenant),
        )
    )
    return True


def tenant_parents(cur: psycopg.Cursor) -> list[tuple[str, str]]:
    """Every tenant-partitioned served table (schema, name)."""
    cur.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'p' and n.nspname in ('marts', 'ops') order by 1, 2"
    )
    return [(s, t) for s, t in cur.fetchall()]


def refuse_single_chain_database(cur: psycopg.Cursor) -> None:
    """A database laid out for one chain (plain tables in `marts` / `ops`) gets no tenant
    login: the read group's grants on those tables carry no tenant policy, so the login would
    read every table of that chain."""
    cur.execute(
        "select format('%I.%I', n.nspname, c.relname) from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'r' and n.nspname in ('marts', 'ops') order by 1 limit 1"
    )
    row = cur.fetchone()
    if row is not None:
        raise ValueError(
            f"this database serves a single chain ({row[0]} is a plain table, not partitioned "
            "by tenant): a tenant login would read every table of that chain; nothing was "
            "changed; give the tenants a database of their own"
        )


def add_tenant_login(
    conn: psycopg.Connection,
    tenant: str,
    password: str,
    roles: pg_roles.ServingRoles = pg_roles.DEFAULT_ROLES,
) -> str:
    """Create or rotate `tenant`'s BI login; its policy goes on every served table at once.

    Returns the role name. The role is read-only, joins the read group (usage on `marts` /
    `ops`, select on the parents) and never the chain group: without a policy it would see
    nothing, with its policy it sees its own tenant's rows only. An existing role of that name
    outside the read group (made by someone else) is refused, not taken over, and so is a
    single-chain database (`refuse_single_chain_database`).
    """
    role = tenant_role(tenant, roles)
    if not password:
        raise ValueError("a tenant login needs a password (the --password-env variable is empty)")
    ident = sql.Identifier(role)

    def work(cur: psycopg.Cursor) -> None:
        # Grants on the database row must not run beside a publish's (PostgreSQL fails
        # concurrent GRANTs on one object): the publishes' roles lock, for this transaction.
        cur.execute("select pg_advisory_xact_lock(%s, %s)", [LOCK_SPACE, ROLES_KEY])
        # After any single-chain publish (whose tables it would then see), and none can start
        # before this commits (that publish then refuses the database for this login).
        pg_roles.wait_for_publish(cur)
        refuse_single_chain_database(cur)
        pg_roles._ensure_groups(cur, conn.info.dbname, roles)
        ensure_groups(cur, roles)
        pg_roles.refuse_foreign_role(cur, role, roles)
        if not pg_roles._role_exists(cur, role):
            cur.execute(sql.SQL("create role {} login").format(ident))
        verifier = sql.Literal(pg_roles.scram_verifier(password))
        cur.execute(sql.SQL("alter role {} login password {}").format(ident, verifier))
        pg_roles._harden_login(cur, role, conn.info.dbname, roles)
        chain = sql.Identifier(roles.chain)
        cur.execute(sql.SQL("revoke {} from {}").format(chain, ident))
        cur.execute(
            sql.SQL(
                "insert into {} values (%s, %s) on conflict (role_name) do update "
                "set tenant_id = excluded.tenant_id"
            ).format(sql.Identifier(pg_roles.ADMIN_SCHEMA, LOGINS_TABLE)),
            [role, tenant],
        )
        for schema, table in tenant_parents(cur):
            ensure_tenant_policy(cur, schema, table, tenant, roles)

    in_short_lock_attempts(conn, 30.0, work, f"adding {role}'s policies")
    return role
