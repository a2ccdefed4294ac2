"""Consolidated PostgreSQL serving with a tenant registry: one database, rows per tenant, RLS.

Runs in its own database (`serving_tenants`) of the session's cluster, so the single-chain
tests' `serving` database keeps its layout. Tenant `acme` publishes the fixture serving file,
tenant `bloom` the same shape with every scorecard value shifted and fewer rows, so a leak of
one tenant's rows into the other's view shows in counts and totals.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg
import pytest
from pg_fixtures import (
    BI_PASSWORD,
    make_published_db,
    metabase_sync,
    readers_running,
    scorecard_figures,
)

from medspa.cli import main as medspa
from serving import (
    peer_benchmarks,
    pg_cluster,
    pg_roles,
    pg_tenant_prepare,
    pg_tenant_roles,
    pg_tenant_swap,
    pg_tenant_tables,
    pg_tenants,
    postgres,
)
from serving.pg_url import with_user
from tests.tool_skips import MISSING_TOOL

pytestmark = pytest.mark.xdist_group("pg")

DATABASE = "serving_tenants"
#: A deployment of its own beside the single-chain tests' `serving` database on the same server:
#: PostgreSQL roles are server-wide, so it needs its own role names.
ROLES = pg_roles.ServingRoles("medspa_tn")
_publish = functools.partial(pg_tenants.publish_tenant_postgres, roles=ROLES)
PASSWORDS = {"acme": "acme-pw-" + BI_PASSWORD, "bloom": "bloom-pw-" + BI_PASSWORD}


def _url(url: str, database: str) -> str:
    return url.replace("/serving?", f"/{database}?")


def _variant(path: Path, shift: float) -> Path:
    """The fixture with every scorecard value shifted and one slice of rows removed."""
    make_published_db(path)
    con = duckdb.connect(str(path))
    con.execute("update marts.kpi_scorecard set value = value + ?", [shift])
    con.execute("delete from marts.kpi_scorecard where grain = 'month' and location_id = 'loc_b'")
    con.close()
    return path


@pytest.fixture(scope="module")
def tdb(pg, tmp_path_factory, docs):
    """The tenant database with acme (v-a1) and bloom (v-b1) published and both logins made."""
    owner_password = unquote(urlsplit(pg.url).password or "")
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql(DATABASE, "medspa_owner", owner_password))
    url = _url(pg.url, DATABASE)
    root = tmp_path_factory.mktemp("tenants")
    files = {
        "acme": make_published_db(root / "acme.duckdb"),
        "bloom": _variant(root / "b.duckdb", 1000),
    }
    results = {
        "acme": _publish(files["acme"], url, "acme", "v-a1", docs, bi_password=BI_PASSWORD),
        "bloom": _publish(files["bloom"], url, "bloom", "v-b1", docs),
    }
    with psycopg.connect(url, autocommit=True) as conn:
        for tenant, password in PASSWORDS.items():
            pg_tenant_roles.add_tenant_login(conn, tenant, password, ROLES)
    return {"url": url, "files": files, "results": results, "root": root}


def _login(tdb, tenant: str) -> psycopg.Connection:
    return psycopg.connect(
        with_user(tdb["url"], pg_tenant_roles.tenant_role(tenant, ROLES), PASSWORDS[tenant]),
        autocommit=True,
    )


def _parents(conn: psycopg.Connection) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        return pg_tenant_roles.tenant_parents(cur)


def _fingerprints(conn: psycopg.Connection, tenant: str) -> dict[str, tuple[int, str]]:
    """Per served table: row count and md5 of the tenant's rows as text, in a stable order."""
    out = {}
    for schema, table in _parents(conn):
        out[f"{schema}.{table}"] = conn.execute(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
            f"from {schema}.{table} t where tenant_id = %s",
            [tenant],
        ).fetchone()
    return out


