{#-
    Grain: location x local date, from the later of `calendar_start` and opened_on through the
    later of the as-of date and the location's last booked appointment (closed_on excluded).
    A day is open when location_hours has a row for its ISO weekday valid that date
    (valid_from <= date <= valid_to, open-ended when valid_to is null; the latest valid_from
    wins on overlap) and the date is not in location_closures (docs/kpis.md, "Open hours").
-#}
with

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

location_hours as (
    select * from {{ ref('stg_pms__location_hours') }}
),

closures as (
    select * from {{ ref('stg_pms__location_closures') }}
),

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

as_of as (
    select * from {{ ref('int_data_as_of') }}
),

dates as (
    select * from {{ ref('int_dates') }}
),

last_bookings as (
    select
        appointments.location_id,
        max({{ local_date('appointments.scheduled_start', 'locations.timezone') }}) as last_booked_date
    from appointments
    inner join locations on appointments.location_id = locations.location_id
    group by appointments.location_id
),

location_ranges as (
    select
        locations.location_id,
        greatest(locations.opened_on, cast('{{ var("calendar_start") }}' as date)) as first_date,
        least(
            greatest(
                {{ local_date('as_of.as_of_at', 'locations.timezone') }},
                coalesce(last_bookings.last_booked_date, {{ local_date('as_of.as_of_at', 'locations.timezone') }})
            ),
            coalesce(cast({{ dbt.dateadd('day', -1, 'locations.closed_on') }} as date), cast('9999-12-31' as date))
        ) as last_date
    from locations
    cross join as_of
    left join last_bookings on locations.location_id = last_bookings.location_id
),

location_dates as (
    select
        location_ranges.location_id,
        dates.date_day
    from location_ranges
    inner join dates
        on dates.date_day between location_ranges.first_date and location_ranges.last_date
),

hours_valid as (
    select
        location_dates.location_id,
        location_dates.date_day,
        location_hours.opens_at,
        location_hours.closes_at,
        row_number() over (
            partition by location_dates.location_id, location_dates.date_day
            order by location_hours.valid_from desc
        ) as priority
    from location_dates
    inner join location_hours
        on
            location_dates.location_id = location_hours.location_id
            and {{ iso_weekday('location_dates.date_day') }} = location_hours.weekday
            and location_dates.date_day >= location_hours.valid_from
            and (location_hours.valid_to is null or location_dates.date_day <= location_hours.valid_to)
),

final as (
    select
        location_dates.location_id,
        location_dates.date_day,
        {{ week_start('location_dates.date_day') }} as week_start,
        {{ month_start('location_dates.date_day') }} as month_start,
        closures.closed_on is not null as is_closure,
        hours_valid.opens_at is not null and closures.closed_on is null as is_open,
        case
            when hours_valid.opens_at is not null and closures.closed_on is null
                then {{ date_at_time('location_dates.date_day', 'hours_valid.opens_at') }}
        end as opens_at_local,
        case
            when hours_valid.opens_at is not null and closures.closed_on is null
                then {{ date_at_time('location_dates.date_day', 'hours_valid.closes_at') }}
        end as closes_at_local,
        case
            when hours_valid.opens_at is not null and closures.closed_on is null
                then greatest(
                    0,
                    {{ hours_between(
                        date_at_time('location_dates.date_day', 'hours_valid.opens_at'),
                        date_at_time('location_dates.date_day', 'hours_valid.closes_at')
                    ) }}
                )
            else 0
        end as open_hours
    from location_dates
    left join hours_valid
        on
            location_dates.location_id = hours_valid.location_id
            and location_dates.date_day = hours_valid.date_day
            and hours_valid.priority = 1
    left join closures
        on
            location_dates.location_id = closures.location_id
            and location_dates.date_day = closures.closed_on
)

select * from final
