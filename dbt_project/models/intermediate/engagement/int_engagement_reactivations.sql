{%- set reactivation_vars = ['lapsed_days', 'reactivation_window_days'] -%}
{{
    config(
        materialized='incremental',
        unique_key='patient_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_all_unless(
            touched_partitions_are_complete('int_patient_visits', [], " ~ reactivation_vars ~ ")
            and written_keys_are_complete('fct_messages', " ~ reactivation_vars ~ ")
        ) }}",
        post_hook=[
            "delete from {{ this }} where message_id is null",
            "{{ record_model_build(" ~ reactivation_vars ~ ") }}",
        ],
    )
}}
{#-
    One row per delivered outbound `reactivation` message to a known patient (a failed or
    undelivered message contacted no one) (grain: message_id), with
    - is_lapsed: the patient had >= 1 completed visit before the message and none in the
      lapsed_days before it. Someone who never had a completed visit is not lapsed.
    - is_reactivated: the patient completed a visit within reactivation_window_days after it.
    Visits are appointments with status `completed`, placed in time by scheduled_start.
    reactivation_rate then keeps the first lapsed message per patient per period.
    Incremental (delete+insert on patient_key): a row depends on its message and its patient's
    completed visits only, so a run recomputes every message of the patients whose visits
    int_patient_visits' build in this run rewrote (its touched record, before and after: a
    visit moved, re-dated or cancelled), and of the patients of the messages fct_messages'
    build in this run wrote, as they are now and as this model last built them (a message moved
    to another patient, or no longer a reactivation). A recomputed patient left without a
    message writes a marker row (null message_id) that the post-hook deletes. Either record
    missing or untrusted (macros/touched_entities.sql), or a changed definition: every patient.
-#}
{%- set lapsed_days = var('lapsed_days') -%}
{%- set window_days = var('reactivation_window_days') -%}
{%- set narrow = touched_partitions_are_complete('int_patient_visits', [], reactivation_vars)
    and written_keys_are_complete('fct_messages', reactivation_vars) %}

with

-- not materialized: read twice on the narrow path (the written messages, then the dirty
-- patients' ones), a materialized CTE is every column of every message (6.3 M at chain scale)
-- before any filter; inlined, each read takes only its columns and its filters into the scan
messages as not materialized (

    select * from {{ ref('fct_messages') }}

),

-- int_patient_visits holds every appointment (is_completed: status = 'completed'); reading it
-- rather than staging is what lets its touched record say which patients' visits changed
appointments as (

    select * from {{ ref('int_patient_visits') }}

),

{%- if narrow %}

    written_messages as (
        select
            messages.message_id,
            messages.patient_key
        from messages
        where messages.message_id in ({{ written_keys_of('fct_messages') }})
    ),

    -- the patients this run recomputes
    dirty_patients as (
        {{ touched_entities('int_patient_visits', 'patient_key') }}
        union
        select written_messages.patient_key from written_messages
        union
        select built.patient_key
        from {{ this }} as built
        inner join written_messages on built.message_id = written_messages.message_id
    ),

    scoped_messages as (
        select * from messages
        where patient_key in (select dirty_patients.patient_key from dirty_patients)
    ),

    scoped_appointments as (
        select * from appointments
        where patient_key in (select dirty_patients.patient_key from dirty_patients)
    ),
{%- else %}

    scoped_messages as (
        select * from messages
    ),

    scoped_appointments as (
        select * from appointments
    ),
{%- endif %}

reactivation_messages as (

    select *
    from scoped_messages
    where
        purpose = 'reactivation'
        and direction = 'outbound'
        and is_delivered
        and patient_key is not null

),

completed_visits as (

    select
        patient_key,
        scheduled_start
    from scoped_appointments
    where is_completed

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
    {%- if narrow %}

        union all

        -- one row per recomputed patient, so delete+insert also removes the rows of a patient
        -- left without a reactivation message; the post-hook deletes these rows
        select
            cast(null as varchar) as message_id,
            cast(null as varchar) as location_id,
            dirty_patients.patient_key,
            cast(null as timestamptz) as sent_at,
            cast(null as date) as sent_local_date,
            cast(null as date) as week_start,
            cast(null as date) as month_start,
            cast(null as boolean) as is_lapsed,
            cast(null as boolean) as is_reactivated
        from dirty_patients
        where dirty_patients.patient_key is not null
    {%- endif %}

)

select * from final
