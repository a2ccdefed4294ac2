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

-- every party once, with both of its contacts
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

)

select * from final
