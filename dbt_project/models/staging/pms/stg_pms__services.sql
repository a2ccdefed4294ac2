with

source as (
    select * from {{ source('raw_pms', 'services') }}
),

renamed as (
    select
        cast(service_id as varchar) as service_id,
        {{ without_contact_data('name') }} as name,
        cast(category as varchar) as category,
        cast(is_consultation as boolean) as is_consultation,
        cast(default_duration_min as integer) as default_duration_min,
        cast(list_price as decimal(18, 2)) as list_price,
        cast(device_type_required as varchar) as device_type_required,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pms', 'services')) }} as _dlt_load_id
    from source
)

select * from renamed
