{%- set inputs = ['int_room_kpi_events'] -%}
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
    Room KPIs per treatment room (drill-down of kpi_rooms): same long form plus room_id.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; otherwise it rebuilds whole.
-#}
with

events as (
    select * from {{ ref('int_room_kpi_events') }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup(
    'events', 'rolled', dims=['room_id'], with_chain=false, daily=false,
    recompute_from=kpi_rollup_cutoffs(inputs),
) }}

{{ kpi_select('rolled', dims=['room_id']) }}
