with

memberships as (
    select * from {{ ref('stg_pms__memberships') }}
),

plans as (
    select * from {{ ref('stg_pms__membership_plans') }}
),

final as (
    select
        memberships.membership_id,
        memberships.patient_key,
        memberships.plan_id,
        plans.name as plan_name,
        memberships.location_id,
        memberships.status,
        memberships.started_on,
        memberships.cancelled_on,
        -- active through the day before cancelled_on (docs/landing-contract.md)
        cast({{ dbt.dateadd('day', -1, 'memberships.cancelled_on') }} as date) as active_through,
        plans.price,
        plans.billing_period_months,
        {{ safe_divide('plans.price', 'plans.billing_period_months') }} as monthly_value,
        memberships.updated_at
    from memberships
    left join plans on memberships.plan_id = plans.plan_id
)

select * from final
