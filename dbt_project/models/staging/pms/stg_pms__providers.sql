-- Providers are staff, not patients: their names are not PHI and the by-provider pages need them.
-- Contact data typed into a name (a phone, an email, a date) is replaced, the name kept
-- (macros/free_text.sql).
with

source as (
    select * from {{ source('raw_pms', 'providers') }}
),

renamed as (
    select
        cast(provider_id as varchar) as provider_id,
        {{ contact_data_masked('first_name') }} as first_name,
        {{ contact_data_masked('last_name') }} as last_name,
        cast(role as varchar) as role,
        cast(home_location_id as varchar) as home_location_id,
        cast(is_revenue_generating as boolean) as is_revenue_generating,
        cast(hired_on as date) as hired_on,
        cast(terminated_on as date) as terminated_on,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
