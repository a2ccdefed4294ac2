{%- set inputs = ['int_room_kpi_events'] -%}
{%- set guards = [{'model': 'kpi_coverage', 'columns': ['kpi', 'computable']}] -%}
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
    Room KPIs per treatment room (drill-down of kpi_rooms): same long form plus room_id.
    KPIs whose input tables were never delivered (kpi_coverage.computable = false, e.g.
    room_utilization without pms.location_hours) have no rows.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one its inputs' touched records, the as-of move or a non-final row can
    have changed; it rebuilds whole when the computable KPIs differ from the ones its last
    build used (its guard), and whenever the inputs cannot tell.
-#}
with

events as (
    select * from {{ ref('int_room_kpi_events') }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup(
    'events', 'rolled', dims=['room_id'], with_chain=false, daily=false,
    recompute_from=kpi_rollup_cutoffs_with(inputs, guards),
) }},

{{ kpi_covered('rolled') }}

{{ kpi_select('covered', dims=['room_id']) }}
