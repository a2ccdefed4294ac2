"""A BI reader querying in a loop while publishes swap the data: no error, never a mix.

Two serving files differ in every scorecard value and in row count. Each reader statement
reads the served version (ops.serving_version) and the scorecard's count and total in one
query; the answer must be exactly version A's or exactly version B's figures.
"""

from __future__ import annotations

import time

import duckdb
import psycopg
import pytest
from pg_fixtures import BI_PASSWORD, make_published_db, readers_running, scorecard_figures

from serving import postgres

pytestmark = pytest.mark.xdist_group("pg")


def test_reader_sees_old_or_new_never_an_error_or_a_mix(pg, published, docs, tmp_path):
    old = make_published_db(tmp_path / "a.duckdb")
    new = make_published_db(tmp_path / "b.duckdb")
    con = duckdb.connect(str(new))
    con.execute("update marts.kpi_scorecard set value = value * 2 + 1")
    con.execute("delete from marts.kpi_scorecard where grain = 'month' and location_id = 'loc_b'")
    con.close()
    expected = {"vA": scorecard_figures(old), "vB": scorecard_figures(new)}
    assert expected["vA"] != expected["vB"]
    postgres.publish_postgres(old, pg.url, "vA", docs, bi_password=BI_PASSWORD)

    with readers_running(lambda: psycopg.connect(pg.bi_url, autocommit=True)) as (
        results,
        errors,
    ):
        for version, path in (("vB", new), ("vA", old), ("vB", new)):
            time.sleep(0.2)
            postgres.publish_postgres(path, pg.url, version, docs, lock_timeout_s=30)
        time.sleep(0.2)
    assert errors == []
    seen = {version for version, _, _ in results}
    assert seen == {"vA", "vB"}, f"{len(results)} reads saw {seen}"
    for version, n, total in results:
        assert (n, float(total)) == (expected[version][0], float(expected[version][1])), version
    # Leave the session's published data as the other tests expect it.
    postgres.publish_postgres(
        make_published_db(tmp_path / "c.duckdb"), pg.url, "v2", docs, bi_password=BI_PASSWORD
    )


def test_a_repeatable_read_snapshot_older_than_the_swap_sees_the_new_tables_empty(
    pg, published, serving_db, docs
):
    """The limit README states: the swap installs new tables, whose rows were written after
    an older snapshot. A REPEATABLE READ (or SERIALIZABLE) transaction that began before the
    publish, without touching a served table (that would hold the swap), reads them empty;
    READ COMMITTED, every BI tool's default, takes a new snapshot per statement."""
    reader = psycopg.connect(pg.bi_url)
    reader.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        reader.execute("select 1").fetchone()  # the snapshot is taken here
        postgres.publish_postgres(serving_db, pg.url, "v2", docs, bi_password=BI_PASSWORD)
        assert reader.execute("select count(*) from marts.kpi_scorecard").fetchone() == (0,)
        assert reader.execute("select count(*) from ops.serving_version").fetchone() == (0,)
    finally:
        reader.close()
    with psycopg.connect(pg.bi_url) as fresh:
        assert fresh.execute("select count(*) from marts.kpi_scorecard").fetchone()[0] > 0
