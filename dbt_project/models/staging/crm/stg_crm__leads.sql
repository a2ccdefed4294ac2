{#-
    One row per lead (lead_key). Names are dropped; email and phone become keyed hashes of
    their normalised forms so calls and messages can be matched to the lead without the
    contact itself ever leaving the raw layer.
-#}
with

source as (

    select * from {{ source('raw_crm', 'leads') }}

),

renamed as (

    select
        -- ids
        {{ pseudonymize('lead_id') }} as lead_key,
        cast(location_id as varchar) as location_id,
        {{ pseudonymize('patient_id') }} as patient_key,

        -- contacts (PHI replaced by keyed hashes)
        {{ pseudonymize(normalize_email('email')) }} as email_hash,
        {{ pseudonymize(normalize_phone('phone')) }} as phone_hash,

        -- attributes
        cast(channel as varchar) as channel,
        cast(campaign as varchar) as campaign,
        cast(interested_category as varchar) as interested_category,
        cast(status as varchar) as status,

        -- timestamps
        cast(created_at as timestamp with time zone) as created_at,
        cast(updated_at as timestamp with time zone) as updated_at

    from source

)

select * from renamed
