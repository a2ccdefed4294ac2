{#-
    Grain: location x local date, from int_location_calendar_starts (the later of opened_on and
    the local date of the chain's first appointment) through the later of the last day of the
    week and month in progress at the location's local as-of date (the period in progress is
    measured against its whole capacity, docs/kpis.md) and the location's last booked
    appointment; closed_on excluded. Open hours are the elapsed time between opening and
    closing, instants in the location's zone: a day whose clocks change inside them is an
    hour shorter or longer (a time the clocks pass twice is read as its later instant).
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

as_of as (
    select * from {{ ref('int_data_as_of') }}
),

dates as (
    select * from {{ ref('int_dates') }}
    where is_kpi_day
),

calendar_starts as (
    select * from {{ ref('int_location_calendar_starts') }}
),

-- the latest scheduled_start per location, in UTC: no time zone conversion per appointment
-- (stg_pms__appointments is read in each CTE, not through one: a CTE read twice is
-- materialised whole)
latest_starts as (
    select
        appointments.location_id,
        max(appointments.scheduled_start) as latest_start
    from {{ ref('stg_pms__appointments') }} as appointments
    group by appointments.location_id
),

-- The latest local date of a location's appointments. Only appointments within two days of
-- its latest start can fall on it: a UTC offset lies within about +-16 hours, so an
-- appointment more than 48 hours earlier is on an earlier local date whatever offsets the
-- zone had at the two instants (a DST change or a zone jumping the date line included).
-- Converting those few instead of every appointment (1.1 M on the large chain) gives the
-- same date as the maximum over all of them.
last_bookings as (
    select
        appointments.location_id,
        max({{ local_date('appointments.scheduled_start', 'locations.timezone') }}) as last_booked_date
    from {{ ref('stg_pms__appointments') }} as appointments
    inner join latest_starts
        on
            appointments.location_id = latest_starts.location_id
            and appointments.scheduled_start >= {{ dbt.dateadd('day', -2, 'latest_starts.latest_start') }}
    inner join locations on appointments.location_id = locations.location_id
    group by appointments.location_id
),

location_ranges as (
    select
        locations.location_id,
        calendar_starts.calendar_start_date as first_date,
        least(
            greatest(
                {{ in_progress_last_day(local_date('as_of.as_of_at', 'locations.timezone')) }},
                coalesce(last_bookings.last_booked_date, {{ local_date('as_of.as_of_at', 'locations.timezone') }})
            ),
            coalesce(cast({{ dbt.dateadd('day', -1, 'locations.closed_on') }} as date), cast('9999-12-31' as date))
        ) as last_date
    from locations
    cross join as_of
    inner join calendar_starts on locations.location_id = calendar_starts.location_id
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
                        local_to_instant(date_at_time('location_dates.date_day', 'hours_valid.opens_at'), 'locations.timezone'),
                        local_to_instant(date_at_time('location_dates.date_day', 'hours_valid.closes_at'), 'locations.timezone')
                    ) }}
                )
            else 0
        end as open_hours
    from location_dates
    inner join locations on location_dates.location_id = locations.location_id
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
