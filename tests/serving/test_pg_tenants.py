"""Consolidated PostgreSQL serving with a tenant registry: one database, rows per tenant, RLS.

Runs in its own database (`serving_tenants`) of the session's cluster, so the single-chain
tests' `serving` database keeps its layout. Tenant `acme` publishes the fixture serving file,
tenant `bloom` the same shape with every scorecard value shifted and fewer rows, so a leak of
one tenant's rows into the other's view shows in counts and totals.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg
import pytest
from pg_fixtures import BI_PASSWORD, make_published_db

from serving import pg_roles, pg_tenant_roles, pg_tenant_tables, pg_tenants, postgres
from serving.pg_url import with_user

pytestmark = pytest.mark.xdist_group("pg")

DATABASE = "serving_tenants"
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
        "acme": pg_tenants.publish_tenant_postgres(
            files["acme"], url, "acme", "v-a1", docs, bi_password=BI_PASSWORD
        ),
        "bloom": pg_tenants.publish_tenant_postgres(files["bloom"], url, "bloom", "v-b1", docs),
    }
    with psycopg.connect(url, autocommit=True) as conn:
        for tenant, password in PASSWORDS.items():
            pg_tenant_roles.add_tenant_login(conn, tenant, password)
    return {"url": url, "files": files, "results": results, "root": root}


def _login(tdb, tenant: str) -> psycopg.Connection:
    return psycopg.connect(
        with_user(tdb["url"], pg_tenant_roles.tenant_role(tenant), PASSWORDS[tenant]),
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
        with pytest.raises(Exception) as err:
            conn.execute("update marts.kpi_scorecard set value = 0")
        assert type(err.value).__name__ in {"InsufficientPrivilege", "ReadOnlySqlTransaction"}


def test_operator_group_and_owner_see_every_tenant_single_chain_logins_see_none(tdb, pg):
    want = sum(tdb["results"][t].rows["marts.kpi_scorecard"] for t in ("acme", "bloom"))
    with psycopg.connect(tdb["url"], autocommit=True) as owner:
        assert owner.execute("select count(*) from marts.kpi_scorecard").fetchone() == (want,)
        owner.execute(
            "do $$ begin if not exists (select from pg_roles where rolname = 'ops_anna') then "
            "create role ops_anna login password 'anna-pw-1'; end if; end $$"
        )
        owner.execute("grant medspa_operator, medspa_read to ops_anna")
    with psycopg.connect(with_user(tdb["url"], "ops_anna", "anna-pw-1")) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone() == (want,)
        tenants = conn.execute("select tenant_id from ops.serving_version order by 1").fetchall()
        assert tenants == [("acme",), ("bloom",)]
    # medspa_bi belongs to one chain's layout: across tenants it must see nothing at all.
    with psycopg.connect(_url(pg.bi_url, DATABASE)) as conn:
        assert conn.execute("select count(*) from marts.kpi_scorecard").fetchone() == (0,)


def test_republishing_one_tenant_leaves_the_other_byte_identical(tdb, docs):
    with psycopg.connect(tdb["url"]) as conn:
        bloom_before = _fingerprints(conn, "bloom")
        acme_before = _fingerprints(conn, "acme")
    changed = _variant(tdb["root"] / "acme-2.duckdb", 7)
    result = pg_tenants.publish_tenant_postgres(changed, tdb["url"], "acme", "v-a2", docs)
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
                "select tablename from pg_tables where schemaname = %s and tablename like '%%\\_n'",
                [pg_tenant_tables.PARTS_SCHEMA],
            ).fetchall()
        ]


def test_two_tenants_publishing_at_once_both_succeed(tdb, docs):
    jobs = {"acme": ("v-a3", tdb["files"]["acme"]), "bloom": ("v-b3", tdb["files"]["bloom"])}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(pg_tenants.publish_tenant_postgres, path, tdb["url"], tenant, version, docs)
            for tenant, (version, path) in jobs.items()
        ]
        results = [f.result() for f in futures]  # re-raises either publish's error
    assert [r.version for r in results] == ["v-a3", "v-b3"]
    assert pg_tenants.served_versions(tdb["url"]) == {"acme": "v-a3", "bloom": "v-b3"}


def test_a_second_publish_of_the_same_tenant_is_refused_not_interleaved(tdb, docs):
    holder = psycopg.connect(tdb["url"], autocommit=True)
    holder.execute("select pg_advisory_lock(%s, hashtext('acme'))", [pg_tenants._TENANT_LOCK])
    try:
        with pytest.raises(postgres.PgPublishError, match="another publish of tenant acme"):
            pg_tenants.publish_tenant_postgres(tdb["files"]["acme"], tdb["url"], "acme", "x", docs)
    finally:
        holder.close()
    assert pg_tenants.served_versions(tdb["url"])["acme"] != "x"


READER_SQL = """
select v.version, s.n, s.total
from ops.serving_version v
cross join (select count(*) as n, round(sum(value)::numeric, 4) as total
            from marts.kpi_scorecard) s
