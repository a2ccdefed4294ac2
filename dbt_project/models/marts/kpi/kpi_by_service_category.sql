{%- set inputs = ['int_invoice_kpi_events', 'int_appointment_kpi_events'] -%}
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
    Per-service-category drill-down (long form plus service_category): net_revenue of paid
    lines by the line's service category ('none' for lines without a service, e.g. retail),
    confirmation_response_rate by the appointment's service category.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; otherwise it rebuilds whole.
-#}
with

invoice_events as (
    select * from {{ ref('int_invoice_kpi_events') }}
    where kpi = 'net_revenue'
),

appointment_events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi = 'confirmation_response_rate'
),

events as (
    {{ kpi_events_union(
        ['invoice_events', 'appointment_events'],
        dims=['service_category'],
        exprs={'service_category': "coalesce(service_category, 'none')"},
    ) }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['service_category'], recompute_from=kpi_rollup_cutoffs(inputs)) }}

{{ kpi_select('rolled', dims=['service_category']) }}
