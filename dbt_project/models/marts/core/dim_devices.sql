with

devices as (
    select * from {{ ref('stg_pms__devices') }}
),

final as (
    select
        device_id,
        location_id,
        room_id,
        name as device_name,
        device_type,
        purchase_cost,
        purchased_on,
        updated_at
    from devices
)

select * from final
