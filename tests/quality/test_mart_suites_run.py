"""The scorecard suite on a hand-made mart: ranges, grain, completeness, revenue to the cent.

Fixture (quality_fixtures): paid invoice lines L1 100.00 and L2 20.00 in week 2026-11-02 and
month 2026-11-01 (L1's unpaid 50.00 does not count); the good scorecard reports them, with the
chain-wide week at 120.01 (exactly one cent off: passes). The bad scorecard reports month L2
at 20.02 (two cents off), a no-show rate of 3/2 = 1.5, a zero-denominator rate as 0, a room
utilization of 1.2, a duplicated gross-margin row, a KPI without its chain-wide row and a
final week after the as-of date (2026-11-16); location L4 has a paid line but no
scorecard row; and the grid asks for L3's no-show rate that week, which has no row.
"""

from __future__ import annotations

import pytest
from quality_fixtures import GOOD_SCORECARD, bad_scorecard, build_marts

from quality.suites import mart_suites

pytestmark = pytest.mark.xdist_group("quality_gx")


def _build_good(path):
    return build_marts(path, GOOD_SCORECARD, ["L1", "L2", "L3"])


def _build_bad(path):
    import duckdb

    build_marts(path, bad_scorecard(), ["L1", "L2", "L3", "L4"])
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into marts.fct_invoice_lines values "
            "('L4', '2026-11-03', '2026-11-02', '2026-11-01', 0.00, true)"
        )
        # L3 has a started week, and no-show rate is computable: the scorecard has no row
        con.execute(
            "insert into intermediate.int_kpi_grid values "
            "('week', '2026-11-02', 'L3', 'no_show_rate', 'ratio', true)"
        )
    return path


@pytest.fixture(scope="module")
def good(run_and_keep):
    return run_and_keep("marts_good", _build_good, mart_suites())[0]["marts__kpi_scorecard"]


@pytest.fixture(scope="module")
def bad(run_and_keep):
    return run_and_keep("marts_bad", _build_bad, mart_suites())[0]["marts__kpi_scorecard"]


def test_consistent_scorecard_passes_every_rule(good):
    assert [e.key for e in good.failures] == []
    assert good.success and good.severity is None


def test_revenue_one_cent_off_still_reconciles(good):
    result = good.result_for("net_revenue_reconciles")
    assert result.success
    assert result.observed["element_count"] == 6  # 2 grains × (L1, L2, _all)


def test_nps_and_minutes_are_not_range_checked(good):
    # nps -40 and 42 minutes sit in the good fixture; the proportions are its 3 no-show rows
    # and 2 contact-rate rows.
    assert good.result_for("proportion_in_unit_interval").observed["element_count"] == 5


def test_revenue_two_cents_off_fails_naming_period_and_location(bad):
    result = bad.result_for("net_revenue_reconciles")
    assert not result.success and result.severity == "error"
    assert result.observed["unexpected_sample"] == [
        "month 2026-11-01 L2: scorecard 20.02 vs paid lines 20.0"
    ]


def test_rate_above_one_fails(bad):
    result = bad.result_for("proportion_in_unit_interval")
    assert not result.success and result.severity == "error"
    assert result.observed["unexpected_sample"] == [1.5]


def test_numerator_above_denominator_fails(bad):
    result = bad.result_for("proportion_numerator_within_denominator")
    assert result.observed["unexpected_sample"] == [[2.0, 3.0]]


def test_share_above_one_only_warns(bad):
    result = bad.result_for("share_in_unit_interval")
    assert not result.success and result.severity == "warn"
    assert result.observed["unexpected_sample"] == [1.2]


def test_duplicate_scorecard_row_fails_grain_uniqueness(bad):
    result = bad.result_for("ExpectCompoundColumnsToBeUnique:grain,period_start,location_id,kpi")
    assert not result.success
    assert result.observed["unexpected_count"] == 2
    assert result.observed["unexpected_sample"][0] == {
        "grain": "week",
        "period_start": "2026-11-02",
        "location_id": "L1",
        "kpi": "gross_margin",
    }


def test_location_with_revenue_missing_from_scorecard_fails(bad):
    result = bad.result_for("every_location_with_data_present")
    assert result.observed["unexpected_sample"] == ["L4"]


def test_kpi_without_chain_wide_row_fails(bad):
    result = bad.result_for("chain_row_present")
    assert result.observed["unexpected_sample"] == ["week 2026-11-02 completed_visits"]


def test_kpi_missing_from_a_started_period_fails(bad):
    result = bad.result_for("every_grid_cell_present")
    assert not result.success and result.severity == "error"
    assert result.observed["unexpected_sample"] == ["week 2026-11-02 L3 no_show_rate"]


def test_final_period_after_the_as_of_date_fails(bad):
    # as-of 2026-11-16 07:00 UTC; a final week starting 2026-11-23 cannot be complete.
    result = bad.result_for("final_only_up_to_as_of")
    assert result.observed["unexpected_sample"] == ["week 2026-11-23 _all new_leads"]


def test_zero_denominator_reported_as_zero_fails(bad):
    result = bad.result_for("zero_denominator_value_is_null")
    assert result.observed["unexpected_count"] == 1
    assert result.observed["unexpected_sample"] == [0.0]


def test_bad_scorecard_blocks_publishing(bad):
    assert bad.severity == "error" and bad.blocking
