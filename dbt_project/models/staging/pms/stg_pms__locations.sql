with

source as (
    select * from {{ source('raw_pms', 'locations') }}
),

renamed as (
    select
        -- ids
        cast(location_id as varchar) as location_id,
        -- attributes
        {{ without_contact_data('name') }} as name,
        cast(timezone as varchar) as timezone,
        -- dates
        cast(opened_on as date) as opened_on,
        cast(closed_on as date) as closed_on,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pms', 'locations')) }} as _dlt_load_id
    from source
)

select * from renamed
