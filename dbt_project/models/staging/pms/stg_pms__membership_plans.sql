with

source as (
    select * from {{ source('raw_pms', 'membership_plans') }}
),

renamed as (
    select
        cast(plan_id as varchar) as plan_id,
        {{ without_contact_data('name') }} as name,
        cast(price as decimal(18, 2)) as price,
        cast(billing_period_months as integer) as billing_period_months,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
