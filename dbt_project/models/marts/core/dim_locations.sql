with

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

final as (
    select
        location_id,
        name as location_name,
        timezone,
        opened_on,
        closed_on,
        updated_at
    from locations
)

select * from final
