{{
    config(
        materialized='incremental',
        unique_key='call_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql). -#}
{#-
    One row per call (call_id). The phone system only knows a number, in whatever format it
    wrote it: the number is replaced by `contact_hash` (keyed hash of its E.164 form), the one
    thing identity resolution matches on. The raw number never leaves the raw layer.
-#}
with

source as (

    select * from {{ source('raw_phone', 'calls') }}
    {{- newer_loads_only(source('raw_phone', 'calls')) }}

),

renamed as (

    select
        -- ids
        cast(call_id as varchar) as call_id,
        cast(location_id as varchar) as location_id,

        -- contact (PHI replaced by its keyed hash)
        {{ contact_hash('external_number') }} as contact_hash,

        -- attributes
        cast(direction as varchar) as direction,
        cast(outcome as varchar) as outcome,
        cast(answered_by as varchar) as answered_by,
        {{ without_contact_data('tracking_source') }} as tracking_source,

        -- timestamps
        cast(started_at as timestamp with time zone) as started_at,
        cast(answered_at as timestamp with time zone) as answered_at,
        cast(ended_at as timestamp with time zone) as ended_at,
        cast(updated_at as timestamp with time zone) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_phone', 'calls')) }} as _dlt_load_id

    from source

)

select * from renamed
