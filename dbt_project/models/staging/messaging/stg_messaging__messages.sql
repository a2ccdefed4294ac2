{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql). -#}
{#-
    One row per message (message_id), without its body. The address (phone in any format or
    email in any case) becomes `contact_hash`; the platform's patient and lead ids become
    their pseudonymous keys.
-#}
with

source as (

    select * from {{ source('raw_messaging', 'messages') }}
    {{- newer_loads_only(source('raw_messaging', 'messages')) }}

),

renamed as (

    select
        -- ids
        cast(message_id as varchar) as message_id,
        cast(location_id as varchar) as location_id,
        cast(appointment_id as varchar) as appointment_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        {{ pseudonymize('lead_id') }} as lead_key,

        -- contact (PHI replaced by its keyed hash; the body is dropped)
        {{ contact_hash('contact_address') }} as contact_hash,

        -- attributes
        cast(channel as varchar) as channel,
        cast(direction as varchar) as direction,
        cast(purpose as varchar) as purpose,
        cast(delivery_status as varchar) as delivery_status,

        -- timestamps
        cast(sent_at as timestamp with time zone) as sent_at,
        cast(link_clicked_at as timestamp with time zone) as link_clicked_at,
        cast(updated_at as timestamp with time zone) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_messaging', 'messages')) }} as _dlt_load_id

    from source

)

select * from renamed
