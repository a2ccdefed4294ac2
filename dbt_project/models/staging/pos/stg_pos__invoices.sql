with

source as (
    select * from {{ source('raw_pos', 'invoices') }}
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
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
