"""Publishing serving.duckdb into PostgreSQL: same values, BI-friendly types, docs, atomicity."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import time
import traceback
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg
import pytest
from pg_fixtures import make_published_db

from serving import pg_docs, pg_roles, pg_tenants, postgres
from serving.pg_types import UnsupportedType
from serving.publish import table_names

pytestmark = pytest.mark.xdist_group("pg")


def _normalise(value):
    """DuckDB and psycopg agree on types except naive timestamps' tz and Decimal scale."""
    if isinstance(value, decimal.Decimal):
        return value.normalize()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def test_every_table_equals_serving_duckdb_cell_for_cell(pg, published, serving_db):
    duck = duckdb.connect(str(serving_db), read_only=True)
    duck.execute("set TimeZone = 'UTC'")
    tables = list(table_names(serving_db))
    assert len(tables) == len(published.rows) - 1  # + ops.serving_version
    with pg.connect() as conn:
        for schema, table in tables:
            cols = [r[0] for r in duck.execute(f"describe {schema}.{table}").fetchall()]
            order = ", ".join(f'"{c}"' for c in cols)
            want = duck.execute(f"select * from {schema}.{table} order by {order}").fetchall()
            got = conn.execute(f"select * from {schema}.{table} order by {order}").fetchall()
            assert len(got) == len(want) == published.rows[f"{schema}.{table}"], table
            for w, g in zip(want, got, strict=True):
                assert tuple(map(_normalise, g)) == tuple(map(_normalise, w)), table
    duck.close()


def test_types_are_the_ones_bi_tools_expect(pg, published):
    with pg.connect() as conn:
        types = dict(
            conn.execute(
                "select column_name, format_type(atttypid, atttypmod) from pg_attribute a "
                "join information_schema.columns c on c.column_name = a.attname "
                "and a.attrelid = 'marts.fct_invoice_lines'::regclass "
                "where c.table_schema = 'marts' and c.table_name = 'fct_invoice_lines'"
            ).fetchall()
        )
        score = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'kpi_scorecard'"
            ).fetchall()
        )
    assert types["net_amount"] == "numeric(18,2)"
    assert types["discount_amount"] == "numeric(18,2)"  # money is (18,2) whatever dbt inferred
    assert types["invoiced_at"] == "timestamp with time zone"
    assert types["service_date"] == "date"
    assert types["is_refund"] == "boolean"
    assert types["checked_in_local"] == "timestamp without time zone"  # wall clock, no zone
    assert score["value"] == "double precision"
    assert score["period_start"] == "date"
    assert score["is_final"] == "boolean"


def test_empty_string_and_null_stay_distinct(pg, published):
    with pg.connect() as conn:
        rows = dict(
            conn.execute(
                "select invoice_line_id, note from marts.fct_invoice_lines order by 1"
            ).fetchall()
        )
    assert rows == {"il_1": "plain", "il_2": 'say "hi", then\nleave', "il_3": ""}


def test_tables_and_columns_carry_the_dbt_descriptions(pg, published, docs):
    with pg.connect() as conn:
        table = conn.execute("select obj_description('marts.kpi_scorecard'::regclass)").fetchone()
        column = conn.execute(
            "select col_description('marts.kpi_scorecard'::regclass, attnum) from pg_attribute "
            "where attrelid = 'marts.kpi_scorecard'::regclass and attname = 'location_id'"
        ).fetchone()
        ops = conn.execute("select obj_description('ops.serving_version'::regclass)").fetchone()
    assert docs["kpi_scorecard"].description and table[0] == docs["kpi_scorecard"].description
    assert column[0] == docs["kpi_scorecard"].columns["location_id"]
    assert "version" in ops[0]


def test_every_column_of_the_ops_tables_carries_a_description(pg, published):
    """The ops tables are written by the publish, not dbt: their text is in OPS_DOCS, and a BI
    user browsing the catalog finds every column explained there."""
    with pg.connect() as conn:
        rows = conn.execute(
            "select c.relname, a.attname, col_description(c.oid, a.attnum) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "join pg_attribute a on a.attrelid = c.oid "
            "where n.nspname = 'ops' and c.relkind in ('r', 'p') and a.attnum > 0 "
            "and not a.attisdropped order by 1, 2"
        ).fetchall()
    tables = {table for table, _, _ in rows}
    assert {"serving_version", "run_log", "loaded_files", "check_results"} <= tables
    assert [(t, c) for t, c, text in rows if not text] == []
    assert all(text == pg_docs.OPS_DOCS[t].columns[c] for t, c, text in rows)


