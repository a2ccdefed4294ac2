"""A tenant login dropped outside medspa does not break the next publish that adds a table.

`drop owned by x; drop role x` is PostgreSQL's normal way to remove a login, and it left the
login's row in `medspa_admin.tenant_logins`: the next publish creating a table then ran
`create policy ... to <missing role>`, and every tenant's publish failed with `role ... does
not exist`. Runs in its own database with its own role prefix, beside the other tests'.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg
import pytest

from serving import pg_roles, pg_tenant_roles, pg_tenants
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DATABASE = "serving_tn_dropped"
ROLES = pg_roles.ServingRoles("medspa_tdrop")
_publish = functools.partial(pg_tenants.publish_tenant_postgres, roles=ROLES)


def _serving_file(path: Path, with_new_table: bool) -> Path:
    """A small serving.duckdb: one mart, and with `with_new_table` a second one."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.kpi_small as select 'loc_a' as location_id, 1.5 as value")
    if with_new_table:
        con.execute("create table marts.kpi_added as select 'loc_a' as location_id, 7 as n")
    con.close()
    return path


def test_a_dropped_tenant_login_is_forgotten_and_a_new_table_still_publishes(pg, tmp_path, docs):
    owner_password = unquote(urlsplit(pg.url).password or "")
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, "medspa_owner", owner_password))
    url = pg.url.replace("/serving?", f"/{DATABASE}?")
    _publish(_serving_file(tmp_path / "v1.duckdb", False), url, "keep", "v1", docs)
    gone = pg_tenant_roles.tenant_role("gone", ROLES)
    with psycopg.connect(url, autocommit=True) as conn:
        pg_tenant_roles.add_tenant_login(conn, "keep", "keep-pw-1", ROLES)
        pg_tenant_roles.add_tenant_login(conn, "gone", "gone-pw-1", ROLES)
        # Dropped the PostgreSQL way, outside medspa (the owner may: it has CREATEROLE).
        with conn.cursor() as cur:
            pg_roles._drop_owned_by(cur, gone)
            cur.execute(f'drop role "{gone}"')
            assert pg_tenant_roles.tenant_logins(cur) == ["keep"]  # the row is still there
            cur.execute(
                "select count(*) from medspa_admin.tenant_logins where role_name = %s", [gone]
            )
            assert cur.fetchone() == (1,)

    # The publish needs a new table: its policies are made for every registered login.
    result = _publish(_serving_file(tmp_path / "v2.duckdb", True), url, "keep", "v2", docs)

    assert result.rows["marts.kpi_added"] == 1
    assert any(f"tenant login {gone} was dropped outside medspa" in n for n in result.notes)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("select role_name from medspa_admin.tenant_logins order by 1")
        assert rows.fetchall() == [(pg_tenant_roles.tenant_role("keep", ROLES),)]
        policies = conn.execute(
            "select policyname from pg_policies where schemaname = 'marts' "
            "and tablename = 'kpi_added' order by 1"
        ).fetchall()
        assert policies == [("operator_all",), ("tenant_keep",)]
    keep = with_user(url, pg_tenant_roles.tenant_role("keep", ROLES), "keep-pw-1")
    with psycopg.connect(keep) as conn:
        assert conn.execute("select tenant_id, n from marts.kpi_added").fetchall() == [("keep", 7)]
    # The tenant can get a login again, and its policies come back on every table.
    with psycopg.connect(url, autocommit=True) as conn:
        pg_tenant_roles.add_tenant_login(conn, "gone", "gone-pw-2", ROLES)
        policies = conn.execute(
            "select count(*) from pg_policies where policyname = 'tenant_gone'"
        ).fetchone()
        assert policies == (3,)  # kpi_small, kpi_added, ops.serving_version
