with

dates as (
    select * from {{ ref('int_dates') }}
),

final as (
    select
        {{ calendar_day_columns('date_day') }},
        {{ iso_weekday('date_day') }} as iso_weekday,
        cast(extract(isoyear from date_day) as integer) as iso_year,
        cast(extract(week from date_day) as integer) as iso_week,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(month from date_day) as integer) as calendar_month,
        {{ iso_weekday('date_day') }} >= 6 as is_weekend
    from dates
)

select * from final
