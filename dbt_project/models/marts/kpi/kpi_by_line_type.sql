{%- set inputs = ['int_invoice_kpi_events'] -%}
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
    net_revenue per invoice line type (service, retail_product, membership_fee, package, gift_card).
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; otherwise it rebuilds whole.
-#}
with

events as (
    select * from {{ ref('int_invoice_kpi_events') }}
    where kpi = 'net_revenue'
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['line_type'], recompute_from=kpi_rollup_cutoffs(inputs)) }}

{{ kpi_select('rolled', dims=['line_type']) }}
