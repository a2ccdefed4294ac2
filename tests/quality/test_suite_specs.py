"""Suites are derived from the contract (not retyped), cheap to list, and PHI-aware."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from ingestion.contract import load_contract, parse_contract
from quality.mart_suites import (
    PROPORTION_KPIS,
    SHARE_KPIS,
    UNBOUNDED_RATIO_KPIS,
    scorecard_suite,
)
from quality.raw_suites import table_suite
from quality.suites import all_suites, mart_suites, raw_suites


def _by_key(suite):
    return {e.key: e for e in suite.expectations}


def test_one_raw_suite_per_contract_table_named_after_it():
    contract = load_contract()
    assert [(s.name, s.relation) for s in raw_suites()] == [
        (f"raw_{t.system}__{t.name}", f"raw_{t.system}.{t.name}") for t in contract.tables
    ]


def test_enums_ranges_and_keys_come_from_the_contract():
    contract = load_contract()
    for table, suite in zip(contract.tables, raw_suites(), strict=True):
        specs = _by_key(suite)
        for col in table.columns:
            if col.enum is not None:
                got = specs[f"ExpectColumnValuesToBeInSet:{col.name}"].kwargs["value_set"]
                assert got == list(col.enum)
            if not col.nullable:
                assert f"ExpectColumnValuesToNotBeNull:{col.name}" in specs
        types = specs["ExpectColumnValuesToBeInSet:column types"]
        assert types.kwargs["value_set"] == [f"{c.name} {c.duckdb_type}" for c in table.columns]
        assert types.query is not None and "information_schema.columns" in types.query


def test_a_contract_edit_changes_the_suite_without_touching_quality_code():
    doc = {
        "version": 1,
        "systems": {
            "pms": {
                "tables": {
                    "rooms": {
                        "primary_key": ["room_id", "location_id"],
                        "columns": {
                            "room_id": {"type": "string"},
                            "location_id": {"type": "string"},
                            "floor": {"type": "integer", "min": 0, "max": 3},
                            "kind": {"type": "string", "enum": ["a", "b"], "required": True},
                            "updated_at": {"type": "timestamp", "required": True},
                        },
                    }
                }
            }
        },
    }
    suite = table_suite(parse_contract(doc).table("pms.rooms"))
    specs = _by_key(suite)
    assert specs["ExpectCompoundColumnsToBeUnique:room_id, location_id"].severity == "error"
    assert specs["ExpectColumnValuesToBeBetween:floor"].kwargs == {
        "column": "floor",
        "min_value": 0,
        "max_value": 3,
    }
    assert specs["ExpectColumnValuesToBeInSet:kind"].kwargs["value_set"] == ["a", "b"]
    assert specs["ExpectColumnValuesToBeBetween:updated_at"].severity == "warn"


def test_phi_columns_and_person_ids_are_marked_sensitive():
    patients = _by_key(next(s for s in raw_suites() if s.name == "raw_pms__patients"))
    assert patients["ExpectColumnValuesToBeUnique:patient_id"].sensitive
    assert patients["ExpectColumnValuesToBeBetween:date_of_birth"].sensitive
    assert not patients["ExpectColumnValuesToBeBetween:created_at"].sensitive
    leads = _by_key(next(s for s in raw_suites() if s.name == "raw_crm__leads"))
    assert leads["ExpectColumnValuesToBeUnique:lead_id"].sensitive


def test_interval_pairs_follow_the_column_names():
    suites = {s.name: _by_key(s) for s in raw_suites()}
    pair = "ExpectColumnPairValuesAToBeGreaterThanB"
    assert f"{pair}:scheduled_end >= scheduled_start" in suites["raw_pms__appointments"]
    assert f"{pair}:shift_end >= shift_start" in suites["raw_pms__provider_shifts"]
    assert f"{pair}:ended_at >= started_at" in suites["raw_phone__calls"]


def test_expectation_keys_are_unique_within_every_suite():
    for suite in all_suites():
        keys = [e.key for e in suite.expectations]
        assert len(keys) == len(set(keys)), suite.name


def test_ratio_checks_leave_out_nps_minutes_and_money():
    checked = set(PROPORTION_KPIS) | set(SHARE_KPIS)
    unbounded = {"nps", "lead_response_minutes", "net_revenue", "mrr", "cac", "ltv_12m"}
    assert checked.isdisjoint(unbounded)
    assert {"no_show_rate", "retention_12m", "room_utilization"} <= checked


def test_every_ratio_kpi_of_the_targets_seed_has_a_range_decision():
    """A ratio KPI added to the seed must be put in one list here, or this test fails."""
    seed = Path(__file__).resolve().parents[2] / "dbt_project/seeds/kpi_targets.csv"
    with open(seed, encoding="utf-8", newline="") as fh:
        units = {row["kpi"]: row["unit"] for row in csv.DictReader(fh)}
    decided = [*PROPORTION_KPIS, *SHARE_KPIS, *UNBOUNDED_RATIO_KPIS]
    assert len(decided) == len(set(decided))
    assert sorted(decided) == sorted(k for k, unit in units.items() if unit == "ratio")


def test_mart_suite_targets_the_scorecard_in_the_marts_schema():
    (suite,) = mart_suites()
    assert (suite.name, suite.relation) == ("marts__kpi_scorecard", "marts.kpi_scorecard")
    assert scorecard_suite("other").relation == "other.kpi_scorecard"
    severities = {e.key: e.severity for e in suite.expectations}
    assert severities["net_revenue_reconciles"] == "error"
    assert severities["share_in_unit_interval"] == "warn"


def test_listing_suites_does_not_import_great_expectations():
    code = (
        "import sys, quality.suites as s; s.all_suites(); "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
