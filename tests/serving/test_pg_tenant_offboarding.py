"""A tenant removed from the registry is removed from the consolidated PostgreSQL database.

Its own database (`serving_offboard`) and role prefix in the session's cluster. Tenants `alpha`
and `gamma` publish the fixture serving file and get their logins; `medspa tenant remove gamma`
(gamma no longer in the registry) must leave gamma nothing -- login, open session, rows,
partitions, policies, bookkeeping -- and alpha exactly what it had. A second removal finds
nothing and changes nothing.
"""

from __future__ import annotations

import functools
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from pg_fixtures import BI_PASSWORD

from medspa.cli import main as medspa
from serving import pg_roles, pg_tenant_roles, pg_tenant_tables, pg_tenants
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DATABASE = "serving_offboard"
ROLES = pg_roles.ServingRoles("medspa_ob")
_publish = functools.partial(pg_tenants.publish_tenant_postgres, roles=ROLES)
PASSWORDS = {"alpha": "alpha-pw-" + BI_PASSWORD, "gamma": "gamma-pw-" + BI_PASSWORD}


@pytest.fixture(scope="module")
def odb(pg, serving_db, docs):
    """The database with alpha and gamma published and both logins made."""
    owner_password = unquote(urlsplit(pg.url).password or "")
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, "medspa_owner", owner_password))
    url = pg.url.replace("/serving?", f"/{DATABASE}?")
    for tenant in PASSWORDS:
        _publish(serving_db, url, tenant, f"{tenant}-1", docs)
    with psycopg.connect(url, autocommit=True) as conn:
        for tenant, password in PASSWORDS.items():
            pg_tenant_roles.add_tenant_login(conn, tenant, password, ROLES)
    return url


def _login(url: str, tenant: str) -> psycopg.Connection:
    role = pg_tenant_roles.tenant_role(tenant, ROLES)
    return psycopg.connect(with_user(url, role, PASSWORDS[tenant]), autocommit=True)


def _held(conn: psycopg.Connection, tenant: str) -> dict[str, object]:
    """Everything the database holds of `tenant`, as the owner sees it."""
    role = pg_tenant_roles.tenant_role(tenant, ROLES)
    with conn.cursor() as cur:
        parents = pg_tenant_roles.tenant_parents(cur)
        rows = {
            f"{s}.{t}": cur.execute(
                f'select count(*) from "{s}"."{t}" where tenant_id = %s', [tenant]
            ).fetchone()[0]
            for s, t in parents
        }
        partitions = cur.execute(
            "select count(*) from pg_class c where c.relispartition "
            "and pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%%L)', %s::text)",
            [tenant],
        ).fetchone()[0]
        names = [
            pg_tenant_tables.partition_name(s, t, tenant) + suffix
            for s, t in parents
            for suffix in ("", "_n", "_o")
        ]
        parts_tables = cur.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'medspa_parts' and c.relname = any(%s)",
            [names],
        ).fetchone()[0]
        policies = cur.execute(
            "select count(*) from pg_policies where policyname = %s",
            [pg_tenant_roles.policy_name(tenant)],
        ).fetchone()[0]
        logins = cur.execute(
            "select count(*) from medspa_admin.tenant_logins where tenant_id = %s", [tenant]
        ).fetchone()[0]
        role_exists = cur.execute(
            "select count(*) from pg_roles where rolname = %s", [role]
        ).fetchone()[0]
    return {
        "rows": sum(rows.values()),
        "tables_with_rows": sum(1 for n in rows.values() if n),
        "partitions": partitions,
        "parts_tables": parts_tables,
        "policies": policies,
        "logins": logins,
        "role": role_exists,
    }


def _env(monkeypatch, tmp_path, url: str, registry_tenants: list[str]) -> list[str]:
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n"
        + "".join(f"  - name: {t}\n    landing: {t}\n    demo: true\n" for t in registry_tenants)
    )
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(registry))
    monkeypatch.setenv("MEDSPA_SERVING_URL", url)
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", ROLES.prefix)
    monkeypatch.setenv("MEDSPA_SERVING_LOCK_TIMEOUT", "2")
    return ["tenant", "remove", "gamma", "--data-dir", str(tmp_path / "data")]


