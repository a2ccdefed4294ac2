{#-
    Drill-down of the lead KPIs by lead channel, and cac by marketing channel (kpis.md:
    "by channel where patients.acquisition_channel equals the spend channel"), in the
    scorecard's long form plus `lead_channel`. Definitions are those of kpi_engagement, read
    from the same facts; '_all' is recomputed chain-wide per channel (the median from leads).
    cac covers only channels that ever had spend: a channel nobody pays for has no cost.
-#}
{%- set booking_window = var('booking_window_days') * 1440 -%}
{%- set contact_window = var('contact_window_minutes') -%}

with

as_of as (

    select * from {{ ref('int_data_as_of') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

coverage as (

    select * from {{ ref('kpi_coverage') }}

),

leads as (

    select * from {{ ref('fct_leads') }}

),

spend as (

    select * from {{ ref('fct_marketing_spend') }}

),

patients as (

    select * from {{ ref('dim_patients') }}

),

grains as (

    select 'week' as grain
    union all
    select 'month' as grain

),

paid_channels as (

    select distinct channel from spend

),

events as (

    select
        'new_leads' as kpi,
        location_id,
        channel as lead_channel,
        created_local_date as event_date,
        1.0 as numerator,
        cast(null as double) as denominator,
        0 as window_minutes
    from leads

    union all

    select
        'contact_rate' as kpi,
        location_id,
        channel as lead_channel,
        created_local_date as event_date,
        case when is_reached_in_window then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ contact_window }} as window_minutes
    from leads

    union all

    select
        'booking_conversion_rate' as kpi,
        location_id,
        channel as lead_channel,
        created_local_date as event_date,
        case when is_booked_in_window then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ booking_window }} as window_minutes
    from leads

    union all

    select
        'cac' as kpi,
        location_id,
        channel as lead_channel,
        spend_date as event_date,
        cast(amount as double) as numerator,
        0.0 as denominator,
        0 as window_minutes
    from spend

    union all

    select
        'cac' as kpi,
        patients.first_visit_location_id as location_id,
        patients.acquisition_channel as lead_channel,
        patients.first_visit_date as event_date,
        0.0 as numerator,
        1.0 as denominator,
        0 as window_minutes
    from patients
    inner join paid_channels
        on patients.acquisition_channel = paid_channels.channel
    where patients.first_visit_date is not null

),

event_periods as (

    select
        grains.grain,
        case
            when grains.grain = 'week' then {{ week_start('events.event_date') }}
            else {{ month_start('events.event_date') }}
        end as period_start,
        events.location_id,
        events.lead_channel,
        events.kpi,
        events.numerator,
        events.denominator,
        events.window_minutes
    from events
    cross join grains

),

response_periods as (

    select
        grains.grain,
        case when grains.grain = 'week' then leads.week_start else leads.month_start end
            as period_start,
        leads.location_id,
        leads.channel as lead_channel,
        leads.response_minutes
    from leads
    cross join grains
    where leads.response_minutes is not null

),

by_location as (

    select
        grain,
        period_start,
        location_id,
        lead_channel,
        kpi,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        max(window_minutes) as window_minutes
    from event_periods
    group by grain, period_start, location_id, lead_channel, kpi

    union all

    select
        grain,
        period_start,
        location_id,
        lead_channel,
        'lead_response_minutes' as kpi,
        {{ median('response_minutes') }} as numerator,
        cast(null as double) as denominator,
        0 as window_minutes
    from response_periods
    group by grain, period_start, location_id, lead_channel

),

location_final as (

    select
        by_location.*,
        coalesce(
            {{ local_timestamp('as_of.as_of_at', 'locations.timezone') }}
            >= {{ dbt.dateadd(
                'minute',
                'by_location.window_minutes',
                'cast(' ~ period_end_exclusive('by_location.grain', 'by_location.period_start')
                ~ ' as timestamp)',
            ) }},
            false
        ) as is_final
    from by_location
    cross join as_of
    left join locations
        on by_location.location_id = locations.location_id

),

chain as (

    select
        grain,
        period_start,
        '_all' as location_id,
        lead_channel,
        kpi,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        min(case when is_final then 1 else 0 end) = 1 as is_final
    from location_final
    where kpi <> 'lead_response_minutes'
    group by grain, period_start, lead_channel, kpi

    union all

    select
        response_periods.grain,
        response_periods.period_start,
        '_all' as location_id,
        response_periods.lead_channel,
        'lead_response_minutes' as kpi,
        {{ median('response_periods.response_minutes') }} as numerator,
        cast(null as double) as denominator,
        min(case when location_final.is_final then 1 else 0 end) = 1 as is_final
    from response_periods
    inner join location_final
        on
            response_periods.grain = location_final.grain
            and response_periods.period_start = location_final.period_start
            and response_periods.location_id = location_final.location_id
            and response_periods.lead_channel = location_final.lead_channel
            and location_final.kpi = 'lead_response_minutes'
    group by response_periods.grain, response_periods.period_start, response_periods.lead_channel

),

unioned as (

    select
        grain,
        period_start,
        location_id,
        lead_channel,
        kpi,
        numerator,
        denominator,
        is_final
    from location_final
    union all
    select
        grain,
        period_start,
        location_id,
        lead_channel,
        kpi,
        numerator,
        denominator,
        is_final
    from chain

),

final as (

    select
        cast(unioned.grain as varchar) as grain,
        cast(unioned.period_start as date) as period_start,
        cast(unioned.location_id as varchar) as location_id,
        cast(unioned.lead_channel as varchar) as lead_channel,
        cast(unioned.kpi as varchar) as kpi,
        cast(
            case
                when unioned.denominator is null then unioned.numerator
                else {{ safe_divide('unioned.numerator', 'unioned.denominator') }}
            end as double
        ) as value,
        cast(unioned.numerator as double) as numerator,
        cast(unioned.denominator as double) as denominator,
        cast(unioned.is_final as boolean) as is_final
    from unioned
    inner join coverage
        on
            unioned.kpi = coverage.kpi
            and coverage.computable

)

select * from final
