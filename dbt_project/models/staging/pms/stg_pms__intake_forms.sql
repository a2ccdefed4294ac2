with

source as (
    select * from {{ source('raw_pms', 'intake_forms') }}
),

renamed as (
    select
        cast(form_id as varchar) as form_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        cast(appointment_id as varchar) as appointment_id,
        cast(form_type as varchar) as form_type,
        cast(sent_at as timestamptz) as sent_at,
        cast(completed_at as timestamptz) as completed_at,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
