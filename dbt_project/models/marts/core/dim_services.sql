with

services as (
    select * from {{ ref('stg_pms__services') }}
),

final as (
    select
        service_id,
        name as service_name,
        category as service_category,
        is_consultation,
        default_duration_min,
        list_price,
        device_type_required,
        updated_at
    from services
)

select * from final
