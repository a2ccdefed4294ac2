{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_all_unless(touched_partitions_are_complete('int_contact_identities')) }}",
        post_hook="{{ record_load_watermark(['stg_crm__leads']) }}",
    )
}}
{#-
    Each lead's patient (grain: lead_key): `leads.patient_id` when the CRM converted it, else
    the patient with the same normalised phone or email (docs/kpis.md, booking_conversion_rate).
    Several patients can share a contact (a family phone): the earliest-created one is taken,
    then the smallest key, so the answer is deterministic.
    Incremental (delete+insert on lead_key; every lead has exactly one row and staging never
    deletes a lead): a lead's row depends on its own CRM row and on the patients sharing one of
    its contacts, so a run recomputes the leads of loads newer than the model's watermark and
    the leads with a contact int_contact_identities rewrote a party of in this run (its touched
    record, before and after: a patient added, re-dated or given another contact). The record
    missing or untrusted (macros/touched.sql), or a changed definition: every lead.
-#}
{%- set narrow = touched_partitions_are_complete('int_contact_identities') %}

with

all_leads as (

    select * from {{ ref('stg_crm__leads') }}

),

identities as (

    select * from {{ ref('int_contact_identities') }}

),

{%- if narrow %}

    watermark as (

        {{ built_watermark() }}

    ),

    -- the leads this run recomputes
    dirty_leads as (

        select all_leads.lead_key
        from all_leads
        where {{ loaded_after('all_leads._dlt_load_id', '(select watermark.load_id from watermark)') }}
        union
        select identities.lead_key
        from identities
        where
            identities.party_type = 'lead'
            and identities.contact_hash in (
                {{ touched_entities('int_contact_identities', 'contact_hash') }}
            )

    ),

    leads as (

        select * from all_leads
        where lead_key in (select dirty_leads.lead_key from dirty_leads)

    ),

    lead_contacts as (

        select
            lead_key,
            contact_hash
        from identities
        where
            party_type = 'lead'
            and lead_key in (select dirty_leads.lead_key from dirty_leads)

    ),
{%- else %}

    leads as (

        select * from all_leads

    ),

    lead_contacts as (

        select
            lead_key,
            contact_hash
        from identities
        where party_type = 'lead'

    ),
{%- endif %}

patient_contacts as (

    select
        patient_key,
        contact_hash,
        party_created_at
    from identities
    where party_type = 'patient'

),

contact_matches as (

    select
        lead_contacts.lead_key,
        patient_contacts.patient_key,
        row_number() over (
            partition by lead_contacts.lead_key
            order by patient_contacts.party_created_at, patient_contacts.patient_key
        ) as match_rank
    from lead_contacts
    inner join patient_contacts
        on lead_contacts.contact_hash = patient_contacts.contact_hash

),

final as (

    select
        leads.lead_key,
        coalesce(leads.patient_key, contact_matches.patient_key) as patient_key,
        case
            when leads.patient_key is not null then 'crm'
            when contact_matches.patient_key is not null then 'contact'
        end as patient_match_method
    from leads
    left join contact_matches
        on
            leads.lead_key = contact_matches.lead_key
            and contact_matches.match_rank = 1

)

select * from final
