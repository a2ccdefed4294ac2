{#-
    Every hashed contact a patient or a lead is known by, one row per contact x party
    (grain: party_type x contact_kind x party key). Phone and message systems only know a
    number or an address; matching their `contact_hash` against this table is how a call or
    a message finds its lead and patient (docs/landing-contract.md, "Identity matching"). Only keyed
    hashes of normalised contacts are here, so `+1 (415) 555-0134` and `4155550134` meet.
-#}
with

patients as (

    select * from {{ ref('stg_pms__patients') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

patient_contacts as (

    select
        phone_hash as contact_hash,
        'phone' as contact_kind,
        'patient' as party_type,
        patient_key,
        cast(null as varchar) as lead_key,
        created_at as party_created_at,
        updated_at
    from patients
    where phone_hash is not null

    union all

    select
        email_hash as contact_hash,
        'email' as contact_kind,
        'patient' as party_type,
        patient_key,
        cast(null as varchar) as lead_key,
        created_at as party_created_at,
        updated_at
    from patients
    where email_hash is not null

),

lead_contacts as (

    select
        phone_hash as contact_hash,
        'phone' as contact_kind,
        'lead' as party_type,
        cast(null as varchar) as patient_key,
        lead_key,
        created_at as party_created_at,
        updated_at
    from leads
    where phone_hash is not null

    union all

    select
        email_hash as contact_hash,
        'email' as contact_kind,
        'lead' as party_type,
        cast(null as varchar) as patient_key,
        lead_key,
        created_at as party_created_at,
        updated_at
    from leads
    where email_hash is not null

),

unioned as (

    select * from patient_contacts
    union all
    select * from lead_contacts

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
    from unioned

)

select * from final
