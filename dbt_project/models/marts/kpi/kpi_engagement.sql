{#-
    Engagement KPIs in the scorecard's long form (kpis.md, Engagement; also nps and cac):
    one row per grain x period_start x location_id x kpi wherever the KPI has data, with
    location_id '_all' recomputed chain-wide from summed numerators and denominators (the
    median from the leads themselves). KPIs whose input tables were never delivered
    (kpi_coverage.computable = false) have no rows at all.

    Each KPI contributes events (local date, numerator, denominator); count KPIs have a null
    denominator and value = numerator. A row is final once its period, plus the KPI's window
    after the event, has ended in the location's local time at the data's as-of time.
-#}
{%- set minutes_per_day = 1440 -%}
{%- set contact_window = var('contact_window_minutes') -%}
{%- set booking_window = var('booking_window_days') * minutes_per_day -%}
{%- set post_care_window = var('post_care_window_hours') * 60 -%}
{%- set review_window = var('review_window_days') * minutes_per_day -%}
{%- set reactivation_window = var('reactivation_window_days') * minutes_per_day -%}

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

calls as (

    select * from {{ ref('fct_calls') }}

),

surveys as (

    select * from {{ ref('fct_surveys') }}

),

spend as (

    select * from {{ ref('fct_marketing_spend') }}

),

patients as (

    select * from {{ ref('dim_patients') }}

),

post_care as (

    select * from {{ ref('int_message_post_care_checkins') }}

),

review_requests as (

    select * from {{ ref('int_message_review_requests') }}

),

reactivations as (

    select * from {{ ref('int_engagement_reactivations') }}

),

grains as (

    select 'week' as grain
    union all
    select 'month' as grain

),

-- Events of every summed KPI: (kpi, location, local date, numerator, denominator, window).
-- `event_grain` is null when the event counts in both grains.
events as (

    select
        'new_leads' as kpi,
        cast(null as varchar) as event_grain,
        location_id,
        created_local_date as event_date,
        1.0 as numerator,
        cast(null as double) as denominator,
        0 as window_minutes
    from leads

    union all

    select
        'leads_unanswered' as kpi,
        null as event_grain,
        location_id,
        created_local_date as event_date,
        case when is_responded then 0.0 else 1.0 end as numerator,
        null as denominator,
        0 as window_minutes
    from leads

    union all

    select
        'contact_rate' as kpi,
        null as event_grain,
        location_id,
        created_local_date as event_date,
        case when is_reached_in_window then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ contact_window }} as window_minutes
    from leads

    union all

    select
        'booking_conversion_rate' as kpi,
        null as event_grain,
        location_id,
        created_local_date as event_date,
        case when is_booked_in_window then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ booking_window }} as window_minutes
    from leads

    union all

    select
        'missed_call_rate' as kpi,
        null as event_grain,
        location_id,
        started_local_date as event_date,
        case when is_missed then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        0 as window_minutes
    from calls
    where direction = 'inbound'

    union all

    select
        'post_care_response_rate' as kpi,
        null as event_grain,
        location_id,
        sent_local_date as event_date,
        case when is_answered then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ post_care_window }} as window_minutes
    from post_care

    union all

    select
        'post_care_click_rate' as kpi,
        null as event_grain,
        location_id,
        sent_local_date as event_date,
        case when is_link_clicked then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ post_care_window }} as window_minutes
    from post_care

    union all

    select
        'review_conversion_rate' as kpi,
        null as event_grain,
        location_id,
        sent_local_date as event_date,
        case when is_converted then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ review_window }} as window_minutes
    from review_requests

    union all

    -- nps: numerator = 100 x (promoters - detractors), denominator = responses.
    select
        'nps' as kpi,
        null as event_grain,
        location_id,
        responded_local_date as event_date,
        case nps_category when 'promoter' then 100.0 when 'detractor' then -100.0 else 0.0 end as numerator,
        1.0 as denominator,
        0 as window_minutes
    from surveys
    where is_responded

    union all

    -- cac: spend over new patients (first visit in the period, at its location).
    select
        'cac' as kpi,
        null as event_grain,
        location_id,
        spend_date as event_date,
        cast(amount as double) as numerator,
        0.0 as denominator,
        0 as window_minutes
    from spend

    union all

    select
        'cac' as kpi,
        null as event_grain,
        first_visit_location_id as location_id,
        first_visit_date as event_date,
        0.0 as numerator,
        1.0 as denominator,
        0 as window_minutes
    from patients
    where first_visit_date is not null

    union all

    -- reactivation: the first lapsed message per patient per period, per grain.
    select
        'reactivation_rate' as kpi,
        'week' as event_grain,
        location_id,
        sent_local_date as event_date,
        case when is_reactivated then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ reactivation_window }} as window_minutes
    from (
        select
            *,
            row_number() over (
                partition by patient_key, week_start order by sent_at, message_id
            ) as rank_in_period
        from reactivations
        where is_lapsed
    ) as weekly
    where rank_in_period = 1

    union all

    select
        'reactivation_rate' as kpi,
        'month' as event_grain,
        location_id,
        sent_local_date as event_date,
        case when is_reactivated then 1.0 else 0.0 end as numerator,
        1.0 as denominator,
        {{ reactivation_window }} as window_minutes
    from (
        select
            *,
            row_number() over (
                partition by patient_key, month_start order by sent_at, message_id
            ) as rank_in_period
        from reactivations
        where is_lapsed
    ) as monthly
    where rank_in_period = 1

),

event_periods as (

    select
        grains.grain,
        case
            when grains.grain = 'week' then {{ week_start('events.event_date') }}
            else {{ month_start('events.event_date') }}
        end as period_start,
        events.location_id,
        events.kpi,
        events.numerator,
        events.denominator,
        events.window_minutes
    from events
    cross join grains
    where events.event_grain is null or events.event_grain = grains.grain

),

-- lead_response_minutes: a median over leads, recomputed chain-wide from the leads.
response_periods as (

    select
        grains.grain,
        case
            when grains.grain = 'week' then leads.week_start
            else leads.month_start
        end as period_start,
        leads.location_id,
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
        kpi,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        max(window_minutes) as window_minutes
    from event_periods
    group by grain, period_start, location_id, kpi

    union all

    select
        grain,
        period_start,
        location_id,
        'lead_response_minutes' as kpi,
        {{ median('response_minutes') }} as numerator,
        cast(null as double) as denominator,
        0 as window_minutes
    from response_periods
    group by grain, period_start, location_id

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
        kpi,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        min(case when is_final then 1 else 0 end) = 1 as is_final
    from location_final
    where kpi <> 'lead_response_minutes'
    group by grain, period_start, kpi

    union all

    select
        response_periods.grain,
        response_periods.period_start,
        '_all' as location_id,
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
            and location_final.kpi = 'lead_response_minutes'
    group by response_periods.grain, response_periods.period_start

),

unioned as (

    select
        grain,
        period_start,
        location_id,
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
