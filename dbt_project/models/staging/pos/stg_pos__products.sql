with

source as (
    select * from {{ source('raw_pos', 'products') }}
),

renamed as (
    select
        cast(product_id as varchar) as product_id,
        cast(sku as varchar) as sku,
        {{ without_contact_data('name') }} as name,
        cast(product_type as varchar) as product_type,
        {{ without_contact_data('category') }} as category,
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        cast(retail_price as decimal(18, 2)) as retail_price,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from renamed
