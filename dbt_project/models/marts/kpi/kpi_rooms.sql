{#-
    Room and device KPIs in the long form: revenue_per_room_hour, revenue_per_treatment_hour,
    room_utilization (treatment rooms; location = Σ numerators / Σ denominators over its rooms)
    and device_utilization (location = Σ over its devices). No rooms -> no room rows; no
    devices -> no device rows; no POS data -> no revenue rows.
-#}
with

room_events as (
    select * from {{ ref('int_room_kpi_events') }}
),

device_events as (
    select * from {{ ref('int_device_kpi_events') }}
),

events as (
    select
        location_id,
        event_date,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from room_events
    union all
    select
        location_id,
        event_date,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from device_events
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled') }}

{{ kpi_select('rolled') }}
