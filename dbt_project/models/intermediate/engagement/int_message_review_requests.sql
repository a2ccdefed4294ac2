{#-
    One row per delivered `review_request` message (grain: message_id), with whether it
    converted. A review by a patient is credited once, to the latest delivered request to that
    patient sent at or before the review, and only when the review came within
    review_window_days of that request; earlier requests get nothing (docs/kpis.md).
-#}
{%- set window_days = var('review_window_days') -%}

with

messages as (

    select * from {{ ref('fct_messages') }}

),

reviews as (

    select * from {{ ref('fct_reviews') }}

),

requests as (

    select *
    from messages
    where
        purpose = 'review_request'
        and direction = 'outbound'
        and is_delivered

),

latest_request_before_review as (

    select
        reviews.review_id,
        reviews.posted_at,
        requests.message_id,
        requests.sent_at,
        row_number() over (
            partition by reviews.review_id
            order by requests.sent_at desc, requests.message_id desc
        ) as request_rank
    from reviews
    inner join requests
        on
            reviews.patient_key = requests.patient_key
            and reviews.posted_at >= requests.sent_at

),

credited as (

    select distinct message_id
    from latest_request_before_review
    where
        request_rank = 1
        and posted_at <= {{ dbt.dateadd('day', window_days, 'sent_at') }}

),

final as (

    select
        requests.message_id,
        requests.location_id,
        requests.patient_key,
        requests.sent_at,
        requests.sent_local_date,
        credited.message_id is not null as is_converted
    from requests
    left join credited
        on requests.message_id = credited.message_id

)

select * from final
