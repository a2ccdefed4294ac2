{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql). -#}
{#-
    One row per lead (lead_key). Names are dropped; email and phone become keyed hashes of
    their normalised forms so calls and messages can be matched to the lead without the
    contact itself ever leaving the raw layer.
-#}
with

source as (

    select * from {{ source('raw_crm', 'leads') }}
    {{- newer_loads_only(source('raw_crm', 'leads')) }}

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
        -- typed-in text: without contact data (macros/free_text.sql)
        {{ without_contact_data('campaign') }} as campaign,
        {{ without_contact_data('interested_category') }} as interested_category,
        cast(status as varchar) as status,

        -- timestamps
        cast(created_at as timestamp with time zone) as created_at,
        cast(updated_at as timestamp with time zone) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_crm', 'leads')) }} as _dlt_load_id

    from source

)

select * from renamed