"""


def _figures(path: Path) -> tuple[int, float]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        n, total = con.execute(
            "select count(*), round(sum(value)::decimal(38, 4), 4) from marts.kpi_scorecard"
        ).fetchone()
        return n, float(total)
    finally:
        con.close()


def test_a_tenant_reader_during_its_swaps_sees_old_or_new_never_an_error(tdb, docs):
    old, new = tdb["files"]["acme"], _variant(tdb["root"] / "acme-swap.duckdb", 3)
    expected = {"s-old": _figures(old), "s-new": _figures(new)}
    assert expected["s-old"] != expected["s-new"]
    pg_tenants.publish_tenant_postgres(old, tdb["url"], "acme", "s-old", docs)
    results: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            with _login(tdb, "acme") as conn:
                while not stop.is_set():
                    results.append(conn.execute(READER_SQL).fetchone())
        except BaseException as exc:  # any error at all is what this test forbids
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for version, path in (("s-new", new), ("s-old", old), ("s-new", new)):
            time.sleep(0.2)
            pg_tenants.publish_tenant_postgres(path, tdb["url"], "acme", version, docs)
            # bloom publishing meanwhile changes nothing acme's readers can see.
            pg_tenants.publish_tenant_postgres(
                tdb["files"]["bloom"], tdb["url"], "bloom", "v-b4", docs
            )
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    assert {v for v, _, _ in results} == {"s-old", "s-new"}, len(results)
    for version, n, total in results:
        assert (n, float(total)) == expected[version], version


def test_an_added_column_widens_the_table_others_read_null(tdb, docs):
    wider = make_published_db(tdb["root"] / "acme-wide.duckdb")
    con = duckdb.connect(str(wider))
    con.execute("alter table marts.dim_locations add column region varchar default 'south'")
    con.close()
    result = pg_tenants.publish_tenant_postgres(wider, tdb["url"], "acme", "w-1", docs)
    assert any("added column region" in n for n in result.notes)
    with psycopg.connect(tdb["url"]) as conn:
        regions = dict(
            conn.execute(
                "select tenant_id, array_agg(distinct coalesce(region, '<null>')) "
                "from marts.dim_locations group by 1"
            ).fetchall()
        )
    assert regions == {"acme": ["south"], "bloom": ["<null>"]}
    # Back to the narrower build: the column stays, acme's rows hold NULL there, and say so.
    result = pg_tenants.publish_tenant_postgres(
        tdb["files"]["acme"], tdb["url"], "acme", "w-2", docs
    )
    assert any("region is no longer built" in n for n in result.notes)


def test_a_changed_column_type_is_refused_and_the_old_rows_stay_served(tdb, docs):
    before = pg_tenants.served_versions(tdb["url"])
    with psycopg.connect(tdb["url"]) as conn:
        acme_before = _fingerprints(conn, "acme")
    changed = make_published_db(tdb["root"] / "acme-type.duckdb")
    con = duckdb.connect(str(changed))
    con.execute("alter table marts.kpi_scorecard alter value type varchar")
    con.close()
    with pytest.raises(pg_tenant_tables.PgSchemaDrift, match=r"marts.kpi_scorecard.*value"):
        pg_tenants.publish_tenant_postgres(changed, tdb["url"], "acme", "t-bad", docs)
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
        pg_tenants.publish_tenant_postgres(serving_db, pg.url, "acme", "v-x", docs)
    assert postgres.served_version(pg.url) == "v2"