def test_scorecard_filters_are_indexed(pg, published):
    with pg.connect() as conn:
        defs = [
            d
            for (d,) in conn.execute(
                "select indexdef from pg_indexes where schemaname = 'marts' "
                "and tablename = 'kpi_scorecard'"
            ).fetchall()
        ]
    assert any("(grain, location_id, kpi, period_start)" in d for d in defs), defs
    assert any("(kpi, grain, location_id, period_start)" in d for d in defs), defs


def test_swap_leaves_only_the_live_schemas_and_the_new_version(pg, published):
    with pg.connect() as conn:
        schemas = {
            s
            for (s,) in conn.execute(
                "select nspname from pg_namespace where nspname like 'marts%' "
                "or nspname like 'ops%'"
            ).fetchall()
        }
    assert schemas == {"marts", "ops"}
    assert postgres.served_version(pg.url) == published.version == "v2"


def test_a_failing_publish_keeps_the_old_data_served(pg, published, docs, tmp_path):
    bad = make_published_db(tmp_path / "serving.duckdb")
    con = duckdb.connect(str(bad))
    con.execute("create table marts.zz_nested as select [1, 2] as ids")
    con.close()
    with pytest.raises(UnsupportedType, match=r"marts.zz_nested.ids"):
        postgres.publish_postgres(bad, pg.url, "v-bad", docs)
    test_swap_leaves_only_the_live_schemas_and_the_new_version(pg, published)


def test_a_long_reader_makes_the_publish_give_up_cleanly(pg, published, serving_db, docs):
    """A reader holding the scorecard for longer than the timeout: publish fails, reader fine."""
    reader = psycopg.connect(pg.bi_url)  # a transaction stays open: its lock is held
    reader.execute("select count(*) from marts.kpi_scorecard").fetchone()
    try:
        with pytest.raises(postgres.PgPublishError, match="previous data is still served"):
            postgres.publish_postgres(serving_db, pg.url, "v-timeout", docs, lock_timeout_s=1.5)
        # The reader's transaction was never disturbed and still reads the old data.
        assert reader.execute("select version from ops.serving_version").fetchone() == ("v2",)
    finally:
        reader.close()
    test_swap_leaves_only_the_live_schemas_and_the_new_version(pg, published)


def test_concurrent_publishes_are_refused_not_interleaved(
    pg, published, serving_db, docs, monkeypatch
):
    monkeypatch.setattr(postgres, "PUBLISH_LOCK_GRACE_S", 0.5)
    holder = psycopg.connect(pg.url, autocommit=True)
    holder.execute("select pg_advisory_lock(%s)", [postgres._ADVISORY_KEY])
    try:
        with pytest.raises(postgres.PgPublishError, match="another publish"):
            postgres.publish_postgres(serving_db, pg.url, "v-parallel", docs)
    finally:
        holder.close()
    assert postgres.served_version(pg.url) == "v2"


def test_connection_errors_never_show_the_password(serving_db, docs):
    url = "postgresql://medspa_owner:s3cret-pw@127.0.0.1:1/serving?sslmode=require"
    with pytest.raises(psycopg.OperationalError) as err:
        postgres.publish_postgres(serving_db, url, "v-x", docs)
    assert "s3cret-pw" not in str(err.value)
    # The bulk loader's own connection (DuckDB's extension echoes its connection string).
    with pytest.raises(postgres.PgPublishError) as err:
        postgres._loader(serving_db, url)
    assert "s3cret-pw" not in str(err.value) and "***" in str(err.value)


