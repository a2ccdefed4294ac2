{#-
    One row per outbound `reactivation` message to a known patient (grain: message_id), with
    - is_lapsed: the patient had >= 1 completed visit before the message and none in the
      lapsed_days before it. Someone who never had a completed visit is not lapsed.
    - is_reactivated: the patient completed a visit within reactivation_window_days after it.
    Visits are appointments with status `completed`, placed in time by scheduled_start.
    reactivation_rate then keeps the first lapsed message per patient per period.
-#}
{%- set lapsed_days = var('lapsed_days') -%}
{%- set window_days = var('reactivation_window_days') -%}

with

messages as (

    select * from {{ ref('fct_messages') }}

),

appointments as (

    select * from {{ ref('stg_pms__appointments') }}

),

reactivation_messages as (

    select *
    from messages
    where
        purpose = 'reactivation'
        and direction = 'outbound'
        and patient_key is not null

),

completed_visits as (

    select
        patient_key,
        scheduled_start
    from appointments
    where status = 'completed'

),

visit_counts as (

    select
        reactivation_messages.message_id,
        count(
            case when completed_visits.scheduled_start < reactivation_messages.sent_at then 1 end
        ) as visits_before,
        count(
            case
                when
                    completed_visits.scheduled_start < reactivation_messages.sent_at
                    and completed_visits.scheduled_start >= {{ dbt.dateadd(
                        'day', -1 * lapsed_days, 'reactivation_messages.sent_at'
                    ) }}
                    then 1
            end
        ) as visits_in_lapse_window,
        count(
            case
                when
                    completed_visits.scheduled_start > reactivation_messages.sent_at
                    and completed_visits.scheduled_start <= {{ dbt.dateadd(
                        'day', window_days, 'reactivation_messages.sent_at'
                    ) }}
                    then 1
            end
        ) as visits_after
    from reactivation_messages
    left join completed_visits
        on reactivation_messages.patient_key = completed_visits.patient_key
    group by reactivation_messages.message_id

),

final as (

    select
        reactivation_messages.message_id,
        reactivation_messages.location_id,
        reactivation_messages.patient_key,
        reactivation_messages.sent_at,
        reactivation_messages.sent_local_date,
        reactivation_messages.week_start,
        reactivation_messages.month_start,
        visit_counts.visits_before >= 1 and visit_counts.visits_in_lapse_window = 0
            as is_lapsed,
        visit_counts.visits_after >= 1 as is_reactivated
    from reactivation_messages
    inner join visit_counts
        on reactivation_messages.message_id = visit_counts.message_id

)

select * from final
