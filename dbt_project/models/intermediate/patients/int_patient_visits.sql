{#-
    Grain: appointment. Each patient's completed visits numbered in scheduled_start order, the
    patient's first visit (earliest completed visit), and whether the appointment is for a new
    patient (no completed visit before its scheduled_start) or a returning one (docs/kpis.md).
    Ties on scheduled_start are broken by appointment_id so the numbering is deterministic.
-#}
with

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

completed as (
    select
        appointments.appointment_id,
        appointments.patient_key,
        appointments.location_id,
        appointments.scheduled_start,
        {{ local_date('appointments.scheduled_start', 'locations.timezone') }} as scheduled_date,
        row_number() over (
            partition by appointments.patient_key
            order by appointments.scheduled_start, appointments.appointment_id
        ) as visit_number
    from appointments
    left join locations on appointments.location_id = locations.location_id
    where appointments.status = 'completed'
),

first_visits as (
    select
        patient_key,
        appointment_id as first_visit_appointment_id,
        scheduled_start as first_visit_at,
        scheduled_date as first_visit_date,
        location_id as first_visit_location_id
    from completed
    where visit_number = 1
),

final as (
    select
        appointments.appointment_id,
        appointments.patient_key,
        appointments.location_id,
        appointments.scheduled_start,
        appointments.status = 'completed' as is_completed,
        completed.visit_number,
        completed.scheduled_date as visit_date,
        first_visits.first_visit_appointment_id,
        first_visits.first_visit_at,
        first_visits.first_visit_date,
        first_visits.first_visit_location_id,
        case
            when first_visits.first_visit_at < appointments.scheduled_start then 'returning'
            else 'new'
        end as patient_type
    from appointments
    left join completed on appointments.appointment_id = completed.appointment_id
    left join first_visits on appointments.patient_key = first_visits.patient_key
)

select * from final