def test_every_served_table_is_partitioned_by_a_not_null_tenant_id(tdb):
    with psycopg.connect(tdb["url"]) as conn:
        parents = _parents(conn)
        tenant_cols = conn.execute(
            "select count(*) from information_schema.columns where table_schema in "
            "('marts', 'ops') and column_name = 'tenant_id' and data_type = 'text' "
            "and is_nullable = 'NO'"
        ).fetchone()[0]
        plain = conn.execute(
            "select count(*) from pg_tables where schemaname in ('marts', 'ops')"
        ).fetchone()[0]
    # Every published table plus ops.serving_version, each a parent; no plain table.
    assert len(parents) == len(tdb["results"]["acme"].rows) == tenant_cols
    assert plain == len(parents)  # pg_tables lists partitioned parents too
    assert all(
        len(pg_tenant_tables.partition_name(s, t, "x" * 40) + "_n") <= 63 for s, t in parents
    )


def test_a_tenant_login_sees_exactly_its_rows_in_every_table(tdb):
    for tenant in ("acme", "bloom"):
        rows = tdb["results"][tenant].rows
        with _login(tdb, tenant) as conn:
            for schema, table in _parents(conn):
                n, foreign = conn.execute(
                    f"select count(*), count(*) filter (where tenant_id <> %s) "
                    f"from {schema}.{table}",
                    [tenant],
                ).fetchone()
                assert (n, foreign) == (rows[f"{schema}.{table}"], 0), (tenant, table)
            version = conn.execute("select version from ops.serving_version").fetchall()
            assert version == [(tdb["results"][tenant].version,)]


def test_a_tenant_login_cannot_reach_partitions_or_other_tenants(tdb):
    other = pg_tenant_tables.partition_name("marts", "kpi_scorecard", "bloom")
    own = pg_tenant_tables.partition_name("marts", "kpi_scorecard", "acme")
    with _login(tdb, "acme") as conn:
        for part in (own, other):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select count(*) from {pg_tenant_tables.PARTS_SCHEMA}.{part}")
        assert conn.execute(
            "select count(*) from marts.kpi_scorecard where tenant_id = 'bloom'"
        ).fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from medspa_admin.tenant_logins")
        # Column statistics (most common values...) of the served tables stay hidden too.
        assert conn.execute(
            "select count(*) from pg_stats where schemaname in ('marts', 'ops', %s)",
            [pg_tenant_tables.PARTS_SCHEMA],
        ).fetchone() == (0,)
        # The policy is a constant: the planner reads acme's partition and no other.
        plan = conn.execute("explain (format json) select * from marts.kpi_scorecard").fetchone()
        scanned = set(_relations(plan[0]))
        assert scanned == {own}, scanned
        with pytest.raises(Exception) as err:
            conn.execute("update marts.kpi_scorecard set value = 0")
        assert type(err.value).__name__ in {"InsufficientPrivilege", "ReadOnlySqlTransaction"}


def _relations(plan) -> list[str]:
    """Every relation a JSON plan scans."""
    if isinstance(plan, list):
        return [r for p in plan for r in _relations(p)]
    if isinstance(plan, dict):
        own = [plan["Relation Name"]] if "Relation Name" in plan else []
        return own + [r for v in plan.values() for r in _relations(v)]
    return []


def test_operator_group_and_owner_see_every_tenant_single_chain_logins_see_none(tdb, pg):
    want = sum(tdb["results"][t].rows["marts.kpi_scorecard"] for t in ("acme", "bloom"))
    with psycopg.connect(tdb["url"], autocommit=True) as owner:
        assert owner.execute("select count(*) from marts.kpi_scorecard").fetchone() == (want,)
        owner.execute(
            "do $$ begin if not exists (select from pg_roles where rolname = 'ops_anna') then "
            "create role ops_anna login password 'anna-pw-1'; end if; end $$"
        )
        owner.execute(f"grant {ROLES.operator}, {ROLES.read} to ops_anna")
    with psycopg.connect(with_user(tdb["url"], "ops_anna", "anna-pw-1")) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone() == (want,)
        tenants = conn.execute("select tenant_id from ops.serving_version order by 1").fetchall()
        assert tenants == [("acme",), ("bloom",)]
    # The BI login belongs to one chain's layout: across tenants it must see nothing at all.
    with psycopg.connect(with_user(tdb["url"], ROLES.bi, BI_PASSWORD)) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone() == (0,)


