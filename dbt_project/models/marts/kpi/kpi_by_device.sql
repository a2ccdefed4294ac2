{#- device_utilization per device (drill-down of kpi_rooms): same long form plus device_id. -#}
with

events as (
    select * from {{ ref('int_device_kpi_events') }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['device_id'], with_chain=false, daily=false) }}

{{ kpi_select('rolled', dims=['device_id']) }}