def test_a_removed_tenant_keeps_no_login_rows_or_policies_and_the_other_keeps_everything(
    odb, tmp_path, monkeypatch, capsys
):
    with psycopg.connect(odb, autocommit=True) as owner:
        alpha_before = _held(owner, "alpha")
        gamma_before = _held(owner, "gamma")
        with owner.cursor() as cur:
            parents = len(pg_tenant_roles.tenant_parents(cur))
    # a partition and a policy on every served table
    assert gamma_before["rows"] > 0 and gamma_before["policies"] == parents > 30
    assert gamma_before["partitions"] == gamma_before["parts_tables"] == parents
    assert gamma_before["role"] == 1 and gamma_before["logins"] == 1
    with _login(odb, "alpha") as alpha:
        alpha_rows = alpha.execute("select count(*) from marts.dim_patients").fetchone()[0]
    assert alpha_rows > 0

    args = _env(monkeypatch, tmp_path, odb, ["alpha", "gamma"])
    assert medspa(args) == 2  # still in the registry: refused, nothing changed
    assert "still listed" in capsys.readouterr().err
    args = _env(monkeypatch, tmp_path, odb, ["alpha"])
    assert medspa([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would drop login medspa_ob_tenant_gamma" in out and "dry run" in out
    with psycopg.connect(odb, autocommit=True) as owner:
        assert _held(owner, "gamma") == gamma_before

    # remove-reader does not take a tenant's login; it says what does
    assert medspa(["serving", "remove-reader", "medspa_ob_tenant_gamma"]) == 1
    assert "medspa tenant remove" in capsys.readouterr().err

    gamma = _login(odb, "gamma")  # a session open, idle in a transaction on a served table
    gamma.autocommit = False
    assert gamma.execute("select count(*) from marts.dim_patients").fetchone()[0] > 0
    assert medspa(args) == 0
    out = capsys.readouterr().out
    assert "dropped login medspa_ob_tenant_gamma, 1 open session(s)" in out
    assert "row-level security policies" in out and "ops.serving_version" in out
    assert "landing: not touched" in out
    with pytest.raises(psycopg.OperationalError):  # its session was ended
        gamma.execute("select count(*) from marts.dim_patients").fetchone()
    gamma.close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _login(odb, "gamma")

    with psycopg.connect(odb, autocommit=True) as owner:
        assert _held(owner, "gamma") == {
            "rows": 0,
            "tables_with_rows": 0,
            "partitions": 0,
            "parts_tables": 0,
            "policies": 0,
            "logins": 0,
            "role": 0,
        }
        assert _held(owner, "alpha") == alpha_before
        leftovers = owner.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'medspa_parts' and not c.relispartition and c.relkind = 'r'"
        ).fetchone()[0]
        assert leftovers == 0
    with _login(odb, "alpha") as alpha:
        assert alpha.execute("select count(*) from marts.dim_patients").fetchone()[0] == alpha_rows
        assert alpha.execute(
            "select count(distinct tenant_id) from marts.kpi_scorecard"
        ).fetchone() == (1,)

    assert medspa(args) == 0  # a second removal: nothing left, nothing changed
    assert "nothing left of tenant gamma" in capsys.readouterr().out
    with psycopg.connect(odb, autocommit=True) as owner:
        assert _held(owner, "alpha") == alpha_before


def test_the_removal_waits_for_the_tenants_publish_then_refuses_changing_nothing(
    odb, pg, serving_db, docs, tmp_path, monkeypatch, capsys
):
    _publish(serving_db, odb, "delta", "delta-1", docs)
    with psycopg.connect(odb, autocommit=True) as owner:
        before = _held(owner, "delta")
        # A publish of delta going on: it holds the tenant's publish lock from start to end.
        owner.execute("select pg_advisory_lock(%s, hashtext('delta'))", [pg_tenants.TENANT_LOCK])
        _env(monkeypatch, tmp_path, odb, ["alpha"])
        args = ["tenant", "remove", "delta", "--data-dir", str(tmp_path / "data")]
        assert medspa(args) == 1
        err = capsys.readouterr().err
        assert "a publish of tenant delta was still running" in err and "nothing was" in err
        assert _held(owner, "delta") == before
        owner.execute("select pg_advisory_unlock(%s, hashtext('delta'))", [pg_tenants.TENANT_LOCK])
        assert medspa(args) == 0  # no login was ever made: its rows and partitions go
        assert _held(owner, "delta")["partitions"] == 0
        assert _held(owner, "delta")["rows"] == 0
