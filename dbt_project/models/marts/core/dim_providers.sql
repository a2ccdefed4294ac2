with

providers as (
    select * from {{ ref('stg_pms__providers') }}
),

final as (
    select
        provider_id,
        trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) as provider_name,
        role,
        home_location_id,
        is_revenue_generating,
        hired_on,
        terminated_on,
        updated_at
    from providers
)

select * from final
