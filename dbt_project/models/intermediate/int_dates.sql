{#-
    Every calendar day the KPIs can need: from the earlier of the `calendar_start` var and the
    first location opening, through the later of the data's as-of date and the last booked
    appointment (future bookings still need their open hours). Empty when the raw layer is.
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

bounds as (
    select
        greatest(
            cast('{{ var("calendar_start") }}' as date),
            (select min(opened_on) from locations)
        ) as first_date,
        -- one day of slack either side of UTC covers every local date
        cast({{ dbt.dateadd('day', 1, 'greatest(as_of.as_of_at, coalesce((select max(scheduled_end) from appointments), as_of.as_of_at))') }} as date) as last_date,
    from as_of
    where as_of.as_of_at is not null
),

spine as (
    select {{ days_between('first_date', 'last_date') }} as date_day,
    from bounds
    where first_date <= last_date
)

select * from spine
