{#-
    device_utilization per device (drill-down of kpi_rooms): same long form plus device_id.
    No rows when kpi_coverage says device_utilization is not computable (its input tables were
    never delivered, e.g. pms.location_hours).
-#}
with

events as (
    select * from {{ ref('int_device_kpi_events') }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['device_id'], with_chain=false, daily=false) }},

{{ kpi_covered('rolled') }}

{{ kpi_select('covered', dims=['device_id']) }}