def test_republishing_one_tenant_leaves_the_other_byte_identical(tdb, docs):
    with psycopg.connect(tdb["url"]) as conn:
        bloom_before = _fingerprints(conn, "bloom")
        acme_before = _fingerprints(conn, "acme")
    changed = _variant(tdb["root"] / "acme-2.duckdb", 7)
    result = _publish(changed, tdb["url"], "acme", "v-a2", docs)
    with psycopg.connect(tdb["url"]) as conn:
        assert _fingerprints(conn, "bloom") == bloom_before
        acme_after = _fingerprints(conn, "acme")
    assert acme_after["marts.kpi_scorecard"] != acme_before["marts.kpi_scorecard"]
    assert acme_after["marts.kpi_scorecard"][0] == result.rows["marts.kpi_scorecard"]
    assert pg_tenants.served_versions(tdb["url"]) == {"acme": "v-a2", "bloom": "v-b1"}
    leftovers = _leftover_fresh_tables(tdb["url"])
    assert leftovers == []


def _leftover_fresh_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            t
            for (t,) in conn.execute(
                "select tablename from pg_tables where schemaname = %s "
                "and (tablename like '%%\\_n' or tablename like '%%\\_o')",
                [pg_tenant_tables.PARTS_SCHEMA],
            ).fetchall()
        ]


def test_two_tenants_publishing_at_once_both_succeed(tdb, docs):
    jobs = {"acme": ("v-a3", tdb["files"]["acme"]), "bloom": ("v-b3", tdb["files"]["bloom"])}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_publish, path, tdb["url"], tenant, version, docs)
            for tenant, (version, path) in jobs.items()
        ]
        results = [f.result() for f in futures]  # re-raises either publish's error
    assert [r.version for r in results] == ["v-a3", "v-b3"]
    assert pg_tenants.served_versions(tdb["url"]) == {"acme": "v-a3", "bloom": "v-b3"}


def test_a_second_publish_of_the_same_tenant_is_refused_not_interleaved(tdb, docs):
    holder = psycopg.connect(tdb["url"], autocommit=True)
    holder.execute("select pg_advisory_lock(%s, hashtext('acme'))", [pg_tenants.TENANT_LOCK])
    try:
        with pytest.raises(postgres.PgPublishError, match="another publish of tenant acme"):
            _publish(tdb["files"]["acme"], tdb["url"], "acme", "x", docs)
    finally:
        holder.close()
    assert pg_tenants.served_versions(tdb["url"])["acme"] != "x"


def test_a_reader_holding_the_tables_makes_a_swap_give_up_cleanly(tdb, docs):
    """Every tenant's swap locks the parents for an instant, so a transaction left open by any
    login delays it; past the timeout the publish fails and leaves the old rows served."""
    before = pg_tenants.served_versions(tdb["url"])
    reader = _login(tdb, "bloom")
    reader.autocommit = False
    reader.execute("select count(*) from marts.kpi_scorecard").fetchone()
    try:
        with pytest.raises(postgres.PgPublishError, match="previous data is still served"):
            _publish(tdb["files"]["acme"], tdb["url"], "acme", "too-late", docs, lock_timeout_s=1.5)
        assert reader.execute("select count(*) from ops.serving_version").fetchone() == (1,)
    finally:
        reader.close()
    assert pg_tenants.served_versions(tdb["url"]) == before
    assert _leftover_fresh_tables(tdb["url"]) == []


