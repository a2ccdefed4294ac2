with

source as (
    select * from {{ source('raw_pms', 'location_hours') }}
),

renamed as (
    select
        cast(location_id as varchar) as location_id,
        cast(weekday as integer) as weekday,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        cast(opens_at as time) as opens_at,
        cast(closes_at as time) as closes_at,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
