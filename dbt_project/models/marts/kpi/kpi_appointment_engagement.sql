{#-
    Appointment-side engagement KPIs in the long form, by scheduled_start's local period:
    confirmation_response_rate, reschedule_capture_rate, intake_completion_rate,
    rebooking_rate (definitions in int_appointment_kpi_events). Windowed ones
    (reschedule capture, rebooking grace) stay is_final = false until their window closes.
-#}
with

events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi in (
        'confirmation_response_rate', 'reschedule_capture_rate', 'intake_completion_rate', 'rebooking_rate'
    )
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled') }}

{{ kpi_select('rolled') }}
