{#-
    Grain: call / message / survey x kpi (x grain for reactivation). The additive events behind
    the engagement KPIs that are not about leads (docs/kpis.md), dated by the local
    date at the event's location; kpi_engagement rolls them up with the `kpi_rollup` macro:
      missed_call_rate          inbound calls missed / inbound calls
      post_care_response_rate   post-care check-ins answered within post_care_window_hours / sent
      post_care_click_rate      post-care check-ins whose link was clicked / sent
      review_conversion_rate    review requests followed by a review within review_window_days
      nps                       100 x (promoters - detractors) / survey responses
      reactivation_rate         lapsed patients' first reactivation message per period, followed
                                by a booking within reactivation_window_days / those messages;
                                `event_grain` says which period the message was first in
-#}
{%- set post_care_window = var('post_care_window_hours') * 60 -%}
{%- set review_window = var('review_window_days') * 1440 -%}
{%- set reactivation_window = var('reactivation_window_days') * 1440 -%}

with

calls as (
    select * from {{ ref('fct_calls') }}
),

surveys as (
    select * from {{ ref('fct_surveys') }}
),

post_care as (
    select * from {{ ref('int_message_post_care_checkins') }}
),

review_requests as (
    select * from {{ ref('int_message_review_requests') }}
),

lapsed_messages as (
    select
        *,
        row_number() over (
            partition by patient_key, week_start order by sent_at, message_id
        ) as rank_in_week,
        row_number() over (
            partition by patient_key, month_start order by sent_at, message_id
        ) as rank_in_month
    from {{ ref('int_engagement_reactivations') }}
    where is_lapsed
),

events as (
    select
        location_id,
        started_local_date as event_date,
        cast(null as varchar) as event_grain,
        'missed_call_rate' as kpi,
        0 as window_minutes,
        case when is_missed then 1.0 else 0.0 end as numerator
    from calls
    where direction = 'inbound'

    union all

    select
        location_id,
        sent_local_date as event_date,
        null as event_grain,
        'post_care_response_rate' as kpi,
        {{ post_care_window }} as window_minutes,
        case when is_answered then 1.0 else 0.0 end as numerator
    from post_care

    union all

    select
        location_id,
        sent_local_date as event_date,
        null as event_grain,
        'post_care_click_rate' as kpi,
        {{ post_care_window }} as window_minutes,
        case when is_link_clicked then 1.0 else 0.0 end as numerator
    from post_care

    union all

    select
        location_id,
        sent_local_date as event_date,
        null as event_grain,
        'review_conversion_rate' as kpi,
        {{ review_window }} as window_minutes,
        case when is_converted then 1.0 else 0.0 end as numerator
    from review_requests

    union all

    select
        location_id,
        responded_local_date as event_date,
        null as event_grain,
        'nps' as kpi,
        0 as window_minutes,
        case nps_category when 'promoter' then 100.0 when 'detractor' then -100.0 else 0.0 end
            as numerator
    from surveys
    where is_responded

    union all

    select
        location_id,
        sent_local_date as event_date,
        'week' as event_grain,
        'reactivation_rate' as kpi,
        {{ reactivation_window }} as window_minutes,
        case when is_reactivated then 1.0 else 0.0 end as numerator
    from lapsed_messages
    where rank_in_week = 1

    union all

    select
        location_id,
        sent_local_date as event_date,
        'month' as event_grain,
        'reactivation_rate' as kpi,
        {{ reactivation_window }} as window_minutes,
        case when is_reactivated then 1.0 else 0.0 end as numerator
    from lapsed_messages
    where rank_in_month = 1
),

final as (
    select
        cast(location_id as varchar) as location_id,
        cast(event_date as date) as event_date,
        cast(event_grain as varchar) as event_grain,
        cast(kpi as varchar) as kpi,
        'ratio' as value_kind,
        cast(window_minutes as integer) as window_minutes,
        cast(numerator as double) as numerator,
        1.0 as denominator
    from events
)

select * from final
