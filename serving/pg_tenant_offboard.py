"""A tenant offboarded from the consolidated PostgreSQL database: its login, rows and policies.

A tenant removed from the registry stops running, but what its runs left in the database stays
served: its login can still log in and read its rows (patient keys, revenue), every parent
keeps its policy, and `medspa_admin.tenant_logins` keeps its row, so every new parent would get
its policy again. `remove_tenant` takes all of it out:
- its login (`<prefix>_tenant_<tenant>`) can no longer log in (committed first, so no session
  starts while the rest goes), its open sessions are ended, then what it owns or was granted
  here is dropped and the role with it;
- its partition of every served table (`ops.serving_version` and `marts.kpi_benchmarks`
  included) and any unswapped leftovers of a crashed publish are dropped, with its policy on
  every parent and its bookkeeping rows.
`medspa_admin.benchmark_periods` is left alone: it holds hashes of each benchmark period's
first peer set and values, no tenant's name or data, and dropping a period's record would let
the next benchmarks run publish that period again from the smaller peer set, which would give
away every remaining peer's value (`serving.benchmark_periods`).
Everything after the login is closed happens in one transaction. It holds the tenant's publish
lock (the advisory lock a publish of that tenant holds from start to end, waited for up to the
lock timeout), so a publish still running never swaps rows back in behind the removal, and the
roles lock and the shared schema lock as a publish does, so no other tenant's new parent is
created between the survey and the commit with a policy for a role that goes. The parents are
locked in short attempts, as a swap locks them: a reader's query is never the deadlock victim.

Running it again finds nothing and changes nothing. Only a role that is one of this
deployment's readers (a member of its read group) is dropped; another role of that name is
refused, nothing changed. No statement crosses into another tenant's partition.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from serving import pg_roles, pg_tenant_roles
from serving import pg_tenant_prepare as prep
from serving import pg_tenant_tables as tt
from serving.pg_swap import PgPublishError, in_short_lock_attempts, readers_time_limit
from serving.pg_tenants import TENANT_LOCK
from serving.pg_url import masked_errors


@dataclass
class TenantRemoval:
    """What one tenant had in the database: removed, or with `dry_run` what would be."""

    tenant: str
    dry_run: bool
    #: Its login role, when one exists.
    login: str | None = None
    #: Served table -> rows of the tenant's partition (dropped with it).
    partitions: dict[str, int] = field(default_factory=dict)
    #: The partitions themselves (`medspa_parts.<name>`), in the order of `partitions`.
    partition_tables: list[str] = field(default_factory=list)
    #: Tables of a publish that never swapped (`_n`) or whose drop was left (`_o`).
    leftovers: list[str] = field(default_factory=list)
    #: (`<schema>.<table>`, policy) of every policy for the tenant or naming its login.
    policies: list[tuple[str, str]] = field(default_factory=list)
    #: `medspa_admin` rows of the tenant (`<table>: <role>`).
    bookkeeping: list[str] = field(default_factory=list)
    #: Sessions of its login (ended, or open now in a dry run).
    sessions: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def nothing_left(self) -> bool:
        return not (
            self.login or self.partitions or self.leftovers or self.policies or self.bookkeeping
        )

    def lines(self) -> list[str]:
        """The summary, one fact a line (names and counts, never a value)."""
        if self.nothing_left:
            return [f"PostgreSQL: nothing left of tenant {self.tenant} (no login, rows or policy)"]
        verb = "would drop" if self.dry_run else "dropped"
        out = []
        if self.login:
            sessions = f", {self.sessions} open session(s)" if self.sessions else ""
            out.append(f"PostgreSQL: {verb} login {self.login}{sessions}")
        if self.partitions:
            rows = sum(self.partitions.values())
            out.append(
                f"PostgreSQL: {verb} its partition of {len(self.partitions)} served table(s), "
                f"{rows} row(s) in all (ops.serving_version's row among them)"
                if "ops.serving_version" in self.partitions
                else f"PostgreSQL: {verb} its partition of {len(self.partitions)} served "
                f"table(s), {rows} row(s) in all"
            )
        if self.leftovers:
            out.append(f"PostgreSQL: {verb} {len(self.leftovers)} unswapped table(s) of a publish")
        if self.policies:
            out.append(f"PostgreSQL: {verb} {len(self.policies)} row-level security policies")
        if self.bookkeeping:
            out.append(f"PostgreSQL: {verb} {', '.join(self.bookkeeping)}")
        return out + [f"PostgreSQL: {note}" for note in self.notes]


def _exists(cur: psycopg.Cursor, relation: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", [relation])
    return bool(cur.fetchone()[0])


def _survey(
    cur: psycopg.Cursor, tenant: str, roles: pg_roles.ServingRoles, *, count_rows: bool = True
) -> TenantRemoval:
    """What the database holds of `tenant` now (read only); rows counted only if asked."""
    found = TenantRemoval(tenant, dry_run=True)
    role = pg_tenant_roles.tenant_role(tenant, roles)
    if pg_roles._role_exists(cur, role):
        found.login = role
        cur.execute("select count(*) from pg_stat_activity where usename = %s", [role])
        found.sessions = cur.fetchone()[0]
    # Partitions by their bound, not their name: whatever name they have, they are its rows.
    cur.execute(
        "select format('%%I.%%I', pn.nspname, p.relname), format('%%I.%%I', cn.nspname, c.relname) "
        "from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "join pg_namespace cn on cn.oid = c.relnamespace "
        "join pg_class p on p.oid = i.inhparent join pg_namespace pn on pn.oid = p.relnamespace "
        "where p.relkind = 'p' and pn.nspname in ('marts', 'ops') "
        "and pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%%L)', %s::text) "
        "order by 1",
        [tenant],
    )
    for parent, partition in cur.fetchall():
        found.partitions[parent] = 0
        found.partition_tables.append(partition)
        if count_rows:
            cur.execute(sql.SQL("select count(*) from {}").format(sql.SQL(partition)))
            found.partitions[parent] = cur.fetchone()[0]
    names = [
        tt.partition_name(schema, table, tenant) + suffix
        for schema, table in pg_tenant_roles.tenant_parents(cur)
        for suffix in ("_n", "_o", "")
    ]
    cur.execute(
        "select format('%%I.%%I', n.nspname, c.relname) from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = any(%s) and not c.relispartition order by 1",
        [tt.PARTS_SCHEMA, names],
    )
    found.leftovers = [name for (name,) in cur.fetchall()]
    cur.execute(
        "select format('%%I.%%I', n.nspname, c.relname), p.polname from pg_policy p "
        "join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace "
        "where p.polname = %s or (select oid from pg_roles where rolname = %s) = any(p.polroles) "
        "order by 1, 2",
        [pg_tenant_roles.policy_name(tenant), role],
    )
    found.policies = [(table, policy) for table, policy in cur.fetchall()]
    logins = f"{pg_roles.ADMIN_SCHEMA}.{pg_roles.TENANT_LOGINS_TABLE}"
    if _exists(cur, logins):
        cur.execute(
            sql.SQL("select role_name from {} where tenant_id = %s or role_name = %s").format(
                sql.Identifier(pg_roles.ADMIN_SCHEMA, pg_roles.TENANT_LOGINS_TABLE)
            ),
            [tenant, role],
        )
        found.bookkeeping = [f"{logins} row of {name}" for (name,) in cur.fetchall()]
    return found


def _drop_everything(cur: psycopg.Cursor, tenant: str, roles: pg_roles.ServingRoles) -> None:
    """One transaction: policies, partitions, leftovers, bookkeeping rows, the login."""
    # As a publish: the roles lock for role statements, the schema lock shared so no parent is
    # created (with this tenant's policy, from the bookkeeping row) until this commits.
    cur.execute("select pg_advisory_xact_lock(%s, %s)", [prep.LOCK_SPACE, prep.ROLES_KEY])
    cur.execute("select pg_advisory_xact_lock_shared(%s, %s)", [prep.LOCK_SPACE, prep.SCHEMA_KEY])
    now = _survey(cur, tenant, roles, count_rows=False)
    parents = sorted(set(now.partitions) | {table for table, _ in now.policies})
    if parents:  # every parent at once, in one sorted statement, as a swap locks them
        cur.execute(
            sql.SQL("lock table {} in access exclusive mode").format(
                sql.SQL(", ").join(sql.SQL(p) for p in parents)
            )
        )
    for table, policy in now.policies:
        cur.execute(sql.SQL("drop policy {} on {}").format(sql.Identifier(policy), sql.SQL(table)))
    tables = now.partition_tables + now.leftovers
    if tables:
        cur.execute(sql.SQL("drop table {}").format(sql.SQL(", ").join(sql.SQL(t) for t in tables)))
    if now.bookkeeping:
        cur.execute(
            sql.SQL("delete from {} where tenant_id = %s or role_name = %s").format(
                sql.Identifier(pg_roles.ADMIN_SCHEMA, pg_roles.TENANT_LOGINS_TABLE)
            ),
            [tenant, pg_tenant_roles.tenant_role(tenant, roles)],
        )
    if now.login:
        pg_roles.refuse_foreign_role(cur, now.login, roles)
        pg_roles._drop_owned_by(cur, now.login)
        cur.execute(sql.SQL("drop role {}").format(sql.Identifier(now.login)))


def _close_login(
    conn: psycopg.Connection, role: str, roles: pg_roles.ServingRoles, wait: float
) -> list[str]:
    """No new session of `role` from now on (committed), then its open ones ended."""

    def close(cur: psycopg.Cursor) -> None:
        cur.execute("select pg_advisory_xact_lock(%s, %s)", [prep.LOCK_SPACE, prep.ROLES_KEY])
        if pg_roles._role_exists(cur, role):
            pg_roles.refuse_foreign_role(cur, role, roles)
            cur.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(role)))

    in_short_lock_attempts(conn, wait, close, f"closing {role}'s login")
    return pg_roles._end_sessions_of(conn, role)


def remove_tenant(
    url: str,
    tenant: str,
    *,
    roles: pg_roles.ServingRoles = pg_roles.DEFAULT_ROLES,
    lock_timeout_s: float = 60.0,
    dry_run: bool = False,
) -> TenantRemoval:
    """Take everything of `tenant` out of the database at `url` (see the module docstring);
    with `dry_run` only say what is there. Raises PgPublishError when its publish or readers
    held it past `lock_timeout_s` (nothing changed then, or only its login closed: run it
    again), ValueError when its login's name belongs to a role this deployment did not make."""
    pg_tenant_roles.check_tenant(tenant)
    with masked_errors(url), psycopg.connect(url, autocommit=True) as conn:
        if dry_run:
            with conn.cursor() as cur:
                return _survey(cur, tenant, roles)
        deadline = time.monotonic() + lock_timeout_s
        with (
            readers_time_limit(conn, lock_timeout_s, "nothing of the tenant was dropped"),
            conn.cursor() as cur,
        ):
            cur.execute("select hashtext(%s)", [tenant])
            key = cur.fetchone()[0]
            try:
                prep.wait_lock(
                    cur, "pg_try_advisory_lock", key, deadline, "its publish", TENANT_LOCK
                )
            except PgPublishError:
                raise PgPublishError(
                    f"a publish of tenant {tenant} was still running after {lock_timeout_s:g} s "
                    "(MEDSPA_SERVING_LOCK_TIMEOUT): nothing was changed; run the removal again "
                    "once it has finished"
                ) from None
            try:
                found = _survey(cur, tenant, roles)
                found.dry_run = False
                if found.nothing_left:
                    return found
                if found.login:
                    pg_roles.refuse_foreign_role(cur, found.login, roles)
                    remaining = max(0.1, deadline - time.monotonic())
                    ended = _close_login(conn, found.login, roles, remaining)
                    found.notes += [n for n in ended if not n.startswith("ended ")]
                # Another tenant's login idle in a transaction on a parent would hold the
                # drop as it holds a swap: ended after READER_IDLE_S, as a publish does.
                with pg_roles.ending_idle_blockers(url, conn, roles) as ended_blockers:
                    in_short_lock_attempts(
                        conn,
                        max(0.1, deadline - time.monotonic()),
                        lambda tx: _drop_everything(tx, tenant, roles),
                        f"dropping tenant {tenant}'s rows, policies and login",
                    )
                found.notes += ended_blockers
            except psycopg.errors.DependentObjectsStillExist as exc:
                detail = (exc.diag.message_detail or "").replace("\n", "; ")
                raise ValueError(
                    f"login {found.login} cannot be dropped: it still holds what the owner may "
                    f"not drop ({detail}); it can no longer log in and nothing else was "
                    f"changed; as a superuser, run `drop owned by {found.login};` in each "
                    "database named, then run the removal again"
                ) from None
            finally:
                if not conn.closed:
                    cur.execute("select pg_advisory_unlock(%s, %s)", [TENANT_LOCK, key])
    return found
