{%- set inputs = ['int_invoice_kpi_events', 'int_provider_kpi_events', 'int_appointment_kpi_events'] -%}
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
    Per-provider drill-down (same long form plus provider_id), per location and chain-wide:
      revenue_per_provider        net revenue attributed to the provider (sum; docs/kpis.md)
      provider_productive_share   completed-appointment hours / shift hours (revenue-generating)
      rebooking_rate, confirmation_response_rate   by the appointment's provider
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; otherwise it rebuilds whole.
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

events as (
    {{ kpi_events_union(['invoice_events'], dims=['provider_id'], exprs={'kpi': "'revenue_per_provider'"}) }}
    union all
    {{ kpi_events_union(['productive_events', 'appointment_events'], dims=['provider_id']) }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup(
    'events', 'rolled', dims=['provider_id'], daily=false,
    recompute_from=kpi_rollup_cutoffs(inputs),
) }}

{{ kpi_select('rolled', dims=['provider_id']) }}
