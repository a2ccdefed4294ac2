with

source as (
    select * from {{ source('raw_pms', 'memberships') }}
),

renamed as (
    select
        cast(membership_id as varchar) as membership_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        cast(plan_id as varchar) as plan_id,
        cast(location_id as varchar) as location_id,
        cast(status as varchar) as status,
        cast(started_on as date) as started_on,
        cast(cancelled_on as date) as cancelled_on,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