def test_a_reader_holding_leftover_tables_cannot_stall_a_publish(pg, published, serving_db, docs):
    """A crashed publish's `__old` tables that a reader keeps open: the publish waits for them
    at most its lock timeout (not only in the swap), then fails clearly; old data stays."""
    with pg.connect() as owner:
        owner.execute(
            "create schema marts__old; create table marts__old.leftover (i int); "
            "grant usage on schema marts__old to medspa_read; "
            "grant select on marts__old.leftover to medspa_read"
        )
    reader = psycopg.connect(pg.bi_url)  # a transaction stays open: its lock is held
    reader.execute("select count(*) from marts__old.leftover").fetchone()
    release = threading.Timer(10, reader.close)  # else an unbounded wait never ends
    release.start()
    started = time.monotonic()
    try:
        with pytest.raises(postgres.PgPublishError, match="MEDSPA_SERVING_LOCK_TIMEOUT"):
            postgres.publish_postgres(serving_db, pg.url, "v-stalled", docs, lock_timeout_s=1.5)
        assert time.monotonic() - started < 8
    finally:
        release.cancel()
        reader.close()
        with pg.connect() as owner:
            owner.execute("drop schema if exists marts__old cascade")
    assert postgres.served_version(pg.url) == "v2"
    test_swap_leaves_only_the_live_schemas_and_the_new_version(pg, published)


def _shown(exc: BaseException) -> str:
    """Everything a traceback (or Dagster's error info) prints of `exc` and its chain."""
    return "".join(traceback.format_exception(exc))


def test_a_reconnecting_loader_never_shows_the_password(
    pg, published, serving_db, docs, monkeypatch
):
    """DuckDB's postgres extension prints its whole connection string when it reconnects."""
    password = unquote(urlsplit(pg.url).password or "")

    def reconnect_fails(*_args):
        raise duckdb.IOException(f'Unable to connect to Postgres at "{pg.url}": refused')

    monkeypatch.setattr(postgres, "_load", reconnect_fails)
    with pytest.raises(duckdb.IOException) as err:
        postgres.publish_postgres(serving_db, pg.url, "v-leak", docs)
    assert password not in _shown(err.value) and "medspa_owner:***@" in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    # The same in a tenant database (a deployment of its own: roles are server-wide).
    pg.cluster.psql_superuser(pg_roles.bootstrap_sql("serving_masked", "medspa_owner", password))
    monkeypatch.setattr(pg_tenants, "_load_table", reconnect_fails)
    with pytest.raises(duckdb.IOException) as err:
        pg_tenants.publish_tenant_postgres(
            serving_db,
            pg.url.replace("/serving?", "/serving_masked?"),
            "acme",
            "v-leak",
            docs,
            roles=pg_roles.ServingRoles("medspa_mask"),
        )
    assert password not in _shown(err.value) and "medspa_owner:***@" in str(err.value)
    assert postgres.served_version(pg.url) == "v2"


@pytest.mark.parametrize(
    "call",
    [
        lambda db, url, docs: postgres.publish_postgres(db, url, "v-x", docs),
        lambda db, url, docs: pg_tenants.publish_tenant_postgres(db, url, "acme", "v-x", docs),
        lambda db, url, docs: postgres.served_version(url),
        lambda db, url, docs: pg_tenants.served_versions(url),
    ],
    ids=["publish", "tenant publish", "served version", "served versions"],
)
def test_a_malformed_url_never_shows_the_password(serving_db, docs, call):
    """libpq quotes the password of a URL it cannot parse in its error."""
    url = "postgresql://medspa_owner:50%off!pw@127.0.0.1:1/serving?sslmode=require"
    with pytest.raises(psycopg.ProgrammingError) as err:
        call(serving_db, url, docs)
    assert "off!pw" not in _shown(err.value) and "***" in str(err.value)


def test_a_publish_waits_out_a_short_hold_of_its_lock(pg, published, serving_db, docs):
    """`add-reader` takes the publish lock for a moment: a night's publish meeting it waits
    (up to `PUBLISH_LOCK_GRACE_S`) instead of failing."""
    import threading

    holder = psycopg.connect(pg.url, autocommit=True)
    holder.execute("select pg_advisory_lock(%s)", [postgres._ADVISORY_KEY])
    release = threading.Timer(1.0, lambda: holder.execute("select pg_advisory_unlock_all()"))
    release.start()
    try:
        postgres.publish_postgres(serving_db, pg.url, "v-after-wait", docs)
    finally:
        release.join()
        holder.close()
    assert postgres.served_version(pg.url) == "v-after-wait"