def test_a_tenant_reader_during_its_swaps_sees_old_or_new_never_an_error(tdb, docs):
    old, new = tdb["files"]["acme"], _variant(tdb["root"] / "acme-swap.duckdb", 3)
    expected = {"s-old": scorecard_figures(old), "s-new": scorecard_figures(new)}
    assert expected["s-old"] != expected["s-new"]
    _publish(old, tdb["url"], "acme", "s-old", docs)
    with readers_running(lambda: _login(tdb, "acme")) as (results, errors):
        for version, path in (("s-new", new), ("s-old", old), ("s-new", new)):
            time.sleep(0.2)
            _publish(path, tdb["url"], "acme", version, docs)
            # bloom publishing meanwhile changes nothing acme's readers can see.
            _publish(tdb["files"]["bloom"], tdb["url"], "bloom", "v-b4", docs)
        time.sleep(0.2)
    assert errors == []
    assert {v for v, _, _ in results} == {"s-old", "s-new"}, len(results)
    for version, n, total in results:
        assert (n, float(total)) == expected[version], version


def test_an_added_column_widens_the_table_others_read_null(tdb, docs):
    wider = make_published_db(tdb["root"] / "acme-wide.duckdb")
    con = duckdb.connect(str(wider))
    con.execute("alter table marts.dim_locations add column region varchar default 'south'")
    con.execute("create table marts.zz_new_mart as select 'loc_a' as location_id, 1.5 as x")
    con.close()
    result = _publish(wider, tdb["url"], "acme", "w-1", docs)
    assert any("added column region" in n for n in result.notes)
    # A new table is a new parent, born with every existing tenant login's policy.
    for tenant, rows in (("acme", 1), ("bloom", 0)):
        with _login(tdb, tenant) as conn:
            assert conn.execute("select count(*) from marts.zz_new_mart").fetchone() == (rows,)
    with psycopg.connect(tdb["url"]) as conn:
        regions = dict(
            conn.execute(
                "select tenant_id, array_agg(distinct coalesce(region, '<null>')) "
                "from marts.dim_locations group by 1"
            ).fetchall()
        )
    assert regions == {"acme": ["south"], "bloom": ["<null>"]}
    # Back to the narrower build: the column stays, acme's rows hold NULL there, and say so.
    result = _publish(tdb["files"]["acme"], tdb["url"], "acme", "w-2", docs)
    assert any("region is no longer built" in n for n in result.notes)
    with _login(tdb, "acme") as conn:  # no longer built by acme: its rows of it are gone
        assert conn.execute("select count(*) from marts.zz_new_mart").fetchone() == (0,)


def test_a_changed_column_type_is_refused_and_the_old_rows_stay_served(tdb, docs):
    before = pg_tenants.served_versions(tdb["url"])
    with psycopg.connect(tdb["url"]) as conn:
        acme_before = _fingerprints(conn, "acme")
    changed = make_published_db(tdb["root"] / "acme-type.duckdb")
    con = duckdb.connect(str(changed))
    con.execute("alter table marts.kpi_scorecard alter value type varchar")
    con.close()
    with pytest.raises(pg_tenant_tables.PgSchemaDrift, match=r"marts.kpi_scorecard.*value"):
        _publish(changed, tdb["url"], "acme", "t-bad", docs)
    assert pg_tenants.served_versions(tdb["url"]) == before
    with psycopg.connect(tdb["url"]) as conn:
        assert _fingerprints(conn, "acme") == acme_before
    assert _leftover_fresh_tables(tdb["url"]) == []


def test_a_single_chain_publish_refuses_a_tenant_database(tdb, docs):
    with pytest.raises(postgres.PgPublishError, match="tenant"):
        postgres.publish_postgres(tdb["files"]["acme"], tdb["url"], "v-single", docs)
    assert "acme" in pg_tenants.served_versions(tdb["url"])


def test_a_tenant_publish_refuses_a_single_chain_database(pg, published, serving_db, docs):
    with pytest.raises(postgres.PgPublishError, match="not partitioned by tenant"):
        _publish(serving_db, pg.url, "acme", "v-x", docs)
    assert postgres.served_version(pg.url) == "v2"


