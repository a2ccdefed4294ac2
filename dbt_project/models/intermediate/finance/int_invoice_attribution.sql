{#-
    Grain: invoice. docs/kpis.md "Attribution": an invoice with an appointment_id belongs to that
    appointment's room and provider; otherwise (no appointment, or one the PMS does not know)
    to invoices.provider_id, with no room.
-#}
with

invoices as (
    select * from {{ ref('stg_pos__invoices') }}
),

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
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
