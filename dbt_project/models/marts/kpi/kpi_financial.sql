{#-
    Financial KPIs in the long form (grain x period_start x location_id x kpi):
    net_revenue, gross_margin, membership_revenue_share, retail_revenue_share (paid invoice
    lines by issued_at's local date), avg_revenue_per_appointment (completed appointments by
    scheduled_start), mrr and ltv_12m (point-in-time at the period's last day). Only rows where
    the KPI has data: no POS data -> no revenue rows; no memberships -> no mrr rows.
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

revenue_lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where is_revenue
),

calendar as (
    select * from {{ ref('dim_date') }}
),

events as (
    select
        location_id,
        event_date,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from invoice_events
    union all
    select
        location_id,
        event_date,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from appointment_events
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'additive') }},

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
-- (cancelled_on null or cancelled_on > d); from each location's first membership on.
membership_locations as (
    select
        location_id,
        min(started_on) as first_started_on
    from memberships
    group by location_id
),

mrr_by_location as (
    select
        open_periods.grain,
        open_periods.period_start,
        membership_locations.location_id,
        coalesce(sum(memberships.monthly_value), 0) as mrr
    from open_periods
    inner join membership_locations on open_periods.period_last_day >= membership_locations.first_started_on
    left join memberships
        on
            membership_locations.location_id = memberships.location_id
            and open_periods.period_last_day >= memberships.started_on
            and (memberships.cancelled_on is null or open_periods.period_last_day < memberships.cancelled_on)
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

-- ltv_12m at d = net revenue of the trailing ltv_window_days (d included) / patients with at
-- least one paid invoice in them. Distinct patients do not add up: `_all` is recomputed.
revenue_days as (
    select
        location_id,
        issued_date,
        patient_key,
        sum(net_amount) as net_revenue
    from revenue_lines
    group by location_id, issued_date, patient_key
),

ltv_windows as (
    select
        open_periods.grain,
        open_periods.period_start,
        revenue_days.location_id,
        revenue_days.patient_key,
        revenue_days.net_revenue
    from open_periods
    inner join revenue_days
        on
            open_periods.period_last_day >= revenue_days.issued_date
            and revenue_days.issued_date > cast(
                {{ dbt.dateadd('day', -1 * var('ltv_window_days'), 'open_periods.period_last_day') }} as date
            )
),

ltv as (
    select
        grain,
        period_start,
        location_id,
        sum(net_revenue) as numerator,
        count(distinct patient_key) as denominator
    from ltv_windows
    group by grain, period_start, location_id
    union all
    select
        grain,
        period_start,
        '_all' as location_id,
        sum(net_revenue) as numerator,
        count(distinct patient_key) as denominator
    from ltv_windows
    group by grain, period_start
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
        {{ kpi_is_final('mrr.grain', 'mrr.period_start', '0', 'kpi_as_of.as_of_local') }} as is_final
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
        {{ kpi_is_final('ltv.grain', 'ltv.period_start', '0', 'kpi_as_of.as_of_local') }} as is_final
    from ltv
    left join kpi_as_of on ltv.location_id = kpi_as_of.location_id
),

unioned as (
    select * from additive
    union all
    select * from point_in_time
)

{{ kpi_select('unioned') }}
