{{
    config(
        materialized='incremental',
        unique_key='invoice_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['location_id', 'issued_date', 'appointment_id']},
        post_hook=[
            "{{ record_row_hashes('invoice_line_id') }}",
            "{{ record_load_watermark(
                ['stg_pos__invoice_lines', 'stg_pos__invoices', 'stg_pms__appointments',
                 'stg_pms__locations', 'stg_pms__services'],
            ) }}",
        ],
    )
}}
{#-
    Grain: invoice line. Dated by the invoice's issued_at in the location's local time;
    is_revenue = the invoice is `paid` (open, void and refunded count for nothing). Attribution
    per docs/kpis.md, Attribution (int_invoice_attribution). updated_at = the later of the line's and the
    invoice's. Incremental (delete+insert on invoice_line_id): a run writes the lines whose row
    differs from the one built (the line, its invoice, attribution, service or location changed),
    so a late extract is never missed (macros/incremental.sql). Only the lines those inputs
    can have changed are computed and compared: lines of loads newer than the model's watermark
    (macros/loads.sql), every line of an invoice or appointment (attribution) of such a load;
    a changed location or service makes every line a candidate. Each incremental build records
    the location-days and appointments it rewrote, old and new (`touched_columns`,
    macros/touched.sql), so int_invoice_kpi_events re-sums only those days and fct_appointments
    only those appointments' revenue.
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

{%- if is_incremental() %}

    watermark as (
        {{ built_watermark() }}
    ),

    -- each input is narrowed on its own (a semi-join on a load id or a key, the watermark as a
    -- scalar): joining whole inputs first cost more than everything a nightly delta changes
    new_appointments as (
        select appointments.appointment_id
        from {{ ref('stg_pms__appointments') }} as appointments
        where {{ loaded_after('appointments._dlt_load_id', '(select watermark.load_id from watermark)') }}
    ),

    changed_invoices as (
        select raw_invoices.invoice_id
        from {{ ref('stg_pos__invoices') }} as raw_invoices
        where {{ loaded_after('raw_invoices._dlt_load_id', '(select watermark.load_id from watermark)') }}
        union all
        select attributed.invoice_id
        from {{ ref('int_invoice_attribution') }} as attributed
        where attributed.appointment_id in (select new_appointments.appointment_id from new_appointments)
    ),

    changed_dimensions as (
        {{ any_loaded_after_watermark(['locations', 'services']) }}
    ),

    dirty as (
        select
            line_rows.invoice_line_id,
            line_rows.invoice_id
        from {{ ref('stg_pos__invoice_lines') }} as line_rows
        where
            {{ loaded_after('line_rows._dlt_load_id', '(select watermark.load_id from watermark)') }}
            or line_rows.invoice_id in (select changed_invoices.invoice_id from changed_invoices)
            or (select changed_dimensions.any_changed from changed_dimensions)
    ),
{%- endif %}

-- invoices of the lines computed in this run
scoped_invoices as (
    select invoices.* from invoices
    {%- if is_incremental() %}
        where invoices.invoice_id in (select dirty.invoice_id from dirty)
    {%- endif %}
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
    left join scoped_invoices as invoices on invoice_lines.invoice_id = invoices.invoice_id
    left join locations on invoices.location_id = locations.location_id
    {%- if is_incremental() %}
        where invoice_lines.invoice_line_id in (select dirty.invoice_line_id from dirty)
    {%- endif %}
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
    {{ changed_since_built('candidates', 'invoice_line_id', row_hashes=true) }}
)

select * from final
