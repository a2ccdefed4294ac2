{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_load_watermark(['stg_pos__invoices', 'stg_pms__appointments']) }}",
    )
}}
{#-
    Grain: invoice. docs/kpis.md "Attribution": an invoice with an appointment_id belongs to that
    appointment's room and provider; otherwise (no appointment, or one the PMS does not know)
    to invoices.provider_id, with no room.
    Incremental (delete+insert on invoice_id): a row reads only its invoice and the appointment
    it names, so a run recomputes the invoices of a load newer than the model's watermark
    (macros/loads.sql) and those naming an appointment of such a load (moved to another room or
    provider, or arriving after its invoice). A missing watermark or changed definition
    recomputes every invoice. Staging keeps every invoice and appointment (none is deleted).
-#}
with

all_invoices as (
    select * from {{ ref('stg_pos__invoices') }}
),

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

{%- if is_incremental() %}

    watermark as (
        {{ built_watermark() }}
    ),

    changed_appointments as (
        select appointments.appointment_id
        from appointments
        cross join watermark
        where {{ loaded_after('appointments._dlt_load_id', 'watermark.load_id') }}
    ),

    changed_invoices as (
        select all_invoices.invoice_id
        from all_invoices
        cross join watermark
        where {{ loaded_after('all_invoices._dlt_load_id', 'watermark.load_id') }}
        union
        select all_invoices.invoice_id
        from all_invoices
        inner join changed_appointments
            on all_invoices.appointment_id = changed_appointments.appointment_id
    ),
{%- endif %}

-- the invoices this run writes (all of them in a full build)
invoices as (
    select all_invoices.*
    from all_invoices
    {%- if is_incremental() %}
        where all_invoices.invoice_id in (select changed_invoices.invoice_id from changed_invoices)
    {%- endif %}
),

final as (
    select
        invoices.invoice_id,
        invoices.location_id,
        invoices.patient_key,
        invoices.appointment_id,
        invoices.status,
        invoices.issued_at,
        appointments.appointment_id is not null as is_appointment_linked,
        case
            when appointments.appointment_id is not null then appointments.provider_id
            else invoices.provider_id
        end as attributed_provider_id,
        appointments.room_id as attributed_room_id,
        invoices.updated_at
    from invoices
    left join appointments on invoices.appointment_id = appointments.appointment_id
)

select * from final
