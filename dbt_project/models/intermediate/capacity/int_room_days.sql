{#-
    Grain: room x local date while the room is active (active_from <= date, active_to null or
    >= date). available_hours = the location's open hours that date (0 when closed). All room
    types are kept; room KPIs filter room_type = 'treatment' (docs/kpis.md, "Open hours").
-#}
with

rooms as (
    select * from {{ ref('stg_pms__rooms') }}
),

location_days as (
    select * from {{ ref('int_location_days') }}
),

final as (
    select
        rooms.room_id,
        rooms.location_id,
        rooms.room_type,
        location_days.date_day,
        location_days.week_start,
        location_days.month_start,
        location_days.is_open,
        location_days.open_hours as available_hours
    from rooms
    inner join location_days
        on
            rooms.location_id = location_days.location_id
            and rooms.active_from <= location_days.date_day
            and (rooms.active_to is null or rooms.active_to >= location_days.date_day)
)

select * from final
