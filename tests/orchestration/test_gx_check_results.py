"""A raw suite's check result names what failed and, when it read every row, why that may
include rows an earlier version loaded (a stricter contract after an upgrade)."""

from __future__ import annotations

from types import SimpleNamespace

from orchestration.defs.gx import ALL_ROWS_FAILED, to_check_result
from quality.results import ExpectationResult, SuiteResult


def _result(since_load_id: str | None) -> SuiteResult:
    def expectation(key: str, success: bool) -> ExpectationResult:
        return ExpectationResult(key, "k", "email", "error", "d", success, {})

    return SuiteResult(
        "raw_crm__leads",
        "raw_crm.leads",
        False,
        "error",
        [
            expectation("ExpectColumnValuesToNotBeNull:email", False),
            expectation("ExpectColumnValuesToBeUnique:lead_id", True),
        ],
        since_load_id=since_load_id,
    )


SUITE = SimpleNamespace(
    name="raw_crm__leads", relation="raw_crm.leads", description="Contract rules for crm.leads."
)


def test_a_failure_over_every_row_says_rows_loaded_under_earlier_rules_are_judged_too():
    check = to_check_result(SUITE, _result(None))
    assert not check.passed
    assert check.description == (
        "Contract rules for crm.leads. 1 of 2 expectations failed "
        "(ExpectColumnValuesToNotBeNull:email)" + ALL_ROWS_FAILED
    )


def test_a_failure_in_the_newest_loads_names_the_rule_only():
    check = to_check_result(SUITE, _result("20261207T000000Z"))
    assert check.description == (
        "Contract rules for crm.leads. 1 of 2 expectations failed "
        "(ExpectColumnValuesToNotBeNull:email)"
    )
