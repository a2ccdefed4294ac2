{#-
    Grain: location. Where each location's capacity calendar starts (open days, room, device and
    shift hours): the later of its opened_on and the local date, in its own time zone, of the
    chain's first appointment (scheduled_start). The data's history starts there; capacity
    before it would dilute the first period. It comes from the data alone: no configured floor,
    so a history going back to 2014 gets its capacity from 2014 on.
-#}
with

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

first_appointment as (
    select min(scheduled_start) as first_scheduled_start
    from {{ ref('stg_pms__appointments') }}
),

final as (
    select
        locations.location_id,
        greatest(
            locations.opened_on,
            coalesce(
                {{ local_date('first_appointment.first_scheduled_start', 'locations.timezone') }},
                locations.opened_on
            )
        ) as calendar_start_date
    from locations
    cross join first_appointment
)

select * from final
