"""Mart suites: the scorecard is sane, complete, and its revenue reconciles to the facts.

What is checked, and why each rule is an `error` (blocks publishing) or a `warn`:
- proportion KPIs (a subset count over a count) lie in [0, 1] and numerator <= denominator:
  anything else is a bug in a KPI model (error);
- shares of hours or revenue lie in [0, 1] and gross margin is at most 1; double-booked rooms
  or negative invoice lines can push a real value over, so these only warn;
- NPS (-100..100), minutes and money have no such bound and are not range-checked;
- one row per grain × period × location × KPI; every location of `dim_locations` with paid
  revenue appears; every grain × period × KPI a location has also has its chain-wide `_all` row;
- a KPI with a zero denominator is null, not 0 (kpis.md);
- `net_revenue` equals the paid lines of `fct_invoice_lines` per grain × period × location
  (and `_all`) within a cent, a period missing on either side counting as 0.
Check queries return a text column that is null for good rows and describes the bad ones, so
a failure's observed values say exactly which period/location is wrong.
"""

from __future__ import annotations

from quality.spec import ExpectationSpec, SuiteSpec

MART_SCHEMA = "marts"
CHAIN_LOCATION = "_all"
#: Largest allowed |scorecard net_revenue - sum of paid invoice lines|, in USD.
REVENUE_TOLERANCE = 0.01

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
#: KPIs the seed calls `ratio` that are not bounded by 1: visits per open day, and a margin
#: that turns negative when cost exceeds revenue (its upper bound is checked separately).
UNBOUNDED_RATIO_KPIS: tuple[str, ...] = ("patient_throughput", "gross_margin")
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


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _scorecard_rows(schema: str, kpis: tuple[str, ...]) -> str:
    return f"select * from {schema}.kpi_scorecard where kpi in ({_in_list(kpis)})"


def _missing_locations_query(schema: str) -> str:
    return f"""
with has_data as (
    select distinct location_id from {schema}.fct_invoice_lines where is_revenue
),
in_scorecard as (
    select distinct location_id from {schema}.kpi_scorecard
)
select case when in_scorecard.location_id is null then d.location_id end as missing_location_id
from {schema}.dim_locations as d
inner join has_data on d.location_id = has_data.location_id
left join in_scorecard on d.location_id = in_scorecard.location_id
"""


def _missing_chain_rows_query(schema: str) -> str:
    return f"""
with per_location as (
    select distinct grain, period_start, kpi from {schema}.kpi_scorecard
    where location_id <> '{CHAIN_LOCATION}'
),
chain as (
    select distinct grain, period_start, kpi from {schema}.kpi_scorecard
    where location_id = '{CHAIN_LOCATION}'
)
select
    case when chain.kpi is null
        then concat_ws(' ', p.grain, p.period_start::varchar, p.kpi) end as missing_chain_row
from per_location as p
left join chain
    on p.grain = chain.grain and p.period_start = chain.period_start and p.kpi = chain.kpi
"""


def _revenue_reconciliation_query(schema: str) -> str:
    return f"""
with lines as (
    select location_id, week_start, month_start, net_amount
    from {schema}.fct_invoice_lines
    where is_revenue
),
expected as (
    select 'week' as grain, week_start as period_start, location_id, sum(net_amount) as amount
    from lines group by all
    union all
    select 'week', week_start, '{CHAIN_LOCATION}', sum(net_amount) from lines group by all
    union all
    select 'month', month_start, location_id, sum(net_amount) from lines group by all
    union all
    select 'month', month_start, '{CHAIN_LOCATION}', sum(net_amount) from lines group by all
),
reported as (
    select grain, period_start, location_id, value as amount
    from {schema}.kpi_scorecard
    where kpi = 'net_revenue'
),
compared as (
    select
        coalesce(e.grain, r.grain) as grain,
        coalesce(e.period_start::date, r.period_start::date) as period_start,
        coalesce(e.location_id, r.location_id) as location_id,
        coalesce(r.amount, 0)::double as scorecard_amount,
        coalesce(e.amount, 0)::double as lines_amount
    from expected as e
    full outer join reported as r
        on e.grain = r.grain
        and e.period_start::date = r.period_start::date
        and e.location_id = r.location_id
)
select
    case when round(abs(scorecard_amount - lines_amount), 6) > {REVENUE_TOLERANCE}
        then format('{{}} {{}} {{}}: scorecard {{}} vs paid lines {{}}',
            grain, period_start, location_id,
            round(scorecard_amount, 4), round(lines_amount, 4))
    end as revenue_mismatch
from compared
"""


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
    proportions = _scorecard_rows(schema, PROPORTION_KPIS)
    shares = _scorecard_rows(schema, SHARE_KPIS)
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
            query=_scorecard_rows(schema, ("gross_margin",)),
            label="gross_margin_at_most_one",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "every location with paid revenue appears in the scorecard",
            column="missing_location_id",
            query=_missing_locations_query(schema),
            label="every_location_with_data_present",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            "every grain × period × KPI with location rows has a chain-wide row",
            column="missing_chain_row",
            query=_missing_chain_rows_query(schema),
            label="chain_row_present",
        ),
        _expect(
            "ExpectColumnValuesToBeNull",
            "error",
            f"net_revenue equals paid invoice lines within {REVENUE_TOLERANCE} USD",
            column="revenue_mismatch",
            query=_revenue_reconciliation_query(schema),
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
