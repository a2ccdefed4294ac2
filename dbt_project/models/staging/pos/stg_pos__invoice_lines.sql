{{
    config(
        materialized='incremental',
        unique_key='invoice_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql). -#}
with

source as (
    select * from {{ source('raw_pos', 'invoice_lines') }}
    {{- newer_loads_only(source('raw_pos', 'invoice_lines')) }}
),

renamed as (
    select
        -- ids
        cast(invoice_line_id as varchar) as invoice_line_id,
        cast(invoice_id as varchar) as invoice_id,
        cast(service_id as varchar) as service_id,
        cast(product_id as varchar) as product_id,
        cast(plan_id as varchar) as plan_id,
        -- attributes
        cast(line_type as varchar) as line_type,
        -- amounts (USD)
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(net_amount as decimal(18, 2)) as net_amount,
        cast(cost_amount as decimal(18, 2)) as cost_amount,
        -- timestamps
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_pos', 'invoice_lines')) }} as _dlt_load_id
    from source
)

select * from renamed
