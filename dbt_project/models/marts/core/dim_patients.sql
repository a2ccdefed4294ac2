with

patients as (
    select * from {{ ref('stg_pms__patients') }}
),

visits as (
    select * from {{ ref('int_patient_visits') }}
),

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
