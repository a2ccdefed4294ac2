with

source as (
    select * from {{ source('raw_pms', 'rooms') }}
),

renamed as (
    select
        cast(room_id as varchar) as room_id,
        cast(location_id as varchar) as location_id,
        {{ without_contact_data('name') }} as name,
        cast(room_type as varchar) as room_type,
        cast(active_from as date) as active_from,
        cast(active_to as date) as active_to,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pms', 'rooms')) }} as _dlt_load_id
    from source
)

select * from renamed
