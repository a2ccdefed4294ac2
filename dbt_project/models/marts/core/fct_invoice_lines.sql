-- depends_on: {{ ref('stg_pms__appointments') }}
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
    per kpis.md (int_invoice_attribution). updated_at = the later of the line's and the
    invoice's, so a status change on the invoice moves the incremental window.
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

{% if is_incremental() %}
    appointments as (
        select * from {{ ref('stg_pms__appointments') }}
    ),

    cutoff as (
        select {{ incremental_cutoff() }} as cutoff_at
    ),

    changed_appointments as (
        select appointments.appointment_id
        from appointments
        cross join cutoff
        where appointments.updated_at >= cutoff.cutoff_at
    ),

    changed_locations as (
        select locations.location_id
        from locations
        cross join cutoff
        where locations.updated_at >= cutoff.cutoff_at
    ),

    changed_services as (
        select services.service_id
        from services
        cross join cutoff
        where services.updated_at >= cutoff.cutoff_at
    ),

    touched_invoices as (
        select invoices.invoice_id
        from invoices
        cross join cutoff
        where
            invoices.updated_at >= cutoff.cutoff_at
            or invoices.location_id in (select changed_locations.location_id from changed_locations)
            or invoices.appointment_id in (select changed_appointments.appointment_id from changed_appointments)
    ),

    scoped as (
        select invoice_lines.*
        from invoice_lines
        cross join cutoff
        where
            invoice_lines.updated_at >= cutoff.cutoff_at
            or invoice_lines.invoice_id in (select touched_invoices.invoice_id from touched_invoices)
            or invoice_lines.service_id in (select changed_services.service_id from changed_services)
    ),
{% else %}
    scoped as (
        select * from invoice_lines
    ),
{% endif %}

localised as (
    select
        scoped.*,
        invoices.status as invoice_status,
        invoices.issued_at,
        invoices.location_id,
        invoices.patient_key,
        invoices.appointment_id,
        invoices.attributed_provider_id,
        invoices.attributed_room_id,
        invoices.updated_at as invoice_updated_at,
        {{ local_date('invoices.issued_at', 'locations.timezone') }} as issued_date,
    from scoped
    left join invoices on scoped.invoice_id = invoices.invoice_id
    left join locations on invoices.location_id = locations.location_id
),

final as (
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
        greatest(localised.updated_at, coalesce(localised.invoice_updated_at, localised.updated_at)) as updated_at,
    from localised
    left join services on localised.service_id = services.service_id
)

select * from final
