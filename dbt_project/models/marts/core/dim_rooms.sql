with

rooms as (
    select * from {{ ref('stg_pms__rooms') }}
),

final as (
    select
        room_id,
        location_id,
        name as room_name,
        room_type,
        room_type = 'treatment' as is_treatment_room,
        active_from,
        active_to,
        updated_at
    from rooms
)

select * from final
