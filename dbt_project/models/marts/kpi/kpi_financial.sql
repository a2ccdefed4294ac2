{%- set inputs = ['int_invoice_kpi_events', 'int_appointment_kpi_events'] -%}
{%- set cutoffs = kpi_financial_cutoffs(inputs) -%}
{#- ltv_12m's revenue days: every one, or in an incremental run those after the earlier cutoff
    minus the window (see ltv_lines) -#}
{%- set ltv_days = 'true' -%}
{%- if cutoffs -%}
    {%- set ltv_days = 'issued_date > cast(' ~ dbt.dateadd(
        'day', -1 * var('ltv_window_days'), "date '" ~ [cutoffs.week, cutoffs.month] | min ~ "'"
    ) ~ ' as date)' -%}
{%- endif -%}
{{
    config(
        materialized='incremental',
        unique_key=['grain', 'period_start', 'location_id', 'kpi'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ kpi_financial_prepare(" ~ inputs ~ ") }}",
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Financial KPIs in the long form (grain x period_start x location_id x kpi):
    net_revenue, gross_margin, membership_revenue_share, retail_revenue_share (paid invoice
    lines by issued_at's local date), avg_revenue_per_appointment (completed appointments by
    scheduled_start), mrr and ltv_12m (point-in-time at the period's last day).
    Levels over an empty set are 0 where their source table was delivered: net_revenue is 0 in
    a location-period without a paid line, mrr is 0 at a location with memberships data but no
    active membership at period end, from the location's calendar start on. A KPI whose source
    system was never delivered (kpi_coverage) has no rows at all. Periods not started at the
    as-of time are not reported; `_all` is reported once a period has started at any location,
    from the locations where it has.
    Incremental (macros/kpi_financial_incremental.sql): a nightly run rewrites the periods from
    the earliest one its inputs' touched records, a moved level day, the as-of move or a
    non-final row can have changed, and every mrr row; otherwise it rebuilds whole.
-#}
with

invoice_events as (
    select * from {{ ref('int_invoice_kpi_events') }}
),

appointment_events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi = 'avg_revenue_per_appointment'
),

memberships as (
    select * from {{ ref('fct_memberships') }}
),

-- the KPI calendar: int_dates' days from the data's history on (is_kpi_day); the days
-- before it, which dim_date also covers for BI joins, are no period of a KPI
calendar as (
    select {{ calendar_day_columns('date_day') }}
    from {{ ref('int_dates') }}
    where is_kpi_day
),

calendar_starts as (
    select * from {{ ref('int_location_calendar_starts') }}
),

coverage as (
    select * from {{ ref('kpi_coverage') }}
),

events as (
    {{ kpi_events_union(['invoice_events', 'appointment_events']) }}
    union all
    -- net revenue is a level: 0 on every location-day of the calendar once POS data exists
    {{ kpi_zero_level_events(['net_revenue']) }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'additive', recompute_from=cutoffs) }},

-- Point-in-time KPIs are measured on each period's last day, for periods up to the as-of one.
periods as (
    select distinct
        'week' as grain,
        week_start as period_start,
        week_end as period_last_day
    from calendar
    union all
    select distinct
        'month' as grain,
        month_start as period_start,
        month_end as period_last_day
    from calendar
),

open_periods as (
    select periods.*
    from periods
    where periods.period_start <= (select max(cast(as_of_local as date)) from kpi_as_of)
),

-- mrr at d = Σ price / billing_period_months of memberships with started_on <= d and
-- (cancelled_on null or cancelled_on > d); 0 without an active one, at every location from
-- its calendar start on, once memberships data was delivered.
membership_locations as (
    select
        location_id,
        calendar_start_date as first_started_on
    from calendar_starts
    where exists (
        select 1 from coverage
        where kpi = 'mrr' and computable
    )
),

mrr_by_location as (
    select
        open_periods.grain,
        open_periods.period_start,
        membership_locations.location_id,
        coalesce(sum(memberships.monthly_value), 0) as mrr
    from open_periods
    inner join membership_locations on open_periods.period_last_day >= membership_locations.first_started_on
    left join kpi_as_of as started on membership_locations.location_id = started.location_id
    left join memberships
        on
            membership_locations.location_id = memberships.location_id
            and open_periods.period_last_day >= memberships.started_on
            -- one condition, not `cancelled_on is null or ...`: an OR made DuckDB compare every
            -- membership with every period (a nested-loop join) instead of hashing on location
            and open_periods.period_last_day < coalesce(memberships.cancelled_on, cast('9999-12-31' as date))
    where {{ kpi_period_started('open_periods.period_start', 'started.as_of_local') }}
    group by open_periods.grain, open_periods.period_start, membership_locations.location_id
),

mrr as (
    select
        grain,
        period_start,
        location_id,
        mrr as numerator
    from mrr_by_location
    union all
    select
        grain,
        period_start,
        '_all' as location_id,
        sum(mrr) as numerator
    from mrr_by_location
    group by grain, period_start
),

-- ltv_12m at d = net revenue of identified patients' paid invoices in the trailing
-- ltv_window_days (d included) / patients with at least one paid invoice in them. Anonymous
-- walk-in retail (no patient) counts in net_revenue, not here. Distinct patients do not add
-- up: `_all` is recomputed.
-- Linear in the revenue days, not periods x revenue days: a revenue day r counts at every d
-- in [r, r + window - 1], so the numerator is a running sum of +net at r and -net at
-- r + window, and a patient counts at d while d lies in one of its activity islands (revenue
-- days less than a window apart merged; island = [first day, last day + window - 1]): a
-- running sum of +1 at an island's start and -1 the day after its end. Islands of one
-- patient are disjoint, so the running sum is the distinct count. Period ends are rows of the
-- same running sums (RANGE frame: same-day changes included).
-- The numerator needs no patient: identified patients' revenue per location and day (~40 k
-- rows at 40 locations) feeds its running sums, not every patient-day (1.1 M rows, each twice).
-- The denominator needs only which days each patient paid on, not how much: a distinct, not a
-- sum per patient-day.
-- In an incremental run only the periods from the cutoffs on are recomputed: a period's value
-- at its last day d >= the earlier cutoff reads only the revenue days in (d - window, d], so
-- the days from the earlier cutoff minus the window on are all it needs (an island cut there
-- covers d exactly when the whole one does: both hold a revenue day of that window).
ltv_lines as (
    select
        location_id,
        issued_date,
        patient_key,
        net_amount
    from {{ ref('fct_invoice_lines') }}
    where
        is_revenue
        and patient_key is not null
        and {{ ltv_days }}
),

ltv_location_revenue as (
    select
        location_id,
        issued_date,
        sum(net_amount) as net_revenue
    from ltv_lines
    group by location_id, issued_date
),

ltv_patient_days as (
    select distinct
        location_id,
        issued_date,
        patient_key
    from ltv_lines
),

ltv_periods as (
    select open_periods.*
    from open_periods
    {%- if cutoffs %}
        where {{ kpi_rollup_recomputed(cutoffs, 'open_periods.grain', 'open_periods.period_start') }}
    {%- endif %}
),

revenue_locations as (
    select distinct location_id
    from ltv_location_revenue
),

ltv_location_periods as (
    select
        ltv_periods.grain,
        ltv_periods.period_start,
        ltv_periods.period_last_day,
        revenue_locations.location_id
    from ltv_periods
    cross join revenue_locations
    left join kpi_as_of as started on revenue_locations.location_id = started.location_id
    where {{ kpi_period_started('ltv_periods.period_start', 'started.as_of_local') }}
),

-- `_all` counts only the locations where the period has started (kpi_rollup's rule): a
-- period not yet started at some location (between two time zones' midnights) is
-- computed by the direct windowed join below, every other one from the running sums.
ltv_partial_periods as (
    select ltv_periods.*
    from ltv_periods
    where exists (
        select 1 from kpi_as_of_locations as started
        where not {{ kpi_period_started('ltv_periods.period_start', 'started.as_of_local') }}
    )
),

ltv_chain_periods as (
    select ltv_periods.*
    from ltv_periods
    where not exists (
        select 1 from ltv_partial_periods
        where
            ltv_partial_periods.grain = ltv_periods.grain
            and ltv_partial_periods.period_start = ltv_periods.period_start
    )
),

-- identified patients' revenue per day twice: at its location (scope = location_id) and
-- chain-wide (scope = '_all'); sums of decimals, exact whatever the order
ltv_scoped_revenue as (
    select
        location_id as scope,
        issued_date,
        net_revenue
    from ltv_location_revenue
    union all
    select
        '_all' as scope,
        issued_date,
        sum(net_revenue) as net_revenue
    from ltv_location_revenue
    group by issued_date
),

-- each patient-day with its patient's previous and next revenue day in the scope: a day
-- opens an island when the previous one lies a window or more before it, and closes one when
-- the next lies a window or more after it (or there is none)
{{ ltv_patient_neighbours('ltv_patient_days', 'ltv_patient_neighbours') }},

ltv_island_starts as (
    select
        scope,
        issued_date as island_start
    from ltv_patient_neighbours
    where
        previous_date is null
        or previous_date <= cast({{ dbt.dateadd('day', -1 * var('ltv_window_days'), 'issued_date') }} as date)
),

ltv_island_ends as (
    select
        scope,
        issued_date as island_last_day
    from ltv_patient_neighbours
    where
        next_date is null
        or next_date >= cast({{ dbt.dateadd('day', var('ltv_window_days'), 'issued_date') }} as date)
),

-- changes to the running sums: (scope, day, revenue change, patient count change); scope is
-- a location or `_all`
ltv_changes as (
    select
        scope,
        issued_date as change_date,
        net_revenue as revenue_change,
        0 as patient_change
    from ltv_scoped_revenue
    union all
    select
        scope,
        cast({{ dbt.dateadd('day', var('ltv_window_days'), 'issued_date') }} as date) as change_date,
        -net_revenue as revenue_change,
        0 as patient_change
    from ltv_scoped_revenue
    union all
    select
        scope,
        island_start as change_date,
        0 as revenue_change,
        1 as patient_change
    from ltv_island_starts
    union all
    select
        scope,
        cast({{ dbt.dateadd('day', var('ltv_window_days'), 'island_last_day') }} as date) as change_date,
        0 as revenue_change,
        -1 as patient_change
    from ltv_island_ends
),

ltv_daily_changes as (
    select
        scope,
        change_date,
        cast(null as varchar) as grain,
        cast(null as date) as period_start,
        sum(revenue_change) as revenue_change,
        sum(patient_change) as patient_change
    from ltv_changes
    group by scope, change_date
    union all
    select
        location_id as scope,
        period_last_day as change_date,
        grain,
        period_start,
        0 as revenue_change,
        0 as patient_change
    from ltv_location_periods
    union all
    select
        '_all' as scope,
        period_last_day as change_date,
        grain,
        period_start,
        0 as revenue_change,
        0 as patient_change
    from ltv_chain_periods
),

ltv_running as (
    select
        scope,
        grain,
        period_start,
        sum(revenue_change) over scope_days as numerator,
        sum(patient_change) over scope_days as denominator
    from ltv_daily_changes
    window scope_days as (partition by scope order by change_date range unbounded preceding)
),

-- a partial period's trailing window at the locations where it has started: revenue from the
-- location-days, distinct patients from the patient-days
ltv_partial_window_revenue as (
    select
        ltv_partial_periods.grain,
        ltv_partial_periods.period_start,
        sum(ltv_location_revenue.net_revenue) as numerator
    from ltv_partial_periods
    inner join ltv_location_revenue
        on
            ltv_partial_periods.period_last_day >= ltv_location_revenue.issued_date
            and ltv_location_revenue.issued_date > cast(
                {{ dbt.dateadd('day', -1 * var('ltv_window_days'), 'ltv_partial_periods.period_last_day') }} as date
            )
    left join kpi_as_of as started on ltv_location_revenue.location_id = started.location_id
    where {{ kpi_period_started('ltv_partial_periods.period_start', 'started.as_of_local') }}
    group by ltv_partial_periods.grain, ltv_partial_periods.period_start
),

ltv_partial_window_patients as (
    select
        ltv_partial_periods.grain,
        ltv_partial_periods.period_start,
        count(distinct ltv_patient_days.patient_key) as denominator
    from ltv_partial_periods
    inner join ltv_patient_days
        on
            ltv_partial_periods.period_last_day >= ltv_patient_days.issued_date
            and ltv_patient_days.issued_date > cast(
                {{ dbt.dateadd('day', -1 * var('ltv_window_days'), 'ltv_partial_periods.period_last_day') }} as date
            )
    left join kpi_as_of as started on ltv_patient_days.location_id = started.location_id
    where {{ kpi_period_started('ltv_partial_periods.period_start', 'started.as_of_local') }}
    group by ltv_partial_periods.grain, ltv_partial_periods.period_start
),

ltv as (
    select
        grain,
        period_start,
        scope as location_id,
        numerator,
        denominator
    from ltv_running
    where grain is not null and denominator > 0
    union all
    select
        ltv_partial_window_revenue.grain,
        ltv_partial_window_revenue.period_start,
        '_all' as location_id,
        ltv_partial_window_revenue.numerator,
        ltv_partial_window_patients.denominator
    from ltv_partial_window_revenue
    inner join ltv_partial_window_patients
        on
            ltv_partial_window_revenue.grain = ltv_partial_window_patients.grain
            and ltv_partial_window_revenue.period_start = ltv_partial_window_patients.period_start
),

point_in_time as (
    select
        mrr.grain,
        mrr.period_start,
        mrr.location_id,
        'mrr' as kpi,
        cast(mrr.numerator as double) as value,
        cast(mrr.numerator as double) as numerator,
        cast(null as double) as denominator,
        {{ kpi_is_final('mrr.grain', 'mrr.period_start', '0', 'kpi_as_of') }} as is_final
    from mrr
    left join kpi_as_of on mrr.location_id = kpi_as_of.location_id
    union all
    select
        ltv.grain,
        ltv.period_start,
        ltv.location_id,
        'ltv_12m' as kpi,
        {{ safe_divide('ltv.numerator', 'ltv.denominator') }} as value,
        cast(ltv.numerator as double) as numerator,
        cast(ltv.denominator as double) as denominator,
        {{ kpi_is_final('ltv.grain', 'ltv.period_start', '0', 'kpi_as_of') }} as is_final
    from ltv
    left join kpi_as_of on ltv.location_id = kpi_as_of.location_id
),

unioned as (
    select * from additive
    union all
    select * from point_in_time
)

{{ kpi_select('unioned') }}
