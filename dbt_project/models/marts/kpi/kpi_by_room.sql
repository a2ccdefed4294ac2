{#- Room KPIs per treatment room (drill-down of kpi_rooms): same long form plus room_id. -#}
with

events as (
    select * from {{ ref('int_room_kpi_events') }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['room_id'], with_chain=false, daily=false) }}

{{ kpi_select('rolled', dims=['room_id']) }}
