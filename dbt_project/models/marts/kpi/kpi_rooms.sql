{#-
    Room and device KPIs in the long form: revenue_per_room_hour, revenue_per_treatment_hour,
    room_utilization (treatment rooms; location = Σ numerators / Σ denominators over its rooms)
    and device_utilization (location = Σ over its devices). No rooms -> no room rows; no
    devices -> no device rows; no POS data -> no revenue rows. KPIs whose input tables were
    never delivered (kpi_coverage.computable = false, e.g. room_utilization without
    pms.location_hours) have no rows.
-#}
with

room_events as (
    select * from {{ ref('int_room_kpi_events') }}
),

device_events as (
    select * from {{ ref('int_device_kpi_events') }}
),

events as (
    {{ kpi_events_union(['room_events', 'device_events']) }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled') }},

{{ kpi_covered('rolled') }}

{{ kpi_select('covered') }}
