{%- set inputs = ['int_appointment_kpi_events'] -%}
{{
    config(
        materialized='incremental',
        unique_key=['grain', 'period_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ kpi_rollup_prepare(" ~ inputs ~ ") }}",
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Appointment-side engagement KPIs in the long form, by scheduled_start's local period:
    confirmation_response_rate, reschedule_capture_rate, intake_completion_rate,
    rebooking_rate (definitions in int_appointment_kpi_events). Windowed ones
    (reschedule capture, rebooking grace) stay is_final = false until their window closes.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; otherwise it rebuilds whole.
-#}
with

events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi in (
        'confirmation_response_rate', 'reschedule_capture_rate', 'intake_completion_rate', 'rebooking_rate'
    )
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', recompute_from=kpi_rollup_cutoffs(inputs)) }}

{{ kpi_select('rolled') }}
