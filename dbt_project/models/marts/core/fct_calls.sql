{#-
    One row per call (grain: call_id), in its location's local time, matched to a lead and a
    patient by normalised contact. `is_missed` = inbound and not answered (missed_call_rate).

    Several leads (or patients) can share a number: the call goes to the one created most
    recently at or before the call, else the first created after it, then the smallest key.

    Incremental (delete+insert on call_id) and still correct under late updates: a run
    rebuilds exactly the calls whose inputs changed since they were built, which it can see
    without a watermark: the call row's updated_at, the fingerprint of every identity sharing
    its contact (a lead or patient added, changed or re-keyed later), and its location's time
    zone. An extract arriving out of order is therefore never skipped.
-#}
{{
    config(
        materialized='incremental',
        unique_key='call_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ record_built_locations() }}",
            "{{ record_built_contacts() }}",
            "{{ record_load_watermark(['stg_phone__calls']) }}",
        ],
    )
}}

with

-- not materialized: an incremental run reads it three times (macros/incremental.sql,
-- contact_match_candidates), each read with its own filter pushed into the scan
calls as not materialized (

    select * from {{ ref('stg_phone__calls') }}

),

{{ contact_matched_changes('calls', 'call_id', 'started_at') }},

final as (

    select
        -- ids
        localized.call_id,
        localized.location_id,
        lead_match.party_key as lead_key,
        patient_match.party_key as patient_key,
        localized.contact_hash,

        -- attributes
        localized.direction,
        localized.outcome,
        localized.outcome = 'answered' as is_answered,
        localized.direction = 'inbound' and localized.outcome <> 'answered' as is_missed,
        localized.answered_by,
        localized.tracking_source,

        -- timestamps (instants, then local)
        localized.started_at,
        localized.answered_at,
        localized.ended_at,
        localized.started_at_local,
        cast(localized.started_at_local as date) as started_local_date,
        {{ week_start('localized.started_at_local') }} as week_start,
        {{ month_start('localized.started_at_local') }} as month_start,
        {{ dbt.datediff('localized.started_at', 'localized.ended_at', 'second') }}
            as duration_seconds,

        -- lineage of the incremental build
        localized.updated_at as source_updated_at,
        localized.identity_fingerprint,
        localized.location_timezone
    from localized
    {{ party_match_joins('call_id') }}

)

select * from final