def test_cli_creates_and_rotates_a_tenant_login_before_its_first_publish(
    tdb, docs, tmp_path, monkeypatch, capsys
):
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n"
        + "".join(f"  - name: {t}\n    landing: {t}\n    demo: true\n" for t in ("acme", "cedar"))
    )
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(registry))
    monkeypatch.setenv("MEDSPA_SERVING_URL", tdb["url"])
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", ROLES.prefix)
    role = pg_tenant_roles.tenant_role("cedar", ROLES)
    for password in ("cedar-first", "cedar-rotated"):
        monkeypatch.setenv("CEDAR_PW", password)
        assert (
            medspa(["serving", "add-reader", "--tenant", "cedar", "--password-env", "CEDAR_PW"])
            == 0
        )
    assert f"reader {role} can log in" in capsys.readouterr().out
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(with_user(tdb["url"], role, "cedar-first"))
    cedar = with_user(tdb["url"], role, "cedar-rotated")
    with psycopg.connect(cedar) as conn:  # no rows yet: cedar never published
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone() == (0,)
    result = _publish(tdb["files"]["bloom"], tdb["url"], "cedar", "c-1", docs)
    with psycopg.connect(cedar) as conn:
        assert conn.execute(
            "select count(*), count(distinct tenant_id) from marts.kpi_scorecard"
        ).fetchone() == (result.rows["marts.kpi_scorecard"], 1)
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)


