{#-
    Grain: location x local date x kpi (x event_grain for reactivation). The additive events
    behind the engagement KPIs that are not about leads (docs/kpis.md), one per call, message or
    survey, dated by the local date at the event's location and summed per location-day:
    numerator = the events' numerators, denominator = how many events. kpi_engagement rolls
    them up with the `kpi_rollup` macro, which sums per location-day first anyway, so the sums
    are the same; every numerator is a whole number (0, 1 or +-100), so no order of summing
    changes a value. Writing one row per event (3.2 M on the large chain) cost more than
    computing them:
      missed_call_rate          inbound calls missed / inbound calls
      post_care_response_rate   post-care check-ins answered within post_care_window_hours / sent
      post_care_click_rate      post-care check-ins whose link was clicked / sent
      review_conversion_rate    review requests followed by a review within review_window_days
      nps                       100 x (promoters - detractors) / survey responses
      reactivation_rate         lapsed patients' first reactivation message per period, followed
                                by a completed visit within reactivation_window_days / those
                                messages;
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

{#- kpi, source CTE, local date column, window_minutes, numerator, condition, event_grain -#}
{%- set engagement_kpis = [
    ('missed_call_rate', 'calls', 'started_local_date', 0,
        'case when is_missed then 1.0 else 0.0 end', "direction = 'inbound'", none),
    ('post_care_response_rate', 'post_care', 'sent_local_date', post_care_window,
        'case when is_answered then 1.0 else 0.0 end', 'true', none),
    ('post_care_click_rate', 'post_care', 'sent_local_date', post_care_window,
        'case when is_link_clicked then 1.0 else 0.0 end', 'true', none),
    ('review_conversion_rate', 'review_requests', 'sent_local_date', review_window,
        'case when is_converted then 1.0 else 0.0 end', 'true', none),
    ('nps', 'surveys', 'responded_local_date', 0, nps_points('nps_category'), 'is_responded', none),
    ('reactivation_rate', 'lapsed_messages', 'sent_local_date', reactivation_window,
        'case when is_reactivated then 1.0 else 0.0 end', 'rank_in_week = 1', 'week'),
    ('reactivation_rate', 'lapsed_messages', 'sent_local_date', reactivation_window,
        'case when is_reactivated then 1.0 else 0.0 end', 'rank_in_month = 1', 'month'),
] %}

events as (
    {%- for kpi, relation, date_column, window, numerator, condition, grain in engagement_kpis %}
        select
            location_id,
            {{ date_column }} as event_date,
            {{ "'" ~ grain ~ "'" if grain else 'null' }} as event_grain,
            '{{ kpi }}' as kpi,
            {{ window }} as window_minutes,
            {{ numerator }} as numerator
        from {{ relation }}
        where {{ condition }}
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(location_id as varchar) as location_id,
        cast(event_date as date) as event_date,
        cast(event_grain as varchar) as event_grain,
        cast(kpi as varchar) as kpi,
        'ratio' as value_kind,
        cast(window_minutes as integer) as window_minutes,
        sum(cast(numerator as double)) as numerator,
        cast(count(*) as double) as denominator
    from events
    group by location_id, event_date, event_grain, kpi, window_minutes
)

select * from final
