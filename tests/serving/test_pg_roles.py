"""Roles: medspa_bi reads marts/ops and nothing else; location readers see only their rows."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pg_fixtures import BI_PASSWORD

from medspa.cli import main as medspa
from serving import pg_functions, postgres
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DENIED = [
    ("insert", "insert into marts.dim_locations values ('x', 'x', 'x')"),
    ("update", "update marts.kpi_scorecard set value = 0"),
    ("ddl", "create table marts.mine (i int)"),
    ("public schema", "create table public.mine (i int)"),
    ("temp table", "create temp table mine (i int)"),
    ("copy to file", "copy marts.kpi_scorecard to '/tmp/medspa-leak.csv'"),
    ("copy from file", "copy marts.dim_locations from '/etc/hostname'"),
    ("copy to program", "copy marts.kpi_scorecard to program 'cat > /tmp/medspa-leak'"),
    ("server files", "select pg_read_file('/etc/hostname')"),
    ("admin schema", "select * from medspa_admin.readers"),
    ("publish lock", "select pg_advisory_lock(748213911)"),
    ("tenant lock", "select pg_try_advisory_lock(748213912, hashtext('demo-3'))"),
    ("large object", "select lo_from_bytea(0, 'anything')"),
]


@pytest.mark.parametrize(("what", "statement"), DENIED, ids=[d[0] for d in DENIED])
def test_medspa_bi_is_denied(pg, published, what, statement):
    with pg.connect(pg.bi_url) as conn:
        with pytest.raises(Exception) as err:
            conn.execute(statement)
        # Refused for lack of rights or by the read-only default, never by a typo of ours.
        assert type(err.value).__name__ in {
            "InsufficientPrivilege",
            "ReadOnlySqlTransaction",
        }, f"{what}: {err.value}"


def test_read_only_default_cannot_be_bypassed_into_writes(pg, published):
    with pg.connect(pg.bi_url) as conn:
        conn.execute("set default_transaction_read_only = off")  # allowed, but no grants
        with pytest.raises(Exception, match="permission denied"):
            conn.execute("insert into marts.dim_locations values ('x', 'x', 'x')")


def test_no_reader_may_call_any_advisory_lock_function_but_the_owner_may(pg, published):
    """A reader holding a publish lock (fixed keys, shown to all in pg_locks) and sitting idle
    stopped every publish; every overload of every locking function is closed to readers."""
    with pg.connect() as owner:
        locking = owner.execute(
            "select p.oid::regprocedure::text from pg_proc p "
            "where proname like '%advisory%lock%' and proname not like '%unlock%' order by 1"
        ).fetchall()
        listed = owner.execute(
            "select to_regprocedure(f)::text from unnest(%s::text[]) f order by 1",
            [list(pg_functions.LOCK_FUNCTIONS)],
        ).fetchall()
        assert listed == locking and len(locking) == 16  # bigint and (int, int) of each
        open_to = owner.execute(
            "select f, g from unnest(%s::text[]) f, unnest(array['public', 'medspa_read', "
            "'medspa_bi']) g where has_function_privilege(g, f, 'execute')",
            [[f for (f,) in locking]],
        ).fetchall()
        assert open_to == []
        assert pg_functions.exposed(owner.cursor(), "medspa_read") == []
        # The owner publishes (and adds readers) under these locks: it keeps them.
        assert owner.execute("select pg_try_advisory_lock(1, 2)").fetchone() == (True,)
        owner.execute("select pg_advisory_unlock_all()")
    with pg.connect(pg.bi_url) as conn:
        conn.execute("set default_transaction_read_only = off")
        for function in ("pg_advisory_xact_lock_shared(748213913, 0)", "pg_advisory_lock(1)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select {function}")


def test_readme_names_the_sql_a_superuser_runs_on_an_external_server():
    """The SQL README gives for a server set up without `make pg` is the SQL the code runs."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("```sql\n-- once, as a superuser")[1].split("```")[0]
    text = " ".join(line for line in block.splitlines()[1:] if not line.startswith("--"))
    assert " ".join(text.split()) == pg_functions.revoke_sql("medspa_owner")


def test_a_reader_cannot_store_or_write_a_large_object(pg, published):
    """The read-only default is only a default: large objects needed no grant at all."""
    statements = [
        "select lo_from_bytea(0, 'anything')",
        "select lo_create(0)",
        "select lo_creat(-1)",
        "select lo_import('/etc/hostname')",
        "select lo_put(1, 0, 'x')",
        "select lowrite(0, 'x')",
        "select lo_unlink(1)",
    ]
    with pg.connect(pg.bi_url) as conn:
        conn.execute("set default_transaction_read_only = off")
        for statement in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with pg.connect() as owner:
        assert owner.execute("select count(*) from pg_largeobject_metadata").fetchone() == (0,)


