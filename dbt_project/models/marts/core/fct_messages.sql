{#-
    One row per message (grain: message_id), without its body, in its location's local time,
    matched to a lead (the platform's lead_id, else normalised contact) and a patient (the
    platform's patient_id, else normalised contact). Several parties sharing a contact: the
    one created most recently at or before the message, else the first created after it.

    Incremental (delete+insert on message_id) and correct under late updates, like
    fct_calls: a run rebuilds exactly the messages whose row, contact identities
    (fingerprint) or location time zone changed since they were built. Each build records the
    messages it rewrote with their contact and patient, before and after (`touched_columns`,
    macros/touched.sql): int_message_post_care_checkins and int_message_review_requests
    recompute only the contacts and patients named there.
-#}
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['message_id', 'contact_hash', 'patient_key']},
        post_hook=[
            "{{ record_built_locations() }}",
            "{{ record_built_contacts() }}",
            "{{ record_load_watermark(['stg_messaging__messages']) }}",
        ],
    )
}}

with

-- not materialized: an incremental run reads it three times (macros/incremental.sql,
-- contact_match_candidates), each read with its own filter pushed into the scan
messages as not materialized (

    select * from {{ ref('stg_messaging__messages') }}

),

{{ contact_matched_changes('messages', 'message_id', 'sent_at') }},

final as (

    select
        -- ids
        localized.message_id,
        localized.location_id,
        localized.appointment_id,
        coalesce(localized.lead_key, lead_match.party_key) as lead_key,
        case
            when localized.lead_key is not null then 'platform'
            when lead_match.party_key is not null then 'contact'
        end as lead_match_method,
        coalesce(localized.patient_key, patient_match.party_key) as patient_key,
        case
            when localized.patient_key is not null then 'platform'
            when patient_match.party_key is not null then 'contact'
        end as patient_match_method,
        localized.contact_hash,

        -- attributes
        localized.channel,
        localized.direction,
        localized.purpose,
        localized.delivery_status,
        localized.delivery_status = 'delivered' as is_delivered,
        localized.link_clicked_at is not null as is_link_clicked,

        -- timestamps (instants, then local)
        localized.sent_at,
        localized.link_clicked_at,
        localized.sent_at_local,
        cast(localized.sent_at_local as date) as sent_local_date,
        {{ week_start('localized.sent_at_local') }} as week_start,
        {{ month_start('localized.sent_at_local') }} as month_start,

        -- lineage of the incremental build
        localized.updated_at as source_updated_at,
        localized.identity_fingerprint,
        localized.location_timezone
    from localized
    {{ party_match_joins('message_id') }}

)

select * from final
