"""Readers against publishes, in databases of their own (prefixes `race` and `racet`):

- `add-reader` during a publish waits for it, so the swap never undoes the new scope, and gives
  up with a clear message (nothing changed) when the publish outlasts its wait;
- a tenant login is refused in a single-chain database, and a single-chain publish in a
  database with tenant logins, each with nothing changed;
- a reader idle in a transaction past the limit (lowered here) that blocks a swap has its
  session ended; a reader running a statement never has; an owner that may not signal fails
  as before, saying why;
- `remove-reader` drops a reader's policies, registry row and role and ends its open sessions
  (or says why it may not), and refuses other roles.
Steps are ordered through the server's own lock views (pg_locks), not sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from medspa.cli import main as medspa
from serving import pg_roles, pg_tenant_roles, postgres
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DATABASE, OWNER, OWNER_PW = "serving_race", "race_owner", "race-owner-pw"
TENANT_DATABASE = "serving_race_t"
ROLES = pg_roles.ServingRoles("race")
TENANT_ROLES = pg_roles.ServingRoles("racet")
MGR, MGR_PW = "race_mgr", "race-mgr-pw"


def _database_url(pg, database: str) -> str:
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(database, OWNER, OWNER_PW))
    base = f"postgresql://127.0.0.1:{pg.cluster.port}/{database}?sslmode=require"
    return with_user(base, OWNER, OWNER_PW)


@pytest.fixture(scope="module")
def race_url(pg, serving_db, docs) -> str:
    """A single-chain database, published once, with MGR scoped to loc_a."""
    url = _database_url(pg, DATABASE)
    _publish(serving_db, url, docs, "r1")
    with psycopg.connect(url, autocommit=True) as conn:
        pg_roles.add_reader(conn, MGR, MGR_PW, ["loc_a"], ROLES)
    return url


def _publish(serving_db, url, docs, version: str, **kw) -> postgres.PgPublishResult:
    return postgres.publish_postgres(
        serving_db, url, version, docs, bi_password="race-bi-pw", roles=ROLES, **kw
    )


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll the server until `condition` holds (a step of the other side has happened)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _waiting(url: str, locktype: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        query = "select count(*) from pg_locks where not granted and locktype = %s"
        return conn.execute(query, [locktype]).fetchone()[0] > 0


def _policy_filter(url: str, table: str = "kpi_scorecard") -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select qual from pg_policies where schemaname = 'marts' and tablename = %s "
            "and policyname = %s",
            [table, pg_roles.policy_name(MGR)],
        ).fetchone()
    return row[0] if row else ""


def _registered(url: str) -> dict[str, list[str] | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        return pg_roles.readers(conn)


def test_add_reader_during_a_publish_waits_and_is_not_swapped_away(race_url, serving_db, docs):
    holder = psycopg.connect(with_user(race_url, MGR, MGR_PW))  # its transaction stalls the swap
    holder.execute("select count(*) from marts.kpi_scorecard").fetchone()
    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            publish = pool.submit(_publish, serving_db, race_url, docs, "r2", lock_timeout_s=60)
            _until(lambda: _waiting(race_url, "relation"), "the publish to wait at its swap")

            def rescope() -> None:
                with psycopg.connect(race_url, autocommit=True) as conn:
                    pg_roles.add_reader(conn, MGR, MGR_PW, ["loc_b"], ROLES)

            added = pool.submit(rescope)
            _until(lambda: _waiting(race_url, "advisory"), "add-reader to wait for the publish")
            assert _registered(race_url)[MGR] == ["loc_a"]  # nothing changed while it waits
        finally:
            holder.close()
        publish.result()
        added.result()
    assert _registered(race_url)[MGR] == ["loc_b"]
    assert "loc_b" in _policy_filter(race_url) and "loc_a" not in _policy_filter(race_url)
    with psycopg.connect(with_user(race_url, MGR, MGR_PW)) as conn:
        seen = conn.execute("select distinct location_id from marts.kpi_scorecard").fetchall()
    assert seen == [("loc_b",)]


def test_add_reader_gives_up_on_a_publish_that_keeps_running(race_url):
    before = _registered(race_url)
    with psycopg.connect(race_url, autocommit=True) as publishing:
        publishing.execute("select pg_advisory_lock(%s)", [postgres._ADVISORY_KEY])
        with (
            psycopg.connect(race_url, autocommit=True) as conn,
            pytest.raises(ValueError, match="publish to this database is still running"),
        ):
            pg_roles.add_reader(conn, "race_late", "late-pw", ["loc_a"], ROLES, 0.3)
    assert _registered(race_url) == before
    with psycopg.connect(race_url, autocommit=True) as conn:
        assert conn.execute("select to_regrole('race_late')").fetchone() == (None,)


def test_a_tenant_login_is_refused_in_a_single_chain_database(race_url):
    with (
        psycopg.connect(race_url, autocommit=True) as conn,
        pytest.raises(ValueError, match="serves a single chain"),
    ):
        pg_tenant_roles.add_tenant_login(conn, "acme", "acme-pw", ROLES)
    with psycopg.connect(race_url, autocommit=True) as conn:
        assert conn.execute("select to_regrole('race_tenant_acme')").fetchone() == (None,)
        assert pg_roles.registered_tenant_logins(conn.cursor()) == []


def test_a_single_chain_publish_refuses_a_database_with_tenant_logins(pg, serving_db, docs):
    url = _database_url(pg, TENANT_DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        pg_tenant_roles.add_tenant_login(conn, "acme", "acme-pw", TENANT_ROLES)
    with pytest.raises(postgres.PgPublishError, match=r"tenant logins \(racet_tenant_acme\)"):
        postgres.publish_postgres(serving_db, url, "t1", docs, roles=TENANT_ROLES)
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = conn.execute(
            "select count(*) from pg_namespace where nspname like any(array['marts%', 'ops%'])"
        ).fetchone()
        assert schemas == (0,)
        assert conn.execute("select to_regrole('racet_bi')").fetchone() == (None,)
        with pytest.raises(ValueError, match="serves tenants"):
            pg_roles.add_reader(conn, "racet_mgr", "pw", ["loc_a"], TENANT_ROLES)


def _idle_reader(url: str) -> psycopg.Connection:
    """MGR's session with the timeout lifted, idle in a transaction that holds a served table."""
    reader = psycopg.connect(with_user(url, MGR, MGR_PW))
    reader.execute("set idle_in_transaction_session_timeout = 0")
    reader.execute("select count(*) from marts.kpi_scorecard").fetchone()
    return reader