def test_every_publish_puts_back_the_defaults_a_reader_changed(
    pg, published, monkeypatch, serving_db, docs
):
    """Any login may change its own defaults in the database; the publish resets them."""
    reader_url = _add_reader(monkeypatch, pg, "lax_manager", "loc_a")
    for url, role in ((reader_url, "lax_manager"), (pg.bi_url, "medspa_bi")):
        with pg.connect(url) as conn:
            conn.execute("set default_transaction_read_only = off")
            for setting in (
                "default_transaction_read_only = off",
                "idle_in_transaction_session_timeout = 0",
            ):
                conn.execute(f"alter role {role} in database serving set {setting}")
        with pg.connect(url) as conn:
            assert conn.execute("show default_transaction_read_only").fetchone() == ("off",)
    postgres.publish_postgres(serving_db, pg.url, "v2", docs, bi_password=BI_PASSWORD)
    for url in (reader_url, pg.bi_url):
        with pg.connect(url) as conn:
            assert conn.execute(
                "select current_setting('default_transaction_read_only'), "
                "current_setting('idle_in_transaction_session_timeout')"
            ).fetchone() == ("on", "1min")


def test_medspa_bi_reads_marts_and_ops_and_has_no_powers(pg, published):
    with pg.connect(pg.bi_url) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone()[0] > 0
        assert conn.execute("select version from ops.serving_version").fetchone() == ("v2",)
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        powers = conn.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "from pg_roles where rolname = current_user"
        ).fetchone()
        assert powers == (False, False, False, False, False)
        file_roles = conn.execute(
            "select count(*) from pg_roles r where pg_has_role(current_user, r.oid, 'member') "
            "and r.rolname in ('pg_read_server_files', 'pg_write_server_files', "
            "'pg_execute_server_program', 'pg_read_all_data')"
        ).fetchone()
        assert file_roles == (0,)


def _add_reader(monkeypatch, pg, name: str, *locations: str) -> str:
    password = f"pw-{name}"
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    monkeypatch.setenv("READER_PW", password)
    args = ["serving", "add-reader", name, "--password-env", "READER_PW"]
    for loc in locations:
        args += ["--location", loc]
    assert medspa(args) == 0
    return with_user(pg.url, name, password)


def _locations(url: str, table: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(f"select distinct location_id from marts.{table}")}


def test_location_reader_sees_only_its_rows_in_every_location_mart(
    pg, published, monkeypatch, serving_db, docs
):
    url = _add_reader(monkeypatch, pg, "austin_manager", "loc_a")
    with pg.connect() as conn:
        scoped = [
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.columns where table_schema = 'marts' "
                "and column_name = 'location_id' order by 1"
            )
        ]
    assert {"kpi_scorecard", "fct_appointments", "kpi_alerts", "dim_rooms"} <= set(scoped)
    for table in scoped:
        assert _locations(url, table) <= {"loc_a"}, table  # no loc_b, no chain-wide _all
    assert _locations(url, "kpi_scorecard") == {"loc_a"}
    # Tables without location_id are whole (targets explain every KPI).
    assert _locations(pg.bi_url, "kpi_scorecard") == {"_all", "loc_a", "loc_b"}
    # Grants and policies survive the next publish's swap.
    postgres.publish_postgres(serving_db, pg.url, "v2", docs, bi_password=BI_PASSWORD)
    assert _locations(url, "kpi_scorecard") == {"loc_a"}
    assert _locations(url, "fct_invoice_lines") == {"loc_a"}


def _keys(url: str, table: str, key: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(f"select {key} from marts.{table}")}


