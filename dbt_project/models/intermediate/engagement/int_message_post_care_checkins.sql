{%- set post_care_vars = ['post_care_window_hours'] -%}
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_all_unless(
            touched_partitions_are_complete('fct_messages', [], " ~ post_care_vars ~ ")
        ) }}",
        post_hook=[
            "delete from {{ this }} where is_answered is null",
            "{{ record_model_build(" ~ post_care_vars ~ ") }}",
        ],
    )
}}
{#-
    One row per delivered `post_care_checkin` message (grain: message_id), with whether the
    same contact answered it with an inbound message within post_care_window_hours after it
    was sent (the edge counts; a reply after the window does not) and whether its link was
    clicked. Feeds post_care_response_rate and post_care_click_rate.
    Incremental (delete+insert on message_id): a row depends on its own message and on the
    inbound messages of its contact only, so a run recomputes the check-ins of every contact
    named in fct_messages' touched record of this run, before and after the change (a reply
    moved to another contact changes both), and the rewritten messages themselves
    (macros/touched_messages.sql). A rewritten message that is no longer a check-in writes a
    marker row (null is_answered) that the post-hook deletes, so its old row goes. The record
    missing or untrusted (macros/touched.sql), or a changed definition: every check-in.
-#}
{%- set window_hours = var('post_care_window_hours') -%}
{%- set narrow = touched_partitions_are_complete('fct_messages', [], post_care_vars) %}

with

messages as (

    select * from {{ ref('fct_messages') }}

),

-- in a narrow run, only the messages of the contacts the touched record names
scoped_messages as (

    select * from messages
    {%- if narrow %}
        where {{ is_message_of_touched_contact('messages') }}
    {%- endif %}

),

checkins as (

    select *
    from scoped_messages
    where
        purpose = 'post_care_checkin'
        and direction = 'outbound'
        and is_delivered

),

inbound as (

    select
        contact_hash,
        sent_at
    from scoped_messages
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
{%- if narrow %}
    union all
    {{ removed_message_markers([
        ('location_id', 'varchar'), ('patient_key', 'varchar'), ('sent_at', 'timestamptz'),
        ('sent_local_date', 'date'), ('is_answered', 'boolean'), ('is_link_clicked', 'boolean'),
    ]) }}
{%- endif %}
