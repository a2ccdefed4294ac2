"""The KPI and coverage marts' row checks are enforced constraints; built marts refuse bad rows.

Why: not-null and allowed-value checks on the KPI marts are column constraints of their dbt
contracts instead of data tests (each test was a dbt node and a query in every nightly).
These tests make sure the checks did not quietly disappear with the tests: the YAML declares
them on every KPI mart's long-form columns, and the tables dbt builds carry and enforce them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

KPI_DIR = Path(__file__).resolve().parents[2] / "dbt_project/models/marts/kpi"
#: Columns of the long form that are never null where a mart has them.
KEY_COLUMNS = ("grain", "period_start", "location_id", "kpi")
#: Marts with months only (cohorts are first-visit months) and their narrower grain check.
MONTH_ONLY = {"kpi_cohorts"}
MONTH_ONLY_CHECK = "grain = 'month'"


def _models() -> dict[str, dict]:
    models: dict[str, dict] = {}
    for path in KPI_DIR.glob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            models[model["name"]] = model
    return models


def _constraint_types(column: dict) -> set[str]:
    return {c["type"] for c in column.get("constraints", [])}


def test_every_kpi_mart_constrains_its_key_columns_and_grain():
    models = _models()
    marts = sorted(p.stem for p in KPI_DIR.glob("*.sql"))
    assert marts, "no KPI marts found"
    problems = []
    for mart in marts:
        model = models[mart]
        assert model.get("config", {}).get("contract", {"enforced": True})["enforced"], mart
        columns = {c["name"]: c for c in model.get("columns", [])}
        for name in KEY_COLUMNS:
            if (
                name in columns
                and mart != "reporting_periods"
                and "not_null" not in (_constraint_types(columns[name]))
            ):
                problems.append(f"{mart}.{name}: no not_null constraint")
        grain_checks = [
            c["expression"]
            for c in columns.get("grain", {}).get("constraints", [])
            if c["type"] == "check"
        ]
        expected = MONTH_ONLY_CHECK if mart in MONTH_ONLY else "grain in ('week', 'month')"
        if "grain" in columns and grain_checks != [expected]:
            problems.append(f"{mart}.grain: no {expected!r} check")
    assert problems == []


@pytest.mark.e2e
@pytest.mark.xdist_group("dbt_core")
def test_built_kpi_mart_refuses_a_null_key_and_an_unknown_grain(built_warehouse: Path):
    """The warehouse dbt built enforces the constraints (in a rolled-back transaction)."""
    con = duckdb.connect(str(built_warehouse))
    try:
        row = "select * replace ({}) from marts.kpi_financial limit 1"
        for replacement in (
            "cast(null as varchar) as location_id",
            "cast(null as boolean) as is_final",
            "'day' as grain",
        ):
            con.begin()
            try:
                with pytest.raises(duckdb.ConstraintException):
                    con.execute(f"insert into marts.kpi_financial {row.format(replacement)}")
            finally:
                con.rollback()
        # a valid row is accepted: the refusals above are the constraints, not the statement
        con.begin()
        con.execute(f"insert into marts.kpi_financial {row.format('grain as grain')}")
        con.rollback()
    finally:
        con.close()


@pytest.mark.e2e
@pytest.mark.xdist_group("dbt_core")
def test_built_coverage_marts_refuse_a_duplicate_key(built_warehouse: Path):
    """data_coverage and kpi_coverage keep their keys unique as primary keys, not data tests."""
    con = duckdb.connect(str(built_warehouse))
    try:
        for table, key in (("data_coverage", "table_key"), ("kpi_coverage", "kpi")):
            con.begin()
            try:
                with pytest.raises(duckdb.ConstraintException):
                    con.execute(f"insert into marts.{table} select * from marts.{table} limit 1")
                    # an empty table has no row to duplicate: its key must then be refused null
                    con.execute(f"insert into marts.{table} ({key}) values (null)")
            finally:
                con.rollback()
    finally:
        con.close()
