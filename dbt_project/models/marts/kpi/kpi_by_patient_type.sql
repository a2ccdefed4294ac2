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
    New vs returning patients (docs/kpis.md: appointment-grain KPIs broken down by patient type):
    no_show_rate, confirmation_response_rate, rebooking_rate, intake_completion_rate and
    avg_revenue_per_appointment, with patient_type = 'new' | 'returning'.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; otherwise it rebuilds whole.
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

{{ kpi_rollup('events', 'rolled', dims=['patient_type'], recompute_from=kpi_rollup_cutoffs(inputs)) }}

{{ kpi_select('rolled', dims=['patient_type']) }}
