"""The drivers BI tools really use: pgJDBC (Metabase) and psqlODBC (Power BI's ODBC path).

Both connect as `medspa_bi` over TLS to the throwaway cluster and do what the tool does on
sync / refresh: list schemas, tables and columns with their descriptions, then query the
scorecard. The answers are compared with serving.duckdb, not with PostgreSQL itself.
"""

from __future__ import annotations

import decimal
import os
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from pg_fixtures import BI_PASSWORD
from pg_fixtures import metabase_sync as run_metabase_sync

from serving.pg_cluster import ODBC_DRIVER

pytestmark = pytest.mark.xdist_group("pg")


def _expected_week_chain_totals(serving_db: Path) -> dict[str, tuple[float, int]]:
    con = duckdb.connect(str(serving_db), read_only=True)
    try:
        return {
            kpi: (total, n)
            for kpi, total, n in con.execute(
                "select kpi, sum(value), count(*) from marts.kpi_scorecard "
                "where grain = 'week' and location_id = '_all' group by kpi"
            ).fetchall()
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def metabase_sync(pg, published, tmp_path_factory) -> dict[str, list[list[str]]]:
    port = urlsplit(pg.url).port
    facts = run_metabase_sync(
        tmp_path_factory.mktemp("jdbc"),
        f"jdbc:postgresql://127.0.0.1:{port}/serving",
        "medspa_bi",
        BI_PASSWORD,
    )
    print("pgJDBC metadata timings (ms):", facts["timing"])
    return facts


def test_jdbc_sync_sees_marts_and_ops_with_their_descriptions(metabase_sync, docs):
    schemas = {s for (s,) in metabase_sync["schema"]}
    assert {"marts", "ops"} <= schemas
    tables = {name: remarks for name, remarks in metabase_sync["table"]}
    assert "marts.kpi_scorecard" in tables and "ops.serving_version" in tables
    assert not any(t.startswith(("marts__", "ops__")) for t in tables)  # no staging leaks
    # pgJDBC lists every table's name (the catalog is public); reading is what grants decide.
    assert tables["marts.kpi_scorecard"] == docs["kpi_scorecard"].description.replace("\n", " ")
    columns = {name: (typ, remarks) for name, typ, remarks in metabase_sync["column"]}
    want = docs["kpi_scorecard"].columns["location_id"].replace("\n", " ")
    assert columns["marts.kpi_scorecard.location_id"] == ("text", want)
    assert columns["marts.fct_invoice_lines.net_amount"][0] == "numeric"
    assert columns["marts.kpi_scorecard.value"][0] == "float8"


def test_jdbc_scorecard_query_matches_serving_duckdb(metabase_sync, serving_db):
    expected = _expected_week_chain_totals(serving_db)
    got = {kpi: (float(total), int(n)) for kpi, total, n in metabase_sync["score"]}
    assert got.keys() == expected.keys()
    for kpi, (total, n) in expected.items():
        assert got[kpi][1] == n
        assert got[kpi][0] == pytest.approx(total, rel=1e-12), kpi


@pytest.fixture(scope="module")
def odbc(pg, published):
    pyodbc = pytest.importorskip("pyodbc")
    if ODBC_DRIVER not in pyodbc.drivers():
        reason = f"unixodbc has no {ODBC_DRIVER!r} driver (Debian odbc-postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port = urlsplit(pg.url).port
    conn = pyodbc.connect(
        f"Driver={{{ODBC_DRIVER}}};Server=127.0.0.1;Port={port};Database=serving;"
        f"Uid=medspa_bi;Pwd={BI_PASSWORD};SSLmode=require",
        autocommit=True,
    )
    yield conn
    conn.close()


def test_odbc_catalog_calls_list_marts_and_columns(odbc):
    cur = odbc.cursor()
    tables = {(r.table_schem, r.table_name) for r in cur.tables(schema="marts", tableType="TABLE")}
    assert ("marts", "kpi_scorecard") in tables and ("marts", "kpi_targets") in tables
    columns = {r.column_name: r for r in cur.columns(table="kpi_scorecard", schema="marts")}
    assert {"grain", "period_start", "location_id", "kpi", "value"} <= columns.keys()
    assert columns["period_start"].type_name == "date"
    assert columns["value"].type_name == "float8"
    # psqlODBC leaves REMARKS empty whatever the comment; Power BI's ODBC path does not show them.


def test_odbc_query_matches_serving_duckdb(odbc, serving_db):
    expected = _expected_week_chain_totals(serving_db)
    rows = odbc.cursor().execute(
        "select kpi, sum(value), count(*) from marts.kpi_scorecard "
        "where grain = ? and location_id = ? group by kpi",
        "week",
        "_all",
    )
    got = {kpi: (float(total), int(n)) for kpi, total, n in rows.fetchall()}
    assert got.keys() == expected.keys()
    for kpi, (total, n) in expected.items():
        assert got[kpi] == (pytest.approx(total, rel=1e-12), n), kpi


def test_odbc_reads_money_exactly(odbc):
    rows = (
        odbc.cursor()
        .execute("select invoice_line_id, net_amount from marts.fct_invoice_lines order by 1")
        .fetchall()
    )
    assert [(i, decimal.Decimal(str(a))) for i, a in rows] == [
        ("il_1", decimal.Decimal("1234.50")),
        ("il_2", decimal.Decimal("-99.99")),
        ("il_3", decimal.Decimal("0.01")),
    ]
