{#-
    Operational KPIs in the long form: completed_visits, no_show_rate, late_cancellation_rate,
    consult_conversion_rate (events in int_appointment_kpi_events), new_patients (patients
    whose first completed visit falls in the period, at its location) and patient_throughput
    (completed visits / open location-days; only when opening hours are known).
-#}
with

appointment_events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi in ('completed_visits', 'no_show_rate', 'late_cancellation_rate', 'consult_conversion_rate')
),

visits as (
    select * from {{ ref('int_patient_visits') }}
),

appointments as (
    select * from {{ ref('fct_appointments') }}
),

location_days as (
    select * from {{ ref('int_location_days') }}
),

location_hours as (
    select * from {{ ref('stg_pms__location_hours') }}
),

throughput_events as (
    select
        location_id,
        scheduled_date as event_date,
        1 as numerator,
        0 as denominator
    from appointments
    where is_completed
    union all
    select
        location_id,
        date_day as event_date,
        0 as numerator,
        1 as denominator
    from location_days
    where is_open
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
    from appointment_events
    union all
    select
        first_visit_location_id as location_id,
        first_visit_date as event_date,
        'new_patients' as kpi,
        'sum' as value_kind,
        0 as window_minutes,
        1 as numerator,
        cast(null as double) as denominator
    from visits
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
    where exists (select 1 from location_hours)
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled') }}

{{ kpi_select('rolled') }}
