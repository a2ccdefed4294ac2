{#-
    Grain: device x local date x kpi (device_utilization only): hours of completed appointments
    using the device / its location's open hours while owned (purchased_on <= date).
-#}
with

device_days as (
    select * from {{ ref('int_device_days') }}
),

appointments as (
    select * from {{ ref('fct_appointments') }}
    where is_completed and device_id is not null
),

devices as (
    select * from {{ ref('stg_pms__devices') }}
),

used as (
    select
        appointments.device_id,
        devices.location_id,
        appointments.scheduled_date as event_date,
        sum(appointments.duration_hours) as used_hours
    from appointments
    inner join devices on appointments.device_id = devices.device_id
    group by appointments.device_id, devices.location_id, appointments.scheduled_date
),

events as (
    select
        device_id,
        location_id,
        event_date,
        used_hours as numerator,
        0 as denominator
    from used
    union all
    select
        device_id,
        location_id,
        date_day as event_date,
        0 as numerator,
        owned_open_hours as denominator
    from device_days
),

final as (
    select
        device_id,
        location_id,
        event_date,
        'device_utilization' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from events
    group by device_id, location_id, event_date
)

select * from final
