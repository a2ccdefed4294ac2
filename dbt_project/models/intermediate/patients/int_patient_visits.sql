{{
    config(
        materialized='incremental',
        unique_key='appointment_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['patient_key']},
        post_hook="{{ record_load_watermark(['stg_pms__appointments', 'stg_pms__locations']) }}",
    )
}}
{#-
    Grain: appointment. Each patient's completed visits numbered in scheduled_start order, the
    patient's first visit (earliest completed visit: its location, date and provider, the
    provider for kpi_by_cohort_provider's retention by provider), and whether the appointment is for a new
    patient (no completed visit before its scheduled_start) or a returning one (docs/kpis.md).
    Ties on scheduled_start are broken by appointment_id so the numbering is deterministic.
    Incremental (delete+insert on appointment_id): every row depends only on its patient's
    appointments, so a run recomputes every appointment of each patient with an appointment of
    a load newer than the model's watermark (macros/loads.sql), and of the patient such an
    appointment was built under (a visit moved to another patient renumbers both). A location
    of a newer load (its time zone dates the visits) or a missing watermark or changed
    definition recomputes every patient. Staging keeps every appointment (none is deleted).
    Each build records the patients it rewrote, before and after (`touched_columns`,
    macros/touched.sql): int_patient_cohorts recomputes only those.
-#}
with

all_appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

{%- if is_incremental() %}

    watermark as (
        {{ built_watermark() }}
    ),

    -- staging read here with its two columns, not through `all_appointments`: a CTE read twice
    -- is materialised whole by DuckDB (every column of every appointment) before any filter
    changed_appointments as (
        select
            new_appointments.appointment_id,
            new_appointments.patient_key
        from {{ ref('stg_pms__appointments') }} as new_appointments
        -- the watermark as a constant: only the row groups of newer loads are read
        -- (`loaded_after_literal`, macros/loads.sql)
        where {{ loaded_after_literal('new_appointments._dlt_load_id') }}
    ),

    -- the patients whose history changed: now, and before the change (a moved visit)
    dirty_patients as (
        select patient_key from changed_appointments
        union
        select built.patient_key
        from {{ this }} as built
        inner join changed_appointments on built.appointment_id = changed_appointments.appointment_id
    ),

    any_location_changed as (
        select exists(
            select 1 from locations
            cross join watermark
            where {{ loaded_after('locations._dlt_load_id', 'watermark.load_id') }}
        ) as changed
    ),
{%- endif %}

-- the appointments this run writes: every appointment of a dirty patient (all in a full build)
appointments as (
    select all_appointments.*
    from all_appointments
    {%- if is_incremental() %}
        where
            (select any_location_changed.changed from any_location_changed)
            or all_appointments.patient_key in (select dirty_patients.patient_key from dirty_patients)
            -- appointments without a patient form one partition of the window below
            or (
                all_appointments.patient_key is null
                and exists (
                    select 1 from dirty_patients
                    where dirty_patients.patient_key is null
                )
            )
    {%- endif %}
),

completed as (
    select
        appointments.appointment_id,
        appointments.patient_key,
        appointments.location_id,
        appointments.provider_id,
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
        location_id as first_visit_location_id,
        provider_id as first_visit_provider_id
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
        first_visits.first_visit_provider_id,
        case
            when first_visits.first_visit_at < appointments.scheduled_start then 'returning'
            else 'new'
        end as patient_type
    from appointments
    left join completed on appointments.appointment_id = completed.appointment_id
    left join first_visits on appointments.patient_key = first_visits.patient_key
)

select * from final
