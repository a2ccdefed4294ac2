with

source as (
    select * from {{ source('raw_pms', 'devices') }}
),

renamed as (
    select
        cast(device_id as varchar) as device_id,
        cast(location_id as varchar) as location_id,
        cast(room_id as varchar) as room_id,
        {{ without_contact_data('name') }} as name,
        cast(device_type as varchar) as device_type,
        cast(purchase_cost as decimal(18, 2)) as purchase_cost,
        cast(purchased_on as date) as purchased_on,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
