{{
    config(
        materialized='incremental',
        unique_key='appointment_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql). -#}
with

source as (
    select * from {{ source('raw_pms', 'appointments') }}
    {{- newer_loads_only(source('raw_pms', 'appointments')) }}
),

renamed as (
    select
        -- ids
        cast(appointment_id as varchar) as appointment_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        cast(location_id as varchar) as location_id,
        cast(provider_id as varchar) as provider_id,
        cast(room_id as varchar) as room_id,
        cast(service_id as varchar) as service_id,
        cast(device_id as varchar) as device_id,
        cast(rescheduled_from_appointment_id as varchar) as rescheduled_from_appointment_id,
        -- attributes
        cast(booking_channel as varchar) as booking_channel,
        cast(status as varchar) as status,
        cast(confirmation_response as varchar) as confirmation_response,
        cast(cancellation_reason as varchar) as cancellation_reason,
        -- timestamps
        cast(booked_at as timestamptz) as booked_at,
        cast(scheduled_start as timestamptz) as scheduled_start,
        cast(scheduled_end as timestamptz) as scheduled_end,
        cast(confirmation_requested_at as timestamptz) as confirmation_requested_at,
        cast(confirmation_responded_at as timestamptz) as confirmation_responded_at,
        cast(checked_in_at as timestamptz) as checked_in_at,
        cast(checked_out_at as timestamptz) as checked_out_at,
        cast(cancelled_at as timestamptz) as cancelled_at,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pms', 'appointments')) }} as _dlt_load_id
    from source
)

select * from renamed
