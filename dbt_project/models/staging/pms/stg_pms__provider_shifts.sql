with

source as (
    select * from {{ source('raw_pms', 'provider_shifts') }}
),

renamed as (
    select
        cast(shift_id as varchar) as shift_id,
        cast(provider_id as varchar) as provider_id,
        cast(location_id as varchar) as location_id,
        cast(shift_start as timestamptz) as shift_start,
        cast(shift_end as timestamptz) as shift_end,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pms', 'provider_shifts')) }} as _dlt_load_id
    from source
)

select * from renamed