def test_location_reader_sees_patients_and_providers_of_its_locations_only(
    pg, published, monkeypatch, serving_db, docs
):
    """The dimensions have no location_id: a home location or a fact row at one ties them.

    The fixture's providers: prov_1 (home loc_a, every loc_a appointment), prov_2 (home loc_b,
    every loc_b appointment), prov_3 (home loc_a, no appointments), prov_4 (home loc_b, none).
    Patients pk_0..pk_6 visited both locations, pk_8 lives at loc_b and never visited, pk_9
    lives at loc_a.
    """
    url = _add_reader(monkeypatch, pg, "dims_manager", "loc_a")
    assert _keys(url, "dim_providers", "provider_id") == {"prov_1", "prov_3"}
    patients = {f"pk_{i}" for i in range(7)} | {"pk_9"}
    assert _keys(url, "dim_patients", "patient_key") == patients
    # The whole chain still sees every row, and the policies survive the next publish's swap.
    assert len(_keys(pg.bi_url, "dim_patients", "patient_key")) == 9
    assert len(_keys(pg.bi_url, "dim_providers", "provider_id")) == 4
    postgres.publish_postgres(serving_db, pg.url, "v2", docs, bi_password=BI_PASSWORD)
    assert _keys(url, "dim_providers", "provider_id") == {"prov_1", "prov_3"}
    assert _keys(url, "dim_patients", "patient_key") == patients
    south = _add_reader(monkeypatch, pg, "south_manager", "loc_b")
    assert _keys(south, "dim_providers", "provider_id") == {"prov_2", "prov_4"}
    assert _keys(south, "dim_patients", "patient_key") == {f"pk_{i}" for i in range(7)} | {"pk_8"}


def test_reader_without_location_sees_the_whole_chain(pg, published, monkeypatch):
    url = _add_reader(monkeypatch, pg, "chain_analyst")
    assert _locations(url, "kpi_scorecard") == {"_all", "loc_a", "loc_b"}


def test_add_reader_refuses_bad_names_and_missing_passwords(pg, published, monkeypatch, capsys):
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    monkeypatch.setenv("READER_PW", "x")
    assert medspa(["serving", "add-reader", "Robert'); drop", "--password-env", "READER_PW"]) == 1
    assert medspa(["serving", "add-reader", "medspa_bi", "--password-env", "READER_PW"]) == 1
    assert medspa(["serving", "add-reader", "ok_name", "--password-env", "NOPE_UNSET"]) == 2
    err = capsys.readouterr().err
    assert "must match" in err and "NOPE_UNSET is empty" in err
    assert pg.url.split("@")[0].split(":")[-1] not in err  # the owner's password is masked


def test_without_bi_password_medspa_bi_cannot_log_in_and_the_run_says_how(pg, published):
    """NOLOGIN until MEDSPA_BI_PASSWORD is given; a run without it never locks BI out."""
    import psycopg

    from serving import pg_roles

    with pg.connect() as conn:
        conn.execute("alter role medspa_bi nologin")  # as created without a password
        try:
            notes = pg_roles.ensure_base_roles(conn, None)
            with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
                psycopg.connect(pg.bi_url).close()
        finally:
            again = pg_roles.ensure_base_roles(conn, BI_PASSWORD)
    assert len(notes) == 1 and "MEDSPA_BI_PASSWORD" in notes[0]
    assert again == []
    psycopg.connect(pg.bi_url).close()


def _next_locations(url: str, table: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(f"select distinct location_id from marts__next.{table}")}


def _check_nothing_granted_while_securing(pg, reader: str, locked: str, others: list[str]) -> None:
    """Once `secure_schema` waits for the lock on `locked`: no grant, and nothing readable."""
    import time

    import psycopg

    with pg.connect() as conn:
        waiting = "select count(*) from pg_locks where not granted and relation = %s::regclass"
        deadline = time.monotonic() + 10
        while not conn.execute(waiting, [f"marts__next.{locked}"]).fetchone()[0]:
            assert time.monotonic() < deadline, "secure_schema never reached the lock"
            time.sleep(0.05)
        granted = conn.execute(
            "select has_schema_privilege('medspa_read', 'marts__next', 'usage')"
        ).fetchone()
        assert granted == (False,)
    for table in others:  # not `locked`: a read of it would queue behind secure_schema
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="marts__next"):
            _next_locations(reader, table)  # no grant yet: the schema is closed


