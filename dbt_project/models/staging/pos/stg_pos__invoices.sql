{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql). -#}
with

source as (
    select * from {{ source('raw_pos', 'invoices') }}
    {{- newer_loads_only(source('raw_pos', 'invoices')) }}
),

renamed as (
    select
        cast(invoice_id as varchar) as invoice_id,
        cast(location_id as varchar) as location_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        cast(appointment_id as varchar) as appointment_id,
        cast(provider_id as varchar) as provider_id,
        cast(status as varchar) as status,
        cast(issued_at as timestamptz) as issued_at,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pos', 'invoices')) }} as _dlt_load_id
    from source
)

select * from renamed
