{#-
    Grain: device x local date while the device is owned (purchased_on <= date).
    owned_open_hours = its location's open hours that date: device_utilization's denominator.
-#}
with

devices as (
    select * from {{ ref('stg_pms__devices') }}
),

location_days as (
    select * from {{ ref('int_location_days') }}
),

final as (
    select
        devices.device_id,
        devices.location_id,
        devices.device_type,
        location_days.date_day,
        location_days.week_start,
        location_days.month_start,
        location_days.open_hours as owned_open_hours
    from devices
    inner join location_days
        on
            devices.location_id = location_days.location_id
            and devices.purchased_on <= location_days.date_day
)

select * from final
