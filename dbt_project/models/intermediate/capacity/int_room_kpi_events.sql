{#-
    Grain: treatment room x local date x kpi. Additive events of the room KPIs (docs/kpis.md):
      revenue_per_room_hour       net revenue of paid invoices linked to appointments in the
                                  room, by the appointment's scheduled_start date / the room's
                                  available hours (location open hours while the room is active)
      revenue_per_treatment_hour  the same revenue / hours of completed appointments in the room
      room_utilization            hours of completed appointments / available hours
    Revenue KPIs need POS data: without any invoice they have no events (no fake zeros).
-#}
with

room_days as (
    select * from {{ ref('int_room_days') }}
    where room_type = 'treatment'
),

appointments as (
    select * from {{ ref('fct_appointments') }}
    where room_type = 'treatment'
),

rooms as (
    select * from {{ ref('stg_pms__rooms') }}
),

invoices as (
    select * from {{ ref('stg_pos__invoices') }}
),

appointment_days as (
    select
        appointments.room_id,
        rooms.location_id,
        appointments.scheduled_date as event_date,
        sum(appointments.net_revenue) as revenue,
        sum(case when appointments.is_completed then appointments.duration_hours else 0 end) as completed_hours
    from appointments
    inner join rooms on appointments.room_id = rooms.room_id
    group by appointments.room_id, rooms.location_id, appointments.scheduled_date
),

available as (
    select
        room_id,
        location_id,
        date_day as event_date,
        available_hours
    from room_days
),

has_pos as (
    select count(*) > 0 as flag from invoices
),

events as (
    -- revenue_per_room_hour
    select
        room_id,
        location_id,
        event_date,
        'revenue_per_room_hour' as kpi,
        revenue as numerator,
        0 as denominator
    from appointment_days cross join has_pos
    where has_pos.flag
    union all
    select
        room_id,
        location_id,
        event_date,
        'revenue_per_room_hour' as kpi,
        0 as numerator,
        available_hours as denominator
    from available cross join has_pos
    where has_pos.flag
    -- revenue_per_treatment_hour
    union all
    select
        room_id,
        location_id,
        event_date,
        'revenue_per_treatment_hour' as kpi,
        revenue as numerator,
        completed_hours as denominator
    from appointment_days cross join has_pos
    where has_pos.flag
    -- room_utilization
    union all
    select
        room_id,
        location_id,
        event_date,
        'room_utilization' as kpi,
        completed_hours as numerator,
        0 as denominator
    from appointment_days
    union all
    select
        room_id,
        location_id,
        event_date,
        'room_utilization' as kpi,
        0 as numerator,
        available_hours as denominator
    from available
),

final as (
    select
        room_id,
        location_id,
        event_date,
        kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from events
    group by room_id, location_id, event_date, kpi
)

select * from final
