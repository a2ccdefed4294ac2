{{
    config(
        materialized='incremental',
        unique_key='invoice_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#-
    Grain: invoice line. Dated by the invoice's issued_at in the location's local time;
    is_revenue = the invoice is `paid` (open, void and refunded count for nothing). Attribution
    per docs/kpis.md, Attribution (int_invoice_attribution). updated_at = the later of the line's and the
    invoice's. Incremental (delete+insert on invoice_line_id): a run writes the lines whose row
    differs from the one built (the line, its invoice, attribution, service or location changed),
    so a late extract is never missed (macros/incremental.sql).
-#}
with

invoice_lines as (
    select * from {{ ref('stg_pos__invoice_lines') }}
),

invoices as (
    select * from {{ ref('int_invoice_attribution') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

services as (
    select * from {{ ref('stg_pms__services') }}
),

localised as (
    select
        invoice_lines.*,
        invoices.status as invoice_status,
        invoices.issued_at,
        invoices.location_id,
        invoices.patient_key,
        invoices.appointment_id,
        invoices.attributed_provider_id,
        invoices.attributed_room_id,
        invoices.updated_at as invoice_updated_at,
        {{ local_date('invoices.issued_at', 'locations.timezone') }} as issued_date
    from invoice_lines
    left join invoices on invoice_lines.invoice_id = invoices.invoice_id
    left join locations on invoices.location_id = locations.location_id
),

candidates as (
    select
        -- keys
        localised.invoice_line_id,
        localised.invoice_id,
        localised.invoice_status,
        localised.location_id,
        localised.patient_key,
        localised.appointment_id,
        localised.attributed_provider_id,
        localised.attributed_room_id,
        -- dates (local)
        localised.issued_at,
        localised.issued_date,
        {{ week_start('localised.issued_date') }} as week_start,
        {{ month_start('localised.issued_date') }} as month_start,
        -- what was sold
        localised.line_type,
        localised.service_id,
        services.category as service_category,
        localised.product_id,
        localised.plan_id,
        -- amounts (USD)
        localised.quantity,
        localised.unit_price,
        localised.discount_amount,
        localised.net_amount,
        localised.cost_amount,
        coalesce(localised.invoice_status = 'paid', false) as is_revenue,
        greatest(localised.updated_at, coalesce(localised.invoice_updated_at, localised.updated_at)) as updated_at
    from localised
    left join services on localised.service_id = services.service_id
),

-- every line is a candidate; the run writes those new or changed since built
final as (
    {{ changed_since_built('candidates', 'invoice_line_id') }}
)

select * from final
