{%- set inputs = ['int_lead_kpi_events'] -%}
{%- set guards = [
    {'model': 'fct_marketing_spend', 'columns': ['channel']},
    {'model': 'kpi_coverage', 'columns': ['kpi', 'computable']},
] -%}
{{
    config(
        materialized='incremental',
        unique_key=['grain', 'period_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ kpi_rollup_prepare_with(" ~ inputs ~ ", " ~ guards ~ ") }}",
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Drill-down of the lead KPIs by lead channel, and cac by marketing channel (new patients
    counted where their acquisition channel equals the spend channel), in the scorecard's long
    form plus `lead_channel`: the same events as kpi_engagement, rolled up per channel; '_all'
    is recomputed chain-wide per channel (the median from the leads). cac covers only channels
    that ever had spend: a channel nobody pays for has no cost.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one the lead events' touched record, the as-of move or a non-final row
    can have changed; it rebuilds whole when the paid channels or the computable KPIs differ
    from the ones its last build used (its guards), and whenever the inputs cannot tell.
-#}
with

paid_channels as (
    select distinct channel from {{ ref('fct_marketing_spend') }}
),

events as (
    select * from {{ ref('int_lead_kpi_events') }}
    where kpi <> 'cac' or lead_channel in (select paid_channels.channel from paid_channels)
),

{{ kpi_as_of_cte() }},

{%- set kpis = ['new_leads', 'contact_rate', 'booking_conversion_rate', 'lead_response_minutes', 'cac'] %}
{{ kpi_rollup(
    'events', 'rolled', dims=['lead_channel'], kpis=kpis, medians=true, daily=false,
    recompute_from=kpi_rollup_cutoffs_with(inputs, guards),
) }},

{{ kpi_covered('rolled') }}

{{ kpi_select('covered', dims=['lead_channel']) }}
