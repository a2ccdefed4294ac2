{#-
    Grain: patient with at least one completed visit. The patient's cohort (local month of the
    first completed visit, at its location) and the first-year facts behind retention_12m and
    visits_first_year: completed visits dated within retention_window_days (365) of the first
    visit's local date, the first included (day 365 counts, day 366 does not), and whether one
    of them is dated after the first visit's date (a second visit on the same day is not a return).
-#}
with

visits as (
    select * from {{ ref('int_patient_visits') }}
    where is_completed
),

patients as (
    select * from {{ ref('stg_pms__patients') }}
),

per_patient as (
    select
        patient_key,
        first_visit_location_id as location_id,
        first_visit_date,
        {{ month_start('first_visit_date') }} as cohort_month,
        count(*) as visits_first_year,
        max(case when visit_date > first_visit_date then 1 else 0 end) as is_retained
    from visits
    where visit_date <= cast({{ dbt.dateadd('day', var('retention_window_days'), 'first_visit_date') }} as date)
    group by patient_key, first_visit_location_id, first_visit_date
),

final as (
    select
        per_patient.patient_key,
        per_patient.location_id,
        per_patient.first_visit_date,
        per_patient.cohort_month,
        coalesce(patients.acquisition_channel, 'unknown') as acquisition_channel,
        per_patient.visits_first_year,
        per_patient.is_retained = 1 as is_retained
    from per_patient
    left join patients on per_patient.patient_key = patients.patient_key
)

select * from final
