{#-
    Every calendar day the KPIs can need: from the latest of the `calendar_start` var, the
    first location opening and the day before the first appointment (the start of the data's
    history), through the later of the data's as-of date and the last booked appointment
    (future bookings still need their open hours). Empty when the raw layer is.
-#}
with

as_of as (
    select * from {{ ref('int_data_as_of') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

first_bookings as (
    -- the data's history starts with its first appointment: earlier days would only carry
    -- capacity (open hours) without the activity the extracts never held
    select
        cast({{ dbt.dateadd('day', -1, 'min(scheduled_start)') }} as date) as first_booked_date,
        greatest(max(scheduled_end), max(scheduled_start)) as last_booked_at
    from appointments
),

bounds as (
    select
        greatest(
            cast('{{ var("calendar_start") }}' as date),
            (select min(locations.opened_on) from locations),
            first_bookings.first_booked_date
        ) as first_date,
        -- one day of slack after the later of the as-of time and the last booking covers
        -- every local date
        cast(
            {{ dbt.dateadd(
                'day', 1, 'greatest(as_of.as_of_at, coalesce(first_bookings.last_booked_at, as_of.as_of_at))'
            ) }}
            as date
        ) as last_date
    from as_of
    cross join first_bookings
    where as_of.as_of_at is not null
),

spine as (
    select {{ days_between('first_date', 'last_date') }} as date_day
    from bounds
    where first_date <= last_date
)

select * from spine
