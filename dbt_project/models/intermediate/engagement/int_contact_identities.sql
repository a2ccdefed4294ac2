{{
    config(
        materialized='incremental',
        unique_key=['party_type', 'party_key'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['contact_hash']},
        post_hook=[
            "delete from {{ this }} where contact_hash is null",
            "{{ record_load_watermark(['stg_pms__patients', 'stg_crm__leads']) }}",
        ],
    )
}}
{#-
    Every hashed contact a patient or a lead is known by, one row per contact x party
    (grain: party_type x contact_kind x party key). Phone and message systems only know a
    number or an address; matching their `contact_hash` against this table is how a call or
    a message finds its lead and patient (docs/landing-contract.md, "Identity matching"). Only keyed
    hashes of normalised contacts are here, so `+1 (415) 555-0134` and `4155550134` meet.
    Incremental (delete+insert on party_type x party_key): a party's rows depend on its own
    staging row only, so a run recomputes the patients and leads of loads newer than the
    model's watermark (macros/loads.sql); a recomputed party left without a contact writes a
    marker row (null contact_hash) that the post-hook deletes, so its old rows go. Staging
    never deletes a party. No watermark or a changed definition (the pseudonymisation key's
    check value is part of it): every party. Each build records the contacts it rewrote,
    before and after (`touched_columns`, macros/touched.sql): fct_calls and fct_messages
    compare the identity fingerprints of those contacts only.
-#}
with

patients as (

    select * from {{ ref('stg_pms__patients') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

{%- if is_incremental() %}

    watermark as (

        {{ built_watermark() }}

    ),
{%- endif %}

-- every party once (in an incremental run: every recomputed party), with both of its contacts
parties as (

    select
        'patient' as party_type,
        patient_key,
        cast(null as varchar) as lead_key,
        phone_hash,
        email_hash,
        created_at as party_created_at,
        updated_at
    from patients
    {%- if is_incremental() %}
        where {{ loaded_after('_dlt_load_id', '(select watermark.load_id from watermark)') }}
    {%- endif %}

    union all

    select
        'lead' as party_type,
        cast(null as varchar) as patient_key,
        lead_key,
        phone_hash,
        email_hash,
        created_at as party_created_at,
        updated_at
    from leads
    {%- if is_incremental() %}
        where {{ loaded_after('_dlt_load_id', '(select watermark.load_id from watermark)') }}
    {%- endif %}

),

contact_kinds as (

    select 'phone' as contact_kind
    union all
    select 'email' as contact_kind

),

-- one row per party and contact kind it has a contact for
party_contacts as (

    select
        parties.*,
        contact_kinds.contact_kind,
        case
            when contact_kinds.contact_kind = 'phone' then parties.phone_hash else parties.email_hash
        end as contact_hash
    from parties
    cross join contact_kinds

),

final as (

    select
        coalesce(patient_key, lead_key) as party_key,
        contact_hash,
        contact_kind,
        party_type,
        patient_key,
        lead_key,
        party_created_at,
        updated_at
    from party_contacts
    where contact_hash is not null
    {%- if is_incremental() %}

        union all

        -- one row per recomputed party, so delete+insert also removes the contacts of a party
        -- that has none left; the post-hook deletes these rows
        select distinct
            coalesce(patient_key, lead_key) as party_key,
            cast(null as varchar) as contact_hash,
            cast(null as varchar) as contact_kind,
            party_type,
            patient_key,
            lead_key,
            party_created_at,
            updated_at
        from parties
    {%- endif %}

)

select * from final
