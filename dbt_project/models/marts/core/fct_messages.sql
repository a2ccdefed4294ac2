{#-
    One row per message (grain: message_id), without its body, in its location's local time,
    matched to a lead (the platform's lead_id, else normalised contact) and a patient (the
    platform's patient_id, else normalised contact). Several parties sharing a contact: the
    one created most recently at or before the message, else the first created after it.

    Incremental (delete+insert on message_id) and correct under late updates, like
    fct_calls: a run rebuilds exactly the messages whose row, contact identities
    (fingerprint) or location time zone changed since they were built.
-#}
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

messages as (

    select * from {{ ref('stg_messaging__messages') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

identities as (

    select * from {{ ref('int_contact_identities') }}

),

{{ contact_match_candidates('messages') }},

changed as (

    {{ changed_since_built(
        'candidates', 'message_id', [('source_updated_at', 'updated_at'), 'identity_fingerprint', 'location_timezone']
    ) }}

),

party_matches as (

    select
        changed.message_id,
        identities.party_type,
        identities.party_key,
        row_number() over (
            partition by changed.message_id, identities.party_type
            order by
                case when identities.party_created_at <= changed.sent_at then 0 else 1 end,
                abs({{ dbt.datediff('identities.party_created_at', 'changed.sent_at', 'second') }}),
                identities.party_key
        ) as match_rank
    from changed
    inner join identities
        on changed.contact_hash = identities.contact_hash

),

localized as (

    select
        changed.*,
        {{ local_timestamp('changed.sent_at', 'changed.location_timezone') }} as sent_at_local
    from changed

),

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
    left join party_matches as lead_match
        on
            localized.message_id = lead_match.message_id
            and lead_match.party_type = 'lead'
            and lead_match.match_rank = 1
    left join party_matches as patient_match
        on
            localized.message_id = patient_match.message_id
            and patient_match.party_type = 'patient'
            and patient_match.match_rank = 1

)

select * from final