def test_a_tenant_login_can_take_no_publish_lock(tdb):
    """As the audit did: demo-2's login holding demo-3's lock (or the schema or roles lock) and
    sitting idle stopped demo-3's publish (or every tenant's)."""
    with _login(tdb, "acme") as conn:
        conn.execute("set default_transaction_read_only = off")
        for call in (
            f"pg_advisory_lock({pg_tenants.TENANT_LOCK}, hashtext('bloom'))",
            f"pg_advisory_lock({pg_tenant_prepare.LOCK_SPACE}, {pg_tenant_prepare.ROLES_KEY})",
            f"pg_try_advisory_lock_shared({pg_tenant_prepare.LOCK_SPACE}, "
            f"{pg_tenant_prepare.SCHEMA_KEY})",
            f"pg_advisory_xact_lock({pg_roles.PUBLISH_LOCK})",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select {call}")
    with psycopg.connect(tdb["url"]) as owner:
        held = owner.execute(
            "select count(*) from pg_locks where locktype = 'advisory' "
            "and database = (select oid from pg_database where datname = current_database())"
        ).fetchone()
    assert held == (0,)


def test_a_tenant_publish_puts_back_the_defaults_tenant_logins_changed(tdb, docs):
    """A tenant login may change its own defaults in the database (as any login may); every
    tenant's publish puts every tenant login's back, as the single-chain publish does."""
    role = pg_tenant_roles.tenant_role("acme", ROLES)
    with _login(tdb, "acme") as conn:
        conn.execute("set default_transaction_read_only = off")
        for setting in (
            "default_transaction_read_only = off",
            "idle_in_transaction_session_timeout = 0",
        ):
            conn.execute(f'alter role "{role}" in database {DATABASE} set {setting}')
    with _login(tdb, "acme") as conn:
        assert conn.execute("show idle_in_transaction_session_timeout").fetchone() == ("0",)
    _publish(tdb["files"]["bloom"], tdb["url"], "bloom", "d-1", docs)  # another tenant's run
    with _login(tdb, "acme") as conn:
        assert conn.execute(
            "select current_setting('default_transaction_read_only'), "
            "current_setting('idle_in_transaction_session_timeout')"
        ).fetchone() == ("on", "1min")


def test_bi_tools_list_the_partitioned_tables_when_they_ask_for_them(tdb, tmp_path):
    """Served tables are partitioned here: pgJDBC lists them only as PARTITIONED TABLE (as
    Metabase asks since it syncs partitioned tables), psqlODBC as TABLE."""
    role, port = pg_tenant_roles.tenant_role("acme", ROLES), urlsplit(tdb["url"]).port
    jdbc = f"jdbc:postgresql://127.0.0.1:{port}/{DATABASE}"

    def tables(types: str | None) -> set[str]:
        facts = metabase_sync(tmp_path, jdbc, role, PASSWORDS["acme"], types)
        return {name for name, _ in facts["table"]}

    plain = tables("TABLE,VIEW")
    assert "marts.kpi_scorecard" not in plain
    assert any(t.startswith(f"{pg_tenant_tables.PARTS_SCHEMA}.") for t in plain)  # unreadable
    synced = tables(None)
    assert {"marts.kpi_scorecard", "ops.serving_version"} <= synced
    pyodbc = pytest.importorskip("pyodbc")
    if pg_cluster.ODBC_DRIVER not in pyodbc.drivers():
        pytest.skip(f"{MISSING_TOOL}: unixodbc has no {pg_cluster.ODBC_DRIVER!r} driver")
    odbc = pyodbc.connect(
        f"Driver={{{pg_cluster.ODBC_DRIVER}}};Server=127.0.0.1;Port={port};Database={DATABASE};"
        f"Uid={role};Pwd={PASSWORDS['acme']};SSLmode=require",
        autocommit=True,
    )
    try:
        listed = {r.table_name for r in odbc.cursor().tables(schema="marts", tableType="TABLE")}
    finally:
        odbc.close()
    assert "kpi_scorecard" in listed


def test_a_tenant_login_ends_transactions_left_idle(tdb):
    """An idle transaction of one tenant's login would hold every parent against all swaps."""
    with _login(tdb, "bloom") as conn:
        shown = conn.execute("show idle_in_transaction_session_timeout").fetchone()
    assert shown == ("1min",)  # pg_roles.READER_IDLE_TIMEOUT, 60 s


def test_cli_refuses_unknown_tenants_and_single_chain_readers_on_a_tenant_database(
    tdb, tmp_path, monkeypatch, capsys
):
    registry = tmp_path / "tenants.yml"
    registry.write_text("tenants:\n  - name: acme\n    landing: acme\n    demo: true\n")
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(registry))
    monkeypatch.setenv("MEDSPA_SERVING_URL", tdb["url"])
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", ROLES.prefix)
    monkeypatch.setenv("PW", "some-password")
    assert medspa(["serving", "add-reader", "--tenant", "zeta", "--password-env", "PW"]) == 2
    assert "no tenant 'zeta'" in capsys.readouterr().err
    # A location reader would see that location's rows of every tenant: refused.
    args = ["serving", "add-reader", "loc_mgr", "--password-env", "PW", "--location", "loc_a"]
    assert medspa(args) == 1
    assert "serves tenants" in capsys.readouterr().err
    monkeypatch.delenv("MEDSPA_TENANTS_FILE")
    assert medspa(["serving", "add-reader", "--tenant", "acme", "--password-env", "PW"]) == 2
    assert "needs the tenant registry" in capsys.readouterr().err


