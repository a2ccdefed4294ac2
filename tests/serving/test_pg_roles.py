"""Roles: medspa_bi reads marts/ops and nothing else; location readers see only their rows."""

from __future__ import annotations

import pytest
from pg_fixtures import BI_PASSWORD

from medspa.cli import main as medspa
from serving import postgres
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
