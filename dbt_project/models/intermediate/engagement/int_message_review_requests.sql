{%- set review_vars = ['review_window_days'] -%}
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=[
            {
                'sql': "{{ add_missing_column('credited_review_id', 'varchar') }}",
                'transaction': false,
            },
            "{{ delete_all_unless(
                touched_partitions_are_complete('fct_messages', [], " ~ review_vars ~ ")
            ) }}",
        ],
        post_hook=[
            "delete from {{ this }} where is_converted is null",
            "{{ record_load_watermark(['stg_reviews__reviews'], " ~ review_vars ~ ") }}",
        ],
    )
}}
{#-
    One row per delivered `review_request` message (grain: message_id), with whether it
    converted. A review by a patient is credited once, to the latest delivered request to that
    patient sent at or before the review, and only when the review came within
    review_window_days of that request; earlier requests get nothing (docs/kpis.md).
    `credited_review_id` names the review that converted it.
    Incremental (delete+insert on message_id): a row depends on its own message and on its
    patient's requests and reviews only, so a run recomputes every request of the patients
    named in fct_messages' touched record of this run, before and after the change
    (macros/touched_messages.sql), of the patients of reviews of a load newer than the model's
    watermark, and of the patient a request credited to such a review was built under (a review
    moved to another patient; one that credited nothing changed nothing there). A rewritten
    message that is no longer a request writes a marker row (null is_converted) that the
    post-hook deletes. The record missing or untrusted (macros/touched.sql), or a changed
    definition: every request. A table built before `credited_review_id` existed gains it
    first (`add_missing_column`, before the transaction), and that build is a full one (none of this model is on record).
-#}
{%- set window_days = var('review_window_days') -%}
{%- set narrow = touched_partitions_are_complete('fct_messages', [], review_vars) %}

with

messages as (

    select * from {{ ref('fct_messages') }}

),

reviews as (

    select * from {{ ref('fct_reviews') }}

),

{%- if narrow %}

    -- reviews of loads newer than the model's watermark (fct_reviews is rebuilt whole; the
    -- load ids are staging's)
    new_reviews as (

        select
            review_id,
            patient_key
        from {{ ref('stg_reviews__reviews') }}
        where {{ loaded_after('_dlt_load_id', '(' ~ built_watermark(review_vars) ~ ')') }}

    ),

    -- the patients this run recomputes
    dirty_patients as (

        {{ touched_entities('fct_messages', 'patient_key') }}
        union
        select new_reviews.patient_key from new_reviews
        union
        select built.patient_key
        from {{ this }} as built
        where built.credited_review_id in (select new_reviews.review_id from new_reviews)

    ),

    scoped_messages as (

        select * from messages
        where
            patient_key in (select dirty_patients.patient_key from dirty_patients)
            or message_id in ({{ touched_entities('fct_messages', 'message_id') }})

    ),

    scoped_reviews as (

        select * from reviews
        where patient_key in (select dirty_patients.patient_key from dirty_patients)

    ),
{%- else %}

    scoped_messages as (

        select * from messages

    ),

    scoped_reviews as (

        select * from reviews

    ),
{%- endif %}

requests as (

    select *
    from scoped_messages
    where
        purpose = 'review_request'
        and direction = 'outbound'
        and is_delivered

),

latest_request_before_review as (

    select
        scoped_reviews.review_id,
        scoped_reviews.posted_at,
        requests.message_id,
        requests.sent_at,
        row_number() over (
            partition by scoped_reviews.review_id
            order by requests.sent_at desc, requests.message_id desc
        ) as request_rank
    from scoped_reviews
    inner join requests
        on
            scoped_reviews.patient_key = requests.patient_key
            and scoped_reviews.posted_at >= requests.sent_at

),

-- a request can be the credited latest one of several reviews: the smallest review id names
-- it (while any of them is left, the request stays converted)
credited as (

    select
        message_id,
        min(review_id) as credited_review_id
    from latest_request_before_review
    where
        request_rank = 1
        and posted_at <= {{ dbt.dateadd('day', window_days, 'sent_at') }}
    group by message_id

),

final as (

    select
        requests.message_id,
        requests.location_id,
        requests.patient_key,
        requests.sent_at,
        requests.sent_local_date,
        credited.message_id is not null as is_converted,
        credited.credited_review_id
    from requests
    left join credited
        on requests.message_id = credited.message_id

)

select * from final
{%- if narrow %}
    union all
    {{ removed_message_markers([
        ('location_id', 'varchar'), ('patient_key', 'varchar'), ('sent_at', 'timestamptz'),
        ('sent_local_date', 'date'), ('is_converted', 'boolean'), ('credited_review_id', 'varchar'),
    ]) }}
{%- endif %}
