{{
    config(
        materialized='incremental',
        unique_key='appointment_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['appointment_id', 'room_id', 'scheduled_date']},
        post_hook=[
            "{{ record_row_hashes('appointment_id', ['late_cancel_hours']) }}",
            "{{ record_load_watermark(
                ['stg_pms__appointments', 'stg_pms__locations', 'stg_pms__rooms', 'stg_pms__services',
                 'stg_pos__invoices', 'stg_pos__invoice_lines'],
                ['late_cancel_hours'],
            ) }}",
        ],
    )
}}
{#-
    Grain: appointment. Local date/week/month of scheduled_start at the location's time zone,
    status flags, late vs early cancellation (var late_cancel_hours), new vs returning patient,
    and net revenue + COGS of the paid invoices linked to it. Incremental (delete+insert on
    appointment_id): a run writes the appointments whose row differs from the one built,
    whatever caused it (the appointment, its invoices, the patient's other visits, a room,
    service or location), so a late extract is never missed (macros/incremental.sql).

    Which appointments a nightly run computes (docs/incremental-models.md): those of a newer
    load, every appointment of their patients (old and new: visits renumber), and those whose
    paid revenue can have changed. The last come from the invoice lines `fct_invoice_lines`
    rewrote in this invocation, old and new side (its touched record names each line's
    appointment), when that record is complete for this model (macros/touched.sql); otherwise
    every built appointment's revenue is compared with a fresh sum. A location, room or service
    of a newer load makes every appointment a candidate.
-#}
-- depends_on: {{ ref('fct_invoice_lines') }}
{%- set revenue_from_touched = touched_partitions_are_complete('fct_invoice_lines', var_names=['late_cancel_hours']) %}
with

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

rooms as (
    select * from {{ ref('stg_pms__rooms') }}
),

services as (
    select * from {{ ref('stg_pms__services') }}
),

invoices as (
    select * from {{ ref('stg_pos__invoices') }}
),

invoice_lines as (
    select * from {{ ref('stg_pos__invoice_lines') }}
),

visits as (
    select * from {{ ref('int_patient_visits') }}
),

{%- if is_incremental() %}

    watermark as (
        {{ built_watermark(['late_cancel_hours']) }}
    ),

    -- the staging appointments are read by each CTE below with the columns it needs, not through
    -- `appointments`: a CTE read four times is materialised whole by DuckDB (every column of
    -- every appointment) before any filter
    changed_appointments as (
        select
            new_appointments.appointment_id,
            new_appointments.patient_key
        from {{ ref('stg_pms__appointments') }} as new_appointments
        where {{ loaded_after('new_appointments._dlt_load_id', '(select watermark.load_id from watermark)') }}
    ),

    {%- if revenue_from_touched %}

        -- the appointments of every invoice line fct_invoice_lines rewrote in this invocation,
        -- before and after: a paid line added, re-priced, voided or moved to another invoice
        -- or appointment rewrites that line, so no other appointment's revenue changed
        changed_invoices as (
            select distinct touched.appointment_id
            from {{ touched_relation('fct_invoice_lines') }} as touched
            where not touched.is_marker
        ),
    {%- else %}

        changed_invoices as (
            select invoices.appointment_id
            from invoices
            cross join watermark
            where {{ loaded_after('invoices._dlt_load_id', 'watermark.load_id') }}
            union all
            select invoices.appointment_id
            from invoice_lines
            inner join invoices on invoice_lines.invoice_id = invoices.invoice_id
            cross join watermark
            where {{ loaded_after('invoice_lines._dlt_load_id', 'watermark.load_id') }}
        ),

        -- an invoice re-linked elsewhere leaves its old appointment with revenue it no longer
        -- has: without the touched record, every built appointment's revenue is compared
        all_revenue as (
            {{ appointment_revenue() }}
        ),

        revenue_moved as (
            select built.appointment_id
            from {{ this }} as built
            left join all_revenue as revenue
                on built.appointment_id = revenue.appointment_id
            where
                built.net_revenue is distinct from coalesce(revenue.net_revenue, 0)
                or built.cogs is distinct from coalesce(revenue.cogs, 0)
        ),
    {%- endif %}

    changed_dimensions as (
        {{ any_loaded_after_watermark(['locations', 'rooms', 'services']) }}
    ),

    -- patients whose visit history changed (also the patient an appointment moved away from)
    changed_patients as (
        select patient_key from changed_appointments
        union
        select built.patient_key
        from {{ this }} as built
        inner join changed_appointments on built.appointment_id = changed_appointments.appointment_id
    ),

    dirty as (
        select appointment_id from changed_appointments
        union
        select patient_appointments.appointment_id
        from {{ ref('stg_pms__appointments') }} as patient_appointments
        inner join changed_patients on patient_appointments.patient_key = changed_patients.patient_key
        union
        select appointment_id from changed_invoices
        where appointment_id is not null
        {%- if not revenue_from_touched %}
            union
            select appointment_id from revenue_moved
        {%- endif %}
        union
        select every_appointment.appointment_id
        from {{ ref('stg_pms__appointments') }} as every_appointment
        where (select changed_dimensions.any_changed from changed_dimensions)
    ),
{%- endif %}

-- paid revenue of the appointments computed in this run (all of them in a full build)
revenue as (
    {{ appointment_revenue('dirty' if is_incremental() else none) }}
),

-- visits of the appointments computed in this run
scoped_visits as (
    select visits.* from visits
    {%- if is_incremental() %}
        where visits.appointment_id in (select dirty.appointment_id from dirty)
    {%- endif %}
),

localised as (
    select
        appointments.*,
        locations.timezone,
        {{ local_timestamp('appointments.scheduled_start', 'locations.timezone') }} as scheduled_start_local,
        {{ local_date('appointments.scheduled_start', 'locations.timezone') }} as scheduled_date
    from appointments
    left join locations on appointments.location_id = locations.location_id
    {%- if is_incremental() %}
        where appointments.appointment_id in (select dirty.appointment_id from dirty)
    {%- endif %}
),

candidates as (
    select
        -- keys
        localised.appointment_id,
        localised.patient_key,
        localised.location_id,
        localised.provider_id,
        localised.room_id,
        rooms.room_type,
        localised.service_id,
        services.category as service_category,
        coalesce(services.is_consultation, false) as is_consultation,
        localised.device_id,
        localised.booking_channel,
        -- schedule (instants, then local)
        localised.booked_at,
        localised.scheduled_start,
        localised.scheduled_end,
        localised.scheduled_start_local,
        localised.scheduled_date,
        {{ week_start('localised.scheduled_date') }} as week_start,
        {{ month_start('localised.scheduled_date') }} as month_start,
        greatest(0, {{ hours_between('localised.scheduled_start', 'localised.scheduled_end') }}) as duration_hours,
        -- outcome
        localised.status,
        localised.status = 'completed' as is_completed,
        localised.status = 'no_show' as is_no_show,
        localised.status = 'cancelled' as is_cancelled,
        localised.cancelled_at,
        localised.cancellation_reason,
        -- late = cancelled less than late_cancel_hours before scheduled_start (or after it);
        -- a cancellation without a timestamp cannot be shown late and counts as early
        coalesce(
            localised.status = 'cancelled'
            and localised.cancelled_at
            > {{ dbt.dateadd('hour', -1 * var('late_cancel_hours'), 'localised.scheduled_start') }},
            false
        ) as is_late_cancellation,
        -- engagement
        localised.confirmation_requested_at,
        localised.confirmation_response,
        localised.confirmation_responded_at,
        localised.checked_in_at,
        localised.checked_out_at,
        localised.rescheduled_from_appointment_id,
        visits.patient_type,
        -- money: paid invoices linked to the appointment, in the type of every other amount
        -- (a sum of decimal(18, 2) is a decimal(38, 2), which some BI drivers read badly)
        cast(coalesce(revenue.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        cast(coalesce(revenue.cogs, 0) as decimal(18, 2)) as cogs,
        localised.updated_at
    from localised
    left join rooms on localised.room_id = rooms.room_id
    left join services on localised.service_id = services.service_id
    left join scoped_visits as visits on localised.appointment_id = visits.appointment_id
    left join revenue on localised.appointment_id = revenue.appointment_id
),

-- every appointment is a candidate; the run writes those new or changed since built (their row
-- hashes against the recorded ones: macros/row_hashes.sql)
final as (
    {{ changed_since_built('candidates', 'appointment_id', row_hashes=true, var_names=['late_cancel_hours']) }}
)

select * from final
