"""Two deployments on one PostgreSQL server: each keeps its logins, neither reads the other.

PostgreSQL roles belong to the server, not to a database. The session's `serving` database is
one deployment (default role prefix `medspa`); a second clinic (or a staging copy) gets its
own database and owner here. With the same role names its publish would reset the first
one's BI password and admit the first one's readers, so it is refused, and with its own prefix
(`MEDSPA_SERVING_ROLE_PREFIX`) the two are isolated both ways.
"""

from __future__ import annotations

import psycopg
import pytest
from pg_fixtures import BI_PASSWORD

from medspa.cli import main as medspa
from serving import pg_roles, postgres
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DATABASE = "serving_second"
OWNER, OWNER_PW = "second_owner", "second-owner-pw-1"
SECOND = pg_roles.ServingRoles("second")
SECOND_BI_PW = "second-bi-pw-" + BI_PASSWORD


@pytest.fixture(scope="module")
def second_url(pg) -> str:
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, OWNER, OWNER_PW))
    base = pg.url.replace("/serving?", f"/{DATABASE}?")
    return with_user(base, OWNER, OWNER_PW)


def _can_connect(url: str) -> bool:
    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError as exc:
        assert "permission denied for database" in str(exc), exc
        return False
    return True


def test_a_second_deployment_with_the_same_role_names_is_refused_and_changes_nothing(
    pg, published, serving_db, docs, second_url
):
    with pytest.raises(ValueError, match="MEDSPA_SERVING_ROLE_PREFIX") as refused:
        postgres.publish_postgres(serving_db, second_url, "s1", docs, bi_password="other-bi-pw")
    assert "'serving'" in str(refused.value)  # names the database the roles already serve
    # The first deployment's BI login keeps its password, and nothing was created here.
    with psycopg.connect(pg.bi_url) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone()[0] > 0
    with psycopg.connect(second_url) as conn:
        schemas = conn.execute(
            "select nspname from pg_namespace where nspname in ('marts', 'ops')"
        ).fetchall()
    assert schemas == []
    with (
        psycopg.connect(second_url, autocommit=True) as conn,
        pytest.raises(ValueError, match="already serve database 'serving'"),
    ):
        pg_roles.add_reader(conn, "second_manager", "pw-1", ["loc_a"])


def test_with_its_own_prefix_each_deployment_sees_only_itself(
    pg, published, serving_db, docs, second_url, monkeypatch
):
    postgres.publish_postgres(
        serving_db, second_url, "s1", docs, bi_password=SECOND_BI_PW, roles=SECOND
    )
    # A location reader of the first deployment (made through the CLI, as a user would).
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    monkeypatch.setenv("FIRST_PW", "first-manager-pw")
    assert (
        medspa(
            [
                "serving",
                "add-reader",
                "first_manager",
                "--password-env",
                "FIRST_PW",
                "--location",
                "loc_a",
            ]
        )
        == 0
    )
    second_bi = with_user(second_url, SECOND.bi, SECOND_BI_PW)
    with psycopg.connect(second_bi) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone()[0] > 0
    assert not _can_connect(with_user(second_url, pg_roles.DEFAULT_ROLES.bi, BI_PASSWORD))
    assert not _can_connect(with_user(second_url, "first_manager", "first-manager-pw"))
    assert not _can_connect(with_user(pg.url, SECOND.bi, SECOND_BI_PW))
    # Both BI logins keep their own passwords after both publishes.
    assert _can_connect(pg.bi_url) and _can_connect(second_bi)
    # The second deployment's CLI reader setup uses its prefix from the environment.
    monkeypatch.setenv("MEDSPA_SERVING_URL", second_url)
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", SECOND.prefix)
    monkeypatch.setenv("SECOND_PW", "second-manager-pw")
    assert medspa(["serving", "add-reader", "second_manager", "--password-env", "SECOND_PW"]) == 0
    assert _can_connect(with_user(second_url, "second_manager", "second-manager-pw"))
    assert not _can_connect(with_user(pg.url, "second_manager", "second-manager-pw"))


def test_a_role_prefix_is_checked_before_any_role_is_made():
    for bad in ("", "Medspa", "1abc", "a-b", "x" * 16, 'x"; drop'):
        with pytest.raises(ValueError, match="MEDSPA_SERVING_ROLE_PREFIX"):
            pg_roles.ServingRoles(bad)
    roles = pg_roles.ServingRoles("x" * 15)
    assert len(roles.tenant_login("t" * 40).encode()) <= 63
