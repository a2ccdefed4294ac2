{#-
    New vs returning patients (docs/kpis.md: appointment-grain KPIs broken down by patient type):
    no_show_rate, confirmation_response_rate, rebooking_rate, intake_completion_rate and
    avg_revenue_per_appointment, with patient_type = 'new' | 'returning'.
-#}
with

events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi in (
        'no_show_rate', 'confirmation_response_rate', 'rebooking_rate', 'intake_completion_rate',
        'avg_revenue_per_appointment'
    )
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['patient_type']) }}

{{ kpi_select('rolled', dims=['patient_type']) }}
