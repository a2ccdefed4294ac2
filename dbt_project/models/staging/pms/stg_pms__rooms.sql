with

source as (
    select * from {{ source('raw_pms', 'rooms') }}
),

renamed as (
    select
        cast(room_id as varchar) as room_id,
        cast(location_id as varchar) as location_id,
        cast(name as varchar) as name,
        cast(room_type as varchar) as room_type,
        cast(active_from as date) as active_from,
        cast(active_to as date) as active_to,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
