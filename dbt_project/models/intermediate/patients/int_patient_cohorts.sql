{%- set cohort_vars = ['retention_window_days'] -%}
{{
    config(
        materialized='incremental',
        unique_key='patient_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_touched_partitions(
            'int_patient_visits', ['patient_key'], ['patient_key'], " ~ cohort_vars ~ "
        ) }}",
        post_hook="{{ record_load_watermark(['stg_pms__patients'], " ~ cohort_vars ~ ") }}",
    )
}}
{#-
    Grain: patient with at least one completed visit. The patient's cohort (local month of the
    first completed visit, at its location, with that visit's provider: kpi_by_cohort_provider
    rolls retention up by it) and the first-year facts behind retention_12m and
    visits_first_year: completed visits dated within retention_window_days (365) of the first
    visit's local date, the first included (day 365 counts, day 366 does not), and whether one
    of them is dated after the first visit's date (a second visit on the same day is not a return).
    Incremental (delete+insert on patient_key): a row depends on its patient's visits and its
    patient's acquisition channel only, so a run recomputes the patients int_patient_visits'
    build in this run rewrote, before and after (its touched record, macros/touched.sql: a
    later visit, a corrected date or a visit moved away all rewrite the patient there), and
    the patients of loads newer than this model's watermark (the channel). The pre-hook first
    deletes the touched patients' rows, so a patient left without a completed visit loses
    its cohort. When the record cannot be trusted (macros/touched_entities.sql), or the model
    changed, every row is deleted and rebuilt.
-#}
{%- set narrow = touched_partitions_are_complete('int_patient_visits', ['patient_key'], cohort_vars) %}

with

{%- if narrow %}

    watermark as (
        {{ built_watermark(cohort_vars) }}
    ),

    -- the patients this run recomputes
    dirty_patients as (
        {{ touched_entities('int_patient_visits', 'patient_key') }}
        union
        select changed_patients.patient_key
        from {{ ref('stg_pms__patients') }} as changed_patients
        cross join watermark
        where {{ loaded_after('changed_patients._dlt_load_id', 'watermark.load_id') }}
    ),

    visits as (
        select * from {{ ref('int_patient_visits') }}
        where
            is_completed
            and patient_key in (select dirty_patients.patient_key from dirty_patients)
    ),
{%- else %}

    visits as (
        select * from {{ ref('int_patient_visits') }}
        where is_completed
    ),
{%- endif %}

patients as (
    select * from {{ ref('stg_pms__patients') }}
),

per_patient as (
    select
        patient_key,
        first_visit_location_id as location_id,
        first_visit_provider_id as provider_id,
        first_visit_date,
        {{ month_start('first_visit_date') }} as cohort_month,
        count(*) as visits_first_year,
        max(case when visit_date > first_visit_date then 1 else 0 end) as is_retained
    from visits
    where visit_date <= cast({{ dbt.dateadd('day', var('retention_window_days'), 'first_visit_date') }} as date)
    group by patient_key, first_visit_location_id, first_visit_provider_id, first_visit_date
),

final as (
    select
        per_patient.patient_key,
        per_patient.location_id,
        per_patient.provider_id,
        per_patient.first_visit_date,
        per_patient.cohort_month,
        coalesce(patients.acquisition_channel, 'unknown') as acquisition_channel,
        per_patient.visits_first_year,
        per_patient.is_retained = 1 as is_retained
    from per_patient
    left join patients on per_patient.patient_key = patients.patient_key
)

select * from final