def test_a_swap_ends_a_reader_left_idle_in_a_transaction(race_url, serving_db, docs, monkeypatch):
    monkeypatch.setattr(pg_roles, "READER_IDLE_S", 1.0)
    reader = _idle_reader(race_url)
    try:
        result = _publish(serving_db, race_url, docs, "r-idle", lock_timeout_s=30)
        assert any(f"ended reader {MGR}'s session" in note for note in result.notes)
        assert postgres.served_version(race_url) == "r-idle"
        with pytest.raises(psycopg.OperationalError):
            reader.execute("select 1").fetchone()
    finally:
        reader.close()


def test_a_swap_never_ends_a_reader_running_a_statement(race_url, serving_db, docs, monkeypatch):
    monkeypatch.setattr(pg_roles, "READER_IDLE_S", 0.0)
    served = postgres.served_version(race_url)
    with psycopg.connect(with_user(race_url, MGR, MGR_PW), autocommit=True) as reader:
        statement = "select count(*), pg_sleep(4) from marts.kpi_scorecard"
        running = threading.Thread(target=lambda: reader.execute(statement).fetchone())
        running.start()
        try:
            with pytest.raises(postgres.PgPublishError, match="a running query never is"):
                _publish(serving_db, race_url, docs, "r-busy", lock_timeout_s=1.5)
        finally:
            running.join(timeout=30)
        assert reader.execute("select 1").fetchone() == (1,)  # its session is still there
    assert postgres.served_version(race_url) == served


def test_an_owner_that_may_not_signal_fails_as_before_saying_why(
    pg, race_url, serving_db, docs, monkeypatch
):
    monkeypatch.setattr(pg_roles, "READER_IDLE_S", 0.0)
    served = postgres.served_version(race_url)
    pg.cluster.psql_superuser(f"revoke pg_signal_backend, pg_read_all_stats from {OWNER}")
    reader = _idle_reader(race_url)
    try:
        with pytest.raises(postgres.PgPublishError, match=f"{OWNER} may not end readers"):
            _publish(serving_db, race_url, docs, "r-nosignal", lock_timeout_s=1.5)
        assert reader.execute("select 1").fetchone() == (1,)
    finally:
        reader.close()
        pg.cluster.psql_superuser(f"grant pg_signal_backend, pg_read_all_stats to {OWNER}")
    assert postgres.served_version(race_url) == served


