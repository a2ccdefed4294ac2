{#-
    Each lead's patient (grain: lead_key): `leads.patient_id` when the CRM converted it, else
    the patient with the same normalised phone or email (docs/kpis.md, booking_conversion_rate).
    Several patients can share a contact (a family phone): the earliest-created one is taken,
    then the smallest key, so the answer is deterministic.
-#}
with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

identities as (

    select * from {{ ref('int_contact_identities') }}

),

lead_contacts as (

    select
        lead_key,
        contact_hash
    from identities
    where party_type = 'lead'

),

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
