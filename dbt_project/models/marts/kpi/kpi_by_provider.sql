{%- set inputs = ['int_invoice_kpi_events', 'int_provider_kpi_events', 'int_appointment_kpi_events'] -%}
{%- set guards = [{'model': 'kpi_coverage', 'columns': ['kpi', 'computable']}] -%}
{%- set dated = {'fct_surveys': 'responded_local_date'} -%}
{{
    config(
        materialized='incremental',
        unique_key=['grain', 'period_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ kpi_rollup_prepare_with(" ~ inputs ~ ", " ~ guards ~ ", " ~ dated ~ ") }}",
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Per-provider drill-down (same long form plus provider_id), per location and chain-wide:
      revenue_per_provider        net revenue attributed to the provider (sum; docs/kpis.md); a
                                  level: 0 in a period the provider worked (a shift or a
                                  completed visit: a provider_productive_share event) without a
                                  paid line attributed to them, once POS data is delivered
                                  (kpi_coverage); no row in a period they neither worked nor
                                  earned in
      provider_productive_share   completed-appointment hours / shift hours (revenue-generating)
      rebooking_rate, confirmation_response_rate   by the appointment's provider
      nps                         by the surveyed visit's provider (fct_surveys.provider_id),
                                  scored and dated as kpi_engagement's nps; a survey naming no
                                  known visit has no provider and is left out, so a provider's
                                  responses add up to at most the location's
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records (fct_surveys': the location and
    response date of each survey it changed, both sides), the as-of move or a non-final row
    can have changed; it rebuilds whole when the computable KPIs differ from the ones its last
    build used (its guard: revenue's 0 rows follow revenue_per_provider's coverage in every
    period, and a KPI not computable has no rows at all), and whenever the inputs cannot tell.
-#}
with

invoice_events as (
    select * from {{ ref('int_invoice_kpi_events') }}
    where kpi = 'net_revenue' and provider_id is not null
),

productive_events as (
    select * from {{ ref('int_provider_kpi_events') }}
),

appointment_events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi in ('rebooking_rate', 'confirmation_response_rate')
),

survey_events as (
    select
        location_id,
        responded_local_date as event_date,
        provider_id,
        'nps' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        {{ nps_points('nps_category') }} as numerator,
        1.0 as denominator
    from {{ ref('fct_surveys') }}
    where is_responded and provider_id is not null
),

-- revenue is a level: 0 on every day a provider worked (their productive-share events: shift
-- hours or completed visits) once POS data exists, so a week worked without a paid invoice
-- reports 0, not nothing (as kpi_financial's net_revenue per location)
revenue_zero_events as (
    select
        productive_events.location_id,
        productive_events.event_date,
        productive_events.provider_id,
        'sum' as value_kind,
        0 as window_minutes,
        cast(0 as double) as numerator,
        cast(null as double) as denominator
    from productive_events
    inner join {{ ref('kpi_coverage') }} as coverage
        on
            coverage.kpi = 'revenue_per_provider'
            and coverage.computable
),

events as (
    {{ kpi_events_union(
        ['invoice_events', 'revenue_zero_events'], dims=['provider_id'], exprs={'kpi': "'revenue_per_provider'"}
    ) }}
    union all
    {{ kpi_events_union(['productive_events', 'appointment_events', 'survey_events'], dims=['provider_id']) }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup(
    'events', 'rolled', dims=['provider_id'], daily=false,
    recompute_from=kpi_rollup_cutoffs_with(inputs, guards, dated),
) }},

-- KPIs whose input tables were never delivered (kpi_coverage.computable = false, e.g.
-- provider_productive_share without pms.provider_shifts) have no rows
{{ kpi_covered('rolled') }}

{{ kpi_select('covered', dims=['provider_id']) }}