def test_a_location_reader_never_reads_other_locations_in_a_loaded_schema(pg, published):
    """`secure_schema` held at its first table by a lock (as a reader's would hold it): while
    it waits, no grant on `marts__next` exists yet; once done, a location reader sees only its
    own rows there. A grant before the policies let it read every location's rows."""
    import threading

    import psycopg

    from serving import pg_roles

    with pg.connect() as conn:
        pg_roles.add_reader(conn, "window_manager", "pw-window", ["loc_a"])
        conn.execute("drop schema if exists marts__next cascade")
        conn.execute("create schema marts__next")
        tables = pg_roles.location_tables(conn, "marts")
        for table in tables:
            conn.execute(f"create table marts__next.{table} as select * from marts.{table}")
        with_location = [
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.columns where table_schema = "
                "'marts__next' and column_name = 'location_id' order by 1"
            )
        ]
    reader = with_user(pg.url, "window_manager", "pw-window")
    holder = psycopg.connect(pg.url)  # its transaction keeps the first table locked
    holder.execute(f"lock table marts__next.{tables[0]} in access share mode")

    def secure() -> None:
        with pg.connect() as conn:
            pg_roles.secure_schema(conn, "marts__next", tables)

    securing = threading.Thread(target=secure)
    securing.start()
    try:
        try:
            others = [t for t in with_location if t != tables[0]]
            _check_nothing_granted_while_securing(pg, reader, tables[0], others)
        finally:
            holder.close()
            securing.join(timeout=30)
        for table in with_location:
            assert _next_locations(reader, table) <= {"loc_a"}, table
        assert _next_locations(reader, "fct_appointments") == {"loc_a"}
        with psycopg.connect(reader) as conn:
            keys = {k for (k,) in conn.execute("select patient_key from marts__next.dim_patients")}
        assert "pk_8" not in keys and "pk_9" in keys  # pk_8: home loc_b, never at loc_a
    finally:
        with pg.connect() as conn:
            conn.execute("drop schema marts__next cascade")


def test_readers_end_transactions_left_idle(pg, published, monkeypatch):
    """A BI session left idle in a transaction would hold its locks and stall every publish."""
    import psycopg

    url = _add_reader(monkeypatch, pg, "idle_manager", "loc_a")
    for reader in (url, pg.bi_url):
        with psycopg.connect(reader) as conn:
            shown = conn.execute("show idle_in_transaction_session_timeout").fetchone()
            assert shown == ("1min",)  # READER_IDLE_TIMEOUT, 60 s


def test_add_reader_never_takes_over_a_role_it_did_not_make(pg, published, monkeypatch, capsys):
    """Another deployment's login (or the owner) keeps its password, settings and groups."""
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    monkeypatch.setenv("READER_PW", "taken-over")
    verifier = "select rolpassword from pg_authid where rolname = 'other_deployment_bi'"
    with pg.connect() as conn:
        conn.execute("drop role if exists other_deployment_bi")
        conn.execute("create role other_deployment_bi login password 'theirs'")
    try:
        before = pg.cluster.psql_superuser(verifier)
        for name in ("other_deployment_bi", "medspa_owner"):
            args = ["serving", "add-reader", name, "--password-env", "READER_PW"]
            assert medspa(args) == 1, name
            assert "not one of this deployment's readers" in capsys.readouterr().err
        assert pg.cluster.psql_superuser(verifier) == before
        with pg.connect() as conn:
            # The owner's pg_signal_backend / pg_read_all_stats come from bootstrap_sql.
            assert conn.execute(
                "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member "
                "join pg_roles g on g.oid = m.roleid "
                "where r.rolname in ('other_deployment_bi', 'medspa_owner') "
                "and g.rolname not in ('pg_signal_backend', 'pg_read_all_stats')"
            ).fetchone() == (0,)
            assert conn.execute(
                "select count(*) from pg_db_role_setting s join pg_roles r on r.oid = s.setrole "
                "where r.rolname in ('other_deployment_bi', 'medspa_owner')"
            ).fetchone() == (0,)
    finally:
        with pg.connect() as conn:
            conn.execute("drop role other_deployment_bi")
    # A reader of ours is still updated (a password rotation, a new scope).
    _add_reader(monkeypatch, pg, "rotated_manager", "loc_a")
    url = _add_reader(monkeypatch, pg, "rotated_manager", "loc_b")
    assert _locations(url, "kpi_scorecard") == {"loc_b"}


def test_add_reader_never_prints_a_malformed_urls_password(monkeypatch, capsys):
    """libpq quotes the password of a URL it cannot parse in its error: the settings refuse
    such a URL before anything connects, without echoing it."""
    monkeypatch.setenv(
        "MEDSPA_SERVING_URL", "postgresql://medspa_owner:50%off!pw@127.0.0.1:1/serving"
    )
    monkeypatch.setenv("READER_PW", "x")
    assert medspa(["serving", "add-reader", "some_reader", "--password-env", "READER_PW"]) == 2
    shown = capsys.readouterr()
    assert "off!pw" not in shown.err + shown.out
    assert "MEDSPA_SERVING_URL is not a PostgreSQL connection string libpq can read" in shown.err


@pytest.mark.parametrize("database", ["postgres", "template1"])
def test_readers_cannot_log_into_the_maintenance_databases(pg, published, database):
    """There PostgreSQL lets every role create temporary tables and functions by default."""
    import psycopg

    for url in (pg.bi_url, pg.url):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(url.replace("/serving?", f"/{database}?")).close()
