{{
    config(
        materialized='incremental',
        unique_key='form_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        meta={'touched_columns': ['appointment_id']},
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql).
    Each build records the appointments of the forms it rewrote, before and after
    (`touched_columns`, macros/touched.sql): int_appointment_kpi_events looks only at those. -#}
with

source as (
    select * from {{ source('raw_pms', 'intake_forms') }}
    {{- newer_loads_only(source('raw_pms', 'intake_forms')) }}
),

renamed as (
    select
        cast(form_id as varchar) as form_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        cast(appointment_id as varchar) as appointment_id,
        cast(form_type as varchar) as form_type,
        cast(sent_at as timestamptz) as sent_at,
        cast(completed_at as timestamptz) as completed_at,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pms', 'intake_forms')) }} as _dlt_load_id
    from source
)

select * from renamed