def test_the_swap_attaches_without_a_scan_and_adopts_the_built_indexes(tdb):
    """The CHECK makes ATTACH skip its validation scan, and the fresh table's indexes become
    the partition's (ATTACH builds none under the lock). A throwaway parent and tenant."""
    cols = [
        ("grain", "text"),
        ("location_id", "text"),
        ("kpi", "text"),
        ("period_start", "date"),
        ("value", "double precision"),
    ]
    messages: list[str] = []
    with psycopg.connect(tdb["url"], autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
        try:
            with conn.cursor() as cur:
                columns, _ = pg_tenant_tables.ensure_parent(cur, "marts", "zz_probe", cols, ROLES)
                fresh = pg_tenant_tables.create_fresh(cur, "marts", "zz_probe", "probe", columns)
                cur.execute(
                    f"insert into {pg_tenant_tables.PARTS_SCHEMA}.{fresh} select 'probe', "
                    "'week', 'loc_a', 'k', date '2026-01-05', g from generate_series(1, 500) g"
                )
                assert pg_tenant_tables.index_fresh(cur, fresh, [c for c, _ in columns])
                cur.execute("set client_min_messages = debug1")
            pg_tenant_swap.swap_tenant(conn, "probe", [("marts", "zz_probe")], 10)
            conn.execute("set client_min_messages = notice")
            part = pg_tenant_tables.partition_name("marts", "zz_probe", "probe")
            indexes = conn.execute(
                "select count(*) from pg_indexes where schemaname = %s and tablename = %s",
                [pg_tenant_tables.PARTS_SCHEMA, part],
            ).fetchone()[0]
            assert conn.execute("select count(*) from marts.zz_probe").fetchone() == (500,)
        finally:
            conn.execute("set client_min_messages = notice")
            conn.execute("drop table if exists marts.zz_probe")
    assert indexes == 2  # the two BI indexes, adopted; none built twice
    assert any("is implied by existing constraints" in m for m in messages), messages


def test_peer_benchmarks_are_served_per_tenant_and_touch_nothing_else(tdb, docs):
    """Each tenant's own benchmark file becomes its rows of marts.kpi_benchmarks, under RLS."""
    files = {}
    for tenant, rank in (("acme", 0.25), ("bloom", 0.75)):
        files[tenant] = tdb["root"] / f"{tenant}-peer_benchmarks.duckdb"
        peer_benchmarks.write(
            files[tenant],
            [
                ("avg_ticket", "week", dt.date(2026, 11, 9), 6, 100.0, 120.0, 150.0, 110.0, rank),
                ("no_show_rate", "month", dt.date(2026, 10, 1), 5, 0.05, 0.08, 0.1, 0.07, rank),
            ],
        )
    with psycopg.connect(tdb["url"]) as conn:
        before = {t: _fingerprints(conn, t) for t in ("acme", "bloom")}
    versions = pg_tenants.served_versions(tdb["url"])
    for tenant, path in files.items():
        result = pg_tenants.publish_tenant_benchmarks(path, tdb["url"], tenant, docs, roles=ROLES)
        assert result.rows == {"marts.kpi_benchmarks": 2}
    for tenant, rank in (("acme", 0.25), ("bloom", 0.75)):
        with _login(tdb, tenant) as conn:
            got = conn.execute(
                "select tenant_id, kpi, own_percentile_rank from marts.kpi_benchmarks order by 2"
            ).fetchall()
        assert got == [(tenant, "avg_ticket", rank), (tenant, "no_show_rate", rank)]
    with psycopg.connect(tdb["url"]) as conn:
        after = {t: _fingerprints(conn, t) for t in ("acme", "bloom")}
    for tenant in ("acme", "bloom"):
        del after[tenant]["marts.kpi_benchmarks"]
        assert after[tenant] == before[tenant], tenant
    assert pg_tenants.served_versions(tdb["url"]) == versions
    # The tenant's next nightly publish keeps them: the benchmarks step replaces them later.
    _publish(tdb["files"]["acme"], tdb["url"], "acme", "n-1", docs)
    with _login(tdb, "acme") as conn:
        assert conn.execute("select count(*) from marts.kpi_benchmarks").fetchone() == (2,)
        # Described like the marts dbt builds (BI tools show the comments), tenant_id too.
        undescribed = conn.execute(
            """select c.table_name, c.column_name from information_schema.columns c
            where c.table_schema in ('marts', 'ops')
                and (c.table_name = 'kpi_benchmarks' or c.column_name = 'tenant_id')
                and col_description(format('%I.%I', c.table_schema, c.table_name)::regclass,
                    c.ordinal_position) is null"""
        ).fetchall()
        assert undescribed == []
        (table_doc,) = conn.execute(
            "select obj_description('marts.kpi_benchmarks'::regclass, 'pg_class')"
        ).fetchone()
        assert table_doc.startswith("How this tenant's chain-wide KPIs stand among its peers")


def test_a_table_change_waits_for_running_loads_then_fails_clearly(tdb, docs):
    """Another tenant's load holds the schema lock shared: a publish that must add a table
    waits (bounded) for it, then gives up naming why, and changes nothing."""
    wider = make_published_db(tdb["root"] / "acme-newtable.duckdb")
    con = duckdb.connect(str(wider))
    con.execute("create table marts.zz_waiting as select 1 as x")
    con.close()
    before = pg_tenants.served_versions(tdb["url"])
    loading = psycopg.connect(tdb["url"], autocommit=True)
    loading.execute(
        "select pg_advisory_lock_shared(%s, %s)",
        [pg_tenant_prepare.LOCK_SPACE, pg_tenant_prepare.SCHEMA_KEY],
    )
    try:
        start = time.monotonic()
        with pytest.raises(postgres.PgPublishError, match="other tenants' loads"):
            _publish(wider, tdb["url"], "acme", "z-1", docs, lock_timeout_s=1.0)
        assert 0.9 < time.monotonic() - start < 15
        # A publish that needs no table change shares the lock and goes ahead meanwhile.
        _publish(tdb["files"]["bloom"], tdb["url"], "bloom", "z-b", docs, lock_timeout_s=1.0)
    finally:
        loading.close()
    with psycopg.connect(tdb["url"]) as conn:
        assert conn.execute("select to_regclass('marts.zz_waiting')").fetchone() == (None,)
    assert pg_tenants.served_versions(tdb["url"]) == {**before, "bloom": "z-b"}


def test_drift_rules_without_a_server():
    parent = [("tenant_id", "text"), ("a", "text"), ("at", "timestamp with time zone")]
    # Same columns in short spellings: no drift.
    assert pg_tenant_tables.drift("marts", "x", parent, [("a", "text"), ("at", "timestamptz")]) == (
        [],
        [],
    )
    added, missing = pg_tenant_tables.drift("marts", "x", parent, [("a", "text"), ("b", "date")])
    assert (added, missing) == ([("b", "date")], ["at"])
    with pytest.raises(pg_tenant_tables.PgSchemaDrift, match=r"marts.x.*at \(timestamp with"):
        pg_tenant_tables.drift("marts", "x", parent, [("at", "timestamp")])
    with pytest.raises(postgres.PgPublishError, match="own tenant_id column"):
        pg_tenant_tables.drift("marts", "x", [], [("tenant_id", "text")])
    names = {pg_tenant_tables.partition_name("marts", "k" * 60 + s, "t") for s in "ab"}
    assert len(names) == 2 and all(len(n) + 2 <= 63 for n in names)


def test_two_tenants_index_their_fresh_tables_at_once_without_meeting(tdb):
    """Index names are ours: PostgreSQL's generated name cuts the tenant off a long table name,
    so two tenants' uncommitted indexes would claim one name and the second would wait for the
    first publish and then fail."""
    table = "kpi_appointment_engagement"  # long enough that a generated name loses the tenant
    first = psycopg.connect(tdb["url"])
    second = psycopg.connect(tdb["url"])
    try:
        with first.cursor() as a, second.cursor() as b:
            columns = pg_tenant_tables.parent_columns(a, "marts", table)
            fresh_a = pg_tenant_tables.create_fresh(a, "marts", table, "acme", columns)
            assert pg_tenant_tables.index_fresh(a, fresh_a, [c for c, _ in columns])
            b.execute("set statement_timeout = '3s'")
            fresh_b = pg_tenant_tables.create_fresh(b, "marts", table, "bloom", columns)
            assert pg_tenant_tables.index_fresh(b, fresh_b, [c for c, _ in columns])
            names = b.execute(
                "select indexrelid::regclass::text from pg_index where indrelid = %s::regclass",
                [f"{pg_tenant_tables.PARTS_SCHEMA}.{fresh_b}"],
            ).fetchall()
            assert names and all(fresh_b[:40] in name for (name,) in names)
    finally:
        first.rollback()
        second.rollback()
        first.close()
        second.close()
