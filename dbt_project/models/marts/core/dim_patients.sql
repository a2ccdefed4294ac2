{{
    config(
        materialized='incremental',
        unique_key='patient_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Grain: patient (every staging patient, with the first completed visit once there is one).
    Incremental (delete+insert on patient_key): a row depends only on its patient's staging row
    and that patient's visits, so a nightly run recomputes the patients stg_pms__patients' build
    in this run wrote (its written keys: the patients of newer loads and those whose age band
    moved with the as-of date, which keep their old load id) and the patients int_patient_visits'
    build in this run rewrote, before and after the change (its touched record,
    macros/touched.sql: a new first visit, a cancelled or moved one, a location's time zone all
    rewrite the patient there). Staging never deletes a patient, so every recomputed patient
    has a row to write. When either record cannot be trusted (a model built whole or more than
    once since this one, or this model changed: macros/touched_entities.sql), every patient is
    recomputed.
-#}
{%- set narrow = touched_partitions_are_complete('int_patient_visits', ['patient_key'])
    and written_keys_are_complete('stg_pms__patients') %}

with

{%- if narrow %}

    -- the patients this run recomputes
    dirty_patients as (
        {{ touched_entities('int_patient_visits', 'patient_key') }}
        union
        select written.written_key as patient_key
        from ({{ written_keys_of('stg_pms__patients') }}) as written
    ),

    patients as (
        select * from {{ ref('stg_pms__patients') }}
        where patient_key in (select dirty_patients.patient_key from dirty_patients)
    ),

    visits as (
        select * from {{ ref('int_patient_visits') }}
        where patient_key in (select dirty_patients.patient_key from dirty_patients)
    ),
{%- else %}

    patients as (
        select * from {{ ref('stg_pms__patients') }}
    ),

    visits as (
        select * from {{ ref('int_patient_visits') }}
    ),
{%- endif %}

first_visits as (
    select distinct
        patient_key,
        first_visit_at,
        first_visit_date,
        first_visit_location_id
    from visits
    where first_visit_at is not null
),

final as (
    select
        patients.patient_key,
        patients.home_location_id,
        patients.age_band,
        patients.sex,
        patients.zip3,
        patients.acquisition_channel,
        patients.referred_by_patient_key,
        patients.created_at,
        first_visits.first_visit_at,
        first_visits.first_visit_date,
        first_visits.first_visit_location_id,
        {{ month_start('first_visits.first_visit_date') }} as cohort_month,
        patients.updated_at
    from patients
    left join first_visits on patients.patient_key = first_visits.patient_key
)

select * from final
