with

dates as (
    select * from {{ ref('int_dates') }}
),

final as (
    select
        date_day,
        {{ week_start('date_day') }} as week_start,
        {{ month_start('date_day') }} as month_start,
        cast({{ dbt.dateadd('day', 6, week_start('date_day')) }} as date) as week_end,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start('date_day'))) }} as date) as month_end,
        {{ iso_weekday('date_day') }} as iso_weekday,
        cast(extract(isoyear from date_day) as integer) as iso_year,
        cast(extract(week from date_day) as integer) as iso_week,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(month from date_day) as integer) as calendar_month,
        {{ iso_weekday('date_day') }} >= 6 as is_weekend
    from dates
)

select * from final
