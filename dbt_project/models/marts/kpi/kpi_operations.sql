{#-
    Operational KPIs in the long form: completed_visits, no_show_rate, late_cancellation_rate,
    consult_conversion_rate (events in int_appointment_kpi_events), new_patients (patients
    whose first completed visit falls in the period, at its location) and patient_throughput
    (completed visits / open location-days; only when opening hours are known).
    completed_visits and new_patients are levels: 0, not absent, on a location-period of the
    calendar without one (a week whose appointments were all no-shows has 0 completed visits)
    once appointments were delivered. Periods not started at the as-of time are not reported;
    `_all` is reported once a period has started at any location, from the locations where it
    has.
-#}
with

-- the appointment events summed per location-day first (2.9 M events at 40 locations become
-- 0.15 M day rows); patient_throughput's completed visits are the completed_visits day rows (one
-- event per completed fct_appointments row, dated by its scheduled_date), so the mart neither
-- reads fct_appointments nor hashes its 0.8 M completed appointments again. The rollup then
-- skips its own per-day step (daily=false): the ~0.6 M events left go straight to the buckets.
appointment_days as (
    select
        location_id,
        event_date,
        kpi,
        value_kind,
        max(window_minutes) as window_minutes,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from {{ ref('int_appointment_kpi_events') }}
    where kpi in ('completed_visits', 'no_show_rate', 'late_cancellation_rate', 'consult_conversion_rate')
    group by location_id, event_date, kpi, value_kind
),

throughput_events as (
    select
        location_id,
        event_date,
        numerator,
        0 as denominator
    from appointment_days
    where kpi = 'completed_visits'
    union all
    select
        location_id,
        date_day as event_date,
        0 as numerator,
        1 as denominator
    from {{ ref('int_location_days') }}
    where is_open
),

events as (
    {{ kpi_events_union(['appointment_days']) }}
    union all
    select
        first_visit_location_id as location_id,
        first_visit_date as event_date,
        'new_patients' as kpi,
        'sum' as value_kind,
        0 as window_minutes,
        1 as numerator,
        cast(null as double) as denominator
    from {{ ref('int_patient_visits') }}
    where visit_number = 1
    union all
    select
        location_id,
        event_date,
        'patient_throughput' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        numerator,
        denominator
    from throughput_events
    where exists (select 1 from {{ ref('stg_pms__location_hours') }})
    union all
    -- levels: a 0 on every location-day of the calendar once their source was delivered
    {{ kpi_zero_level_events(['completed_visits', 'new_patients']) }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', daily=false) }}

{{ kpi_select('rolled') }}
