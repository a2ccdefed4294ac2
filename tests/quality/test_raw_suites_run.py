"""Raw suites run by GX inside DuckDB: clean data passes, each crafted defect fails its rule."""

from __future__ import annotations

import json

import pytest
from quality_fixtures import PHI_MARKERS, RAW_SUITES, build_bad_raw, build_good_raw

from quality.suites import raw_suites

pytestmark = pytest.mark.xdist_group("quality_gx")


def _specs() -> list:
    return [s for s in raw_suites() if s.name in RAW_SUITES]


@pytest.fixture(scope="module")
def good(run_and_keep):
    return run_and_keep("raw_good", build_good_raw, _specs())[0]


@pytest.fixture(scope="module")
def bad(run_and_keep):
    return run_and_keep("raw_bad", build_bad_raw, _specs())


def test_clean_raw_tables_pass_every_expectation(good):
    failures = {name: [e.key for e in r.failures] for name, r in good.items() if not r.success}
    assert failures == {}
    assert set(good) == set(RAW_SUITES)
    assert all(r.severity is None for r in good.values())


def test_duplicate_primary_key_fails_uniqueness_with_the_key_values(bad):
    result = bad[0]["raw_pms__appointments"].result_for(
        "ExpectColumnValuesToBeUnique:appointment_id"
    )
    assert not result.success and result.severity == "error"
    assert result.observed["unexpected_count"] == 2
    assert result.observed["unexpected_sample"] == ["A1", "A1"]


def test_duplicate_composite_key_fails_compound_uniqueness(bad):
    suite = bad[0]["raw_pms__location_hours"]
    result = suite.result_for("ExpectCompoundColumnsToBeUnique:location_id, weekday, valid_from")
    assert not result.success
    assert result.observed["unexpected_count"] == 2


def test_unknown_enum_value_is_reported_by_value(bad):
    result = bad[0]["raw_pms__appointments"].result_for(
        "ExpectColumnValuesToBeInSet:booking_channel"
    )
    assert not result.success
    assert result.observed["unexpected_count"] == 1
    assert result.observed["unexpected_sample"] == ["fax"]


def test_integer_enum_from_contract_rejects_other_billing_periods(bad):
    suite = bad[0]["raw_pms__membership_plans"]
    result = suite.result_for("ExpectColumnValuesToBeInSet:billing_period_months")
    assert result.observed["unexpected_sample"] == [6]


def test_value_outside_contract_range_fails(bad):
    result = bad[0]["raw_reviews__reviews"].result_for("ExpectColumnValuesToBeBetween:rating")
    assert not result.success and result.severity == "error"
    assert result.observed["unexpected_sample"] == [6]


def test_null_in_required_person_id_reports_a_count_only(bad):
    result = bad[0]["raw_pms__appointments"].result_for("ExpectColumnValuesToNotBeNull:patient_id")
    assert not result.success
    assert result.observed["unexpected_count"] == 1
    assert "unexpected_sample" not in result.observed


def test_implausible_timestamp_warns(bad):
    result = bad[0]["raw_pms__appointments"].result_for("ExpectColumnValuesToBeBetween:updated_at")
    assert not result.success and result.severity == "warn"
    assert result.observed["unexpected_sample"] == ["1999-12-31T23:00:00+00:00"]


def test_interval_ending_before_it_starts_warns(bad):
    suite = bad[0]["raw_pms__appointments"]
    result = suite.result_for(
        "ExpectColumnPairValuesAToBeGreaterThanB:scheduled_end >= scheduled_start"
    )
    assert not result.success and result.severity == "warn"
    assert result.observed["unexpected_count"] == 1


def test_suite_with_only_warnings_fails_with_warn_severity(bad):
    calls = bad[0]["raw_phone__calls"]
    assert not calls.success
    assert calls.severity == "warn"
    assert [e.key for e in calls.failures] == [
        "ExpectColumnPairValuesAToBeGreaterThanB:ended_at >= started_at"
    ]


def test_worst_failure_decides_suite_severity(bad):
    assert bad[0]["raw_pms__appointments"].severity == "error"
    assert bad[0]["raw_pms__appointments"].blocking


def test_wrong_column_type_is_caught_from_information_schema(bad):
    result = bad[0]["raw_reviews__surveys"].result_for("ExpectColumnValuesToBeInSet:column types")
    assert not result.success
    assert result.observed["unexpected_sample"] == ["nps_score VARCHAR"]


def test_missing_contract_column_fails_the_column_set(bad):
    suite = bad[0]["raw_crm__marketing_spend"]
    result = suite.result_for("ExpectTableColumnsToMatchSet")
    assert not result.success
    assert result.observed["mismatched"] == {"missing": ["amount"]}
    # Rules on the missing column fail with an error message instead of crashing the run.
    not_null = suite.result_for("ExpectColumnValuesToNotBeNull:amount")
    assert not not_null.success and not_null.error


def test_phi_and_patient_ids_never_reach_results_or_report(bad):
    results, folder = bad
    patients = results["raw_pms__patients"]
    dup = patients.result_for("ExpectColumnValuesToBeUnique:patient_id")
    assert not dup.success
    assert dup.observed == {
        "element_count": 2,
        "unexpected_count": 2,
        "unexpected_percent": 100.0,
        "missing_count": 0,
        "missing_percent": 0.0,
    }
    written = [p.read_text(encoding="utf-8") for p in folder.iterdir()]
    everything = json.dumps([r.to_dict() for r in results.values()]) + "".join(written)
    leaked = [marker for marker in PHI_MARKERS if marker in everything]
    assert leaked == []


def test_results_are_written_as_json_and_an_html_index(bad):
    folder = bad[1]
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{s}.json" for s in RAW_SUITES] + ["index.html"])
    doc = json.loads((folder / "raw_pms__appointments.json").read_text(encoding="utf-8"))
    assert doc["suite"] == "raw_pms__appointments" and doc["severity"] == "error"
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert all(s in page for s in RAW_SUITES)
    assert "&quot;fax&quot;" in page  # the observed enum value, HTML-escaped


def test_the_plain_sql_baseline_finds_the_same_failures_as_gx(bad):
    """The bench's baseline (`benchmarks.bench_quality`) is only a baseline if it checks the
    same rules: on the defective warehouse it must fail exactly the expectations GX fails.
    Suites where GX could not evaluate a rule (a missing column, a column of the wrong type)
    are left out: GX reports those rules as errors, a hand-written aggregate over them cannot
    even be compiled."""
    from benchmarks.bench_quality import plain_sql_failures

    results, folder = bad
    evaluable = [s for s in _specs() if not any(e.error for e in results[s.name].expectations)]
    gx = {(s.name, e.key) for s in evaluable for e in results[s.name].failures}
    assert len(evaluable) >= 3 and len(gx) >= 3
    assert plain_sql_failures(evaluable, folder.parent / "warehouse.duckdb") == gx
