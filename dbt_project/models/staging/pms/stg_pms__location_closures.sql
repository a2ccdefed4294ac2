with

source as (
    select * from {{ source('raw_pms', 'location_closures') }}
),

renamed as (
    select
        cast(location_id as varchar) as location_id,
        cast(closed_on as date) as closed_on,
        {{ without_contact_data('reason') }} as reason,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
