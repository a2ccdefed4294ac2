"""Mart suites: the scorecard is sane, complete, and its revenue reconciles to the facts.

What is checked, and why each rule is an `error` (blocks publishing) or a `warn`:
- proportion KPIs (a subset count over a count) lie in [0, 1] and numerator <= denominator:
  anything else is a bug in a KPI model (error);
- shares of hours or revenue lie in [0, 1] and gross margin is at most 1; double-booked rooms
  or negative invoice lines can push a real value over, so these only warn;
- NPS (-100..100), minutes and money have no such bound and are not range-checked;
- one row per grain × period × location × KPI; every location of `dim_locations` with paid
  revenue appears; every grain × period × KPI a location has also has its chain-wide `_all` row;
- a KPI with a zero denominator is null, not 0 (docs/kpis.md);
- no period that starts after the data's as-of date (`int_data_as_of`) is marked final;
- `net_revenue` equals the paid lines of `fct_invoice_lines` per grain × period × location
  (and `_all`) within a cent, a period missing on either side counting as 0.
Check queries live in `quality.mart_queries`.
"""

from __future__ import annotations

from quality.mart_queries import (
    REVENUE_TOLERANCE,
    final_before_period_end_query,
    missing_chain_rows_query,
    missing_grid_cells_query,
    missing_locations_query,
    revenue_reconciliation_query,
    scorecard_rows,
)
from quality.spec import ExpectationSpec, SuiteSpec

MART_SCHEMA = "marts"

PROPORTION_KPIS: tuple[str, ...] = (
    "no_show_rate",
    "late_cancellation_rate",
    "contact_rate",
    "missed_call_rate",
    "booking_conversion_rate",
    "confirmation_response_rate",
    "reschedule_capture_rate",
    "intake_completion_rate",
    "post_care_response_rate",
    "post_care_click_rate",
    "review_conversion_rate",
    "rebooking_rate",
    "reactivation_rate",
    "consult_conversion_rate",
    "retention_12m",
)
SHARE_KPIS: tuple[str, ...] = (
    "membership_revenue_share",
    "retail_revenue_share",
    "room_utilization",
    "device_utilization",
    "provider_productive_share",
)
#: KPIs the seed calls `ratio` that are not bounded below by 0: a margin turns negative when
#: cost exceeds revenue (its upper bound is checked separately).
UNBOUNDED_RATIO_KPIS: tuple[str, ...] = ("gross_margin",)
SCORECARD_COLUMNS: tuple[str, ...] = (
    "grain",
    "period_start",
    "location_id",
    "kpi",
    "value",
    "numerator",
    "denominator",
    "target_low",
    "target_high",
    "status",
    "is_final",
    "baseline_12m",
    "change_vs_prior",
)
SCORECARD_KEY: tuple[str, ...] = ("grain", "period_start", "location_id", "kpi")
GRAINS: tuple[str, ...] = ("week", "month")
STATUSES: tuple[str, ...] = ("on_target", "below", "above", "no_target")


def _expect(kind: str, severity: str, description: str, **kwargs: object) -> ExpectationSpec:
    query = kwargs.pop("query", None)
    label = kwargs.pop("label", None)
    column = kwargs.get("column")
    return ExpectationSpec(
        kind=kind,
        kwargs=kwargs,
        severity=severity,  # type: ignore[arg-type]
        description=description,
        column=str(column) if column else None,
        query=query,  # type: ignore[arg-type]
        label=label,  # type: ignore[arg-type]
    )


def scorecard_suite(schema: str = MART_SCHEMA) -> SuiteSpec:
    """Range, grain, completeness and reconciliation rules on `<schema>.kpi_scorecard`."""
    proportions = scorecard_rows(schema, PROPORTION_KPIS)
    shares = scorecard_rows(schema, SHARE_KPIS)
    specs = [
        _expect(
            "ExpectTableColumnsToMatchSet",
            "error",
            "the scorecard has all its columns",
            column_set=list(SCORECARD_COLUMNS),
            exact_match=False,
        ),
        _expect(
            "ExpectCompoundColumnsToBeUnique",
            "error",
            "one row per grain × period × location × KPI",
            column_list=list(SCORECARD_KEY),
        ),
        *(
            _expect("ExpectColumnValuesToNotBeNull", "error", f"{c} is never null", column=c)
            for c in (*SCORECARD_KEY, "status", "is_final")
        ),
        _expect(
            "ExpectColumnValuesToBeInSet",
            "error",
            "known grain",
            column="grain",
            value_set=list(GRAINS),
        ),
        _expect(
            "ExpectColumnValuesToBeInSet",
            "error",
            "known status",
            column="status",
            value_set=list(STATUSES),
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "a KPI with a zero denominator is null, not 0",
            column="value",
            query=f"select * from {schema}.kpi_scorecard where denominator = 0",
            label="zero_denominator_value_is_null",
        ),
        _expect(
            "ExpectColumnValuesToBeBetween",
            "error",
            "proportion KPIs lie in [0, 1]",
            column="value",
            min_value=0,
            max_value=1,
            query=proportions,
            label="proportion_in_unit_interval",
        ),
        _expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "error",
            "proportion KPIs: numerator <= denominator",
            column_A="denominator",
            column_B="numerator",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            query=proportions,
            label="proportion_numerator_within_denominator",
        ),
        _expect(
            "ExpectColumnValuesToBeBetween",
            "warn",
            "shares of hours or revenue lie in [0, 1]",
            column="value",
            min_value=0,
            max_value=1,
            query=shares,
            label="share_in_unit_interval",
        ),
        _expect(
            "ExpectColumnValuesToBeBetween",
            "warn",
            "gross margin is at most 1",
            column="value",
            max_value=1,
            query=scorecard_rows(schema, ("gross_margin",)),
            label="gross_margin_at_most_one",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "every location with paid revenue appears in the scorecard",
            column="missing_location_id",
            query=missing_locations_query(schema),
            label="every_location_with_data_present",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "every grain × period × KPI with location rows has a chain-wide row",
            column="missing_chain_row",
            query=missing_chain_rows_query(schema),
            label="chain_row_present",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "every computable KPI has a row at every location and started period",
            column="missing_scorecard_row",
            query=missing_grid_cells_query(schema),
            label="every_grid_cell_present",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "no period still open at the data's as-of time is final",
            column="final_period_still_open",
            query=final_before_period_end_query(schema),
            label="final_only_up_to_as_of",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            f"net_revenue equals paid invoice lines within {REVENUE_TOLERANCE} USD",
            column="revenue_mismatch",
            query=revenue_reconciliation_query(schema),
            label="net_revenue_reconciles",
        ),
    ]
    return SuiteSpec(
        name=f"{schema}__kpi_scorecard",
        relation=f"{schema}.kpi_scorecard",
        expectations=tuple(specs),
        description="The scorecard: KPI ranges, one row per grain, completeness, revenue.",
    )


def mart_suites(schema: str = MART_SCHEMA) -> list[SuiteSpec]:
    """Suites on the KPI marts (today: the scorecard, which every page and alert reads)."""
    return [scorecard_suite(schema)]
