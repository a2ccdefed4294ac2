{#-
    One row per delivered `post_care_checkin` message (grain: message_id), with whether the
    same contact answered it with an inbound message within post_care_window_hours after it
    was sent (the edge counts; a reply after the window does not) and whether its link was
    clicked. Feeds post_care_response_rate and post_care_click_rate.
-#}
{%- set window_hours = var('post_care_window_hours') -%}

with

messages as (

    select * from {{ ref('fct_messages') }}

),

checkins as (

    select *
    from messages
    where
        purpose = 'post_care_checkin'
        and direction = 'outbound'
        and is_delivered

),

inbound as (

    select
        contact_hash,
        sent_at
    from messages
    where direction = 'inbound' and contact_hash is not null

),

answered as (

    select distinct checkins.message_id
    from checkins
    inner join inbound
        on
            checkins.contact_hash = inbound.contact_hash
            and checkins.sent_at < inbound.sent_at
            and inbound.sent_at <= {{ dbt.dateadd('hour', window_hours, 'checkins.sent_at') }}

),

final as (

    select
        checkins.message_id,
        checkins.location_id,
        checkins.patient_key,
        checkins.sent_at,
        checkins.sent_local_date,
        answered.message_id is not null as is_answered,
        checkins.is_link_clicked
    from checkins
    left join answered
        on checkins.message_id = answered.message_id

)

select * from final
