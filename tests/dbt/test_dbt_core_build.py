"""The dbt project builds, tests and keeps PHI out on realistic, empty and partial raw layers."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, build_chain

from ingestion.contract import load_contract
from ingestion.raw_schema import ensure_raw_tables

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

KPI_FAMILIES = (
    "kpi_financial",
    "kpi_rooms",
    "kpi_providers",
    "kpi_operations",
    "kpi_cohorts",
    "kpi_appointment_engagement",
)
#: Families whose windows close within the synthetic chain's ~11 months of history.
SHORT_WINDOW_FAMILIES = tuple(f for f in KPI_FAMILIES if f != "kpi_cohorts")


def test_as_of_reads_every_contract_table(built_warehouse: Path) -> None:
    """int_data_as_of must see every raw table, or a late system would not move the as-of time.

    It loops over the contract's dbt sources, so the SQL dbt compiled in the build is checked."""
    compiled = (
        built_warehouse.parent
        / "target/compiled/medspa/models/intermediate/calendar/int_data_as_of.sql"
    )
    listed = set(re.findall(r'"raw_(\w+)"\."(\w+)"', compiled.read_text()))
    assert listed == {(t.system, t.name) for t in load_contract().tables}


def test_build_passes_unit_and_data_tests_and_fills_every_family(built_warehouse: Path) -> None:
    """`dbt build` (run in the fixture) passed; every family has rows, final where due.

    The oldest cohort (2025-01) closes its 365-day window only in 2026: no cohort row may be
    final at the as-of date 2025-11-20, while every other family has closed periods."""
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        for family in SHORT_WINDOW_FAMILIES:
            finals = con.execute(f"select count(*) from marts.{family} where is_final").fetchone()
            assert finals and finals[0] > 0, family
        total, final = con.execute(
            "select count(*), count(*) filter (where is_final) from marts.kpi_cohorts"
        ).fetchone()
        assert total > 0
        assert final == 0
        statuses = {
            r[0] for r in con.execute("select distinct status from marts.kpi_scorecard").fetchall()
        }
        assert statuses <= {"on_target", "below", "above", "no_target"}
    finally:
        con.close()


def test_no_raw_patient_id_or_contact_reaches_staging_or_marts(
    built_warehouse: Path, base_chain: Chain
) -> None:
    """PHI rule: raw ids, emails and phones appear in no column of any non-raw relation (the
    incremental models' state in dbt_state included)."""
    patients = base_chain.tables[("pms", "patients")]
    secrets = {p["patient_id"] for p in patients} | {p["email"] for p in patients}
    secrets |= {p["phone"] for p in patients}
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('staging', 'intermediate', 'marts', 'dbt_state')"
            " and data_type = 'VARCHAR'"
        ).fetchall()
        con.execute("create temp table secrets (v varchar)")
        con.executemany("insert into secrets values (?)", [[s] for s in secrets])
        leaks = [
            f"{schema}.{table}.{column}"
            for schema, table, column in columns
            if con.execute(
                f'select count(*) from "{schema}"."{table}" '
                f'where "{column}" in (select v from secrets)'
            ).fetchone()[0]
        ]
        assert leaks == []
    finally:
        con.close()


#: Staff names are not PHI: providers keep theirs.
STAFF_TABLES = {"stg_pms__providers", "dim_providers"}


def test_no_phi_column_name_past_the_raw_layer(built_warehouse: Path) -> None:
    """Every column the contract marks PHI, and the raw patient and lead ids, stay in raw_*."""
    phi = {c for t in load_contract().tables for c in t.phi_columns} | {"patient_id", "lead_id"}
    assert {"email", "date_of_birth", "body", "reviewer_name"} <= phi
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_name, lower(column_name) from information_schema.columns "
            "where table_schema in ('staging', 'intermediate', 'marts')"
        ).fetchall()
    assert len(columns) > 100
    staff_names = {(t, c) for t in STAFF_TABLES for c in ("first_name", "last_name")}
    leaked = {f"{t}.{c}" for t, c in columns if c in phi and (t, c) not in staff_names}
    assert leaked == set()


def test_empty_raw_layer_builds_and_emits_no_kpi_rows(tmp_path: Path) -> None:
    """No data yet: all 22 raw tables empty -> the project builds and no KPI has a (fake) row."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_tables(con)
    con.close()
    dbt(["build"], tmp_path / "warehouse.duckdb", tmp_path)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select * from intermediate.int_data_as_of").fetchall() == [(None,)]
        for mart in (*KPI_FAMILIES, "kpi_scorecard", "kpi_alerts"):
            assert con.execute(f"select count(*) from marts.{mart}").fetchone() == (0,), mart
    finally:
        con.close()


def test_without_pos_revenue_kpis_are_absent_but_operations_remain(tmp_path: Path) -> None:
    """Without a POS there are no revenue rows (never 0); room and visit KPIs remain."""
    chain = build_chain()
    pms_only = Chain(
        as_of=chain.as_of, tables={k: v for k, v in chain.tables.items() if k[0] == "pms"}
    )
    warehouse = write_chain(tmp_path / "warehouse.duckdb", pms_only)
    dbt(["seed"], warehouse, tmp_path)  # `dbt run` loads no seeds; the marts read them
    dbt(
        ["run", "--select", "+kpi_financial", "+kpi_rooms", "+kpi_providers", "+kpi_operations"],
        warehouse,
        tmp_path,
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:

        def kpis(mart: str) -> set[str]:
            return {r[0] for r in con.execute(f"select distinct kpi from marts.{mart}").fetchall()}

        assert kpis("kpi_financial") == {"mrr"}
        assert kpis("kpi_rooms") == {"room_utilization", "device_utilization"}
        assert kpis("kpi_providers") == {"provider_productive_share"}
        assert "completed_visits" in kpis("kpi_operations")
    finally:
        con.close()