def test_remove_reader_drops_the_reader_and_refuses_other_roles(race_url, monkeypatch, capsys):
    with psycopg.connect(race_url, autocommit=True) as conn:
        pg_roles.add_reader(conn, "race_gone", "gone-pw", ["loc_a"], ROLES)
    monkeypatch.setenv("MEDSPA_SERVING_URL", race_url)
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", ROLES.prefix)
    # Two sessions the reader left open: one idle, one idle in a transaction that read a table.
    idle = psycopg.connect(with_user(race_url, "race_gone", "gone-pw"), autocommit=True)
    in_tx = psycopg.connect(with_user(race_url, "race_gone", "gone-pw"))
    in_tx.execute("select count(*) from marts.kpi_scorecard").fetchone()
    try:
        assert medspa(["serving", "remove-reader", "race_gone"]) == 0
        assert "ended 2 open session(s) of race_gone" in capsys.readouterr().out
        for session in (idle, in_tx):
            with pytest.raises(psycopg.OperationalError):
                session.execute("select 1").fetchone()
    finally:
        idle.close()
        in_tx.close()
    with psycopg.connect(race_url, autocommit=True) as conn:
        assert conn.execute("select to_regrole('race_gone')").fetchone() == (None,)
        policies = conn.execute(
            "select count(*) from pg_policies where policyname = 'reader_race_gone'"
        ).fetchone()
        assert policies == (0,)
    assert "race_gone" not in _registered(race_url)
    capsys.readouterr()
    for other in (ROLES.bi, OWNER):
        assert medspa(["serving", "remove-reader", other]) == 1
        assert "remove-reader failed" in capsys.readouterr().err
    with psycopg.connect(race_url, autocommit=True) as conn:
        assert conn.execute(f"select to_regrole('{ROLES.bi}') is not null").fetchone() == (True,)


def test_remove_reader_says_which_sessions_it_may_not_end(race_url, pg):
    """Without the right to signal, the reader's (idle) session is left running without rights and
    the note says what to grant; the role is dropped all the same."""
    with psycopg.connect(race_url, autocommit=True) as conn:
        pg_roles.add_reader(conn, "race_stays", "stays-pw", None, ROLES)
    session = psycopg.connect(with_user(race_url, "race_stays", "stays-pw"), autocommit=True)
    pg.cluster.psql_superuser(f"revoke pg_signal_backend, pg_read_all_stats from {OWNER}")
    try:
        with psycopg.connect(race_url, autocommit=True) as conn:
            notes = pg_roles.remove_reader(conn, "race_stays", ROLES)
            assert conn.execute("select to_regrole('race_stays')").fetchone() == (None,)
        assert notes == [
            f"1 session(s) of race_stays were left running, without rights to any served table: "
            f"{OWNER} may not end them (grant it pg_signal_backend and pg_read_all_stats, as "
            "`medspa serving pg-start` does)"
        ]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            session.execute("select count(*) from marts.kpi_scorecard").fetchone()
    finally:
        session.close()
        pg.cluster.psql_superuser(f"grant pg_signal_backend, pg_read_all_stats to {OWNER}")


def test_remove_reader_drops_what_the_reader_left_behind(race_url, pg, monkeypatch, capsys):
    """As the audit found: a reader's own `alter default privileges ... to public` made every
    `remove-reader` fail (the role owned default privileges) and left it NOLOGIN with its
    policies. Now what it owns here goes with it; what the owner may not drop (here: default
    privileges in another database) fails clearly, changes nothing else, and a second run
    after a superuser dropped it succeeds."""
    name, password = "race_left", "left-pw"
    with psycopg.connect(race_url, autocommit=True) as conn:
        pg_roles.add_reader(conn, name, password, ["loc_a"], ROLES)
    with psycopg.connect(with_user(race_url, name, password), autocommit=True) as reader:
        reader.execute("set default_transaction_read_only = off")
        reader.execute("alter default privileges grant select on tables to public")
    # A large object it owns (one stored before readers lost lo_create), given by a superuser.
    pg.cluster.psql_superuser(
        f"select lo_from_bytea(0, 'kept') as lo \\gset\nalter large object :lo owner to {name};",
        DATABASE,
    )
    pg.cluster.psql_superuser(
        f"alter default privileges for role {name} grant select on tables to public;", "postgres"
    )
    monkeypatch.setenv("MEDSPA_SERVING_URL", race_url)
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", ROLES.prefix)
    try:
        assert medspa(["serving", "remove-reader", name]) == 1
        err = capsys.readouterr().err
        assert "database postgres" in err and f"drop owned by {name};" in err, err
        with psycopg.connect(race_url, autocommit=True) as conn:
            assert conn.execute(
                "select rolcanlogin from pg_roles where rolname = %s", [name]
            ).fetchone() == (False,)
            assert (
                conn.execute(
                    "select count(*) from pg_policies where policyname = %s", [f"reader_{name}"]
                ).fetchone()[0]
                > 0
            )  # nothing but its login changed
        assert name in _registered(race_url)
    finally:
        pg.cluster.psql_superuser(f"drop owned by {name};", "postgres")
    assert medspa(["serving", "remove-reader", name]) == 0
    with psycopg.connect(race_url, autocommit=True) as conn:
        assert conn.execute("select to_regrole(%s)", [name]).fetchone() == (None,)
        assert conn.execute("select count(*) from pg_largeobject_metadata").fetchone() == (0,)
        assert conn.execute("select count(*) from pg_default_acl").fetchone() == (0,)
        # The owner was made a member of the reader only for the drop: gone with it.
        assert conn.execute(
            "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member "
            "where r.rolname = %s",
            [OWNER],
        ).fetchone() == (2,)  # pg_signal_backend and pg_read_all_stats
    assert name not in _registered(race_url)
