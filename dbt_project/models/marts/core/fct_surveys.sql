{#-
    One row per NPS survey (grain: survey_id). A survey belongs to the location of the visit
    it asks about, else to the patient's home location; responses are dated by responded_at
    in that location's local time (docs/kpis.md, nps). Promoter = 9-10, detractor = 0-6.
-#}
with

surveys as (

    select * from {{ ref('stg_reviews__surveys') }}

),

appointments as (

    select * from {{ ref('stg_pms__appointments') }}

),

patients as (

    select * from {{ ref('stg_pms__patients') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

located as (

    select
        surveys.*,
        coalesce(appointments.location_id, patients.home_location_id) as location_id
    from surveys
    left join appointments
        on surveys.appointment_id = appointments.appointment_id
    left join patients
        on surveys.patient_key = patients.patient_key

),

localized as (

    select
        located.*,
        {{ local_timestamp('located.responded_at', 'locations.timezone') }} as responded_at_local
    from located
    left join locations
        on located.location_id = locations.location_id

),

final as (

    select
        -- ids
        survey_id,
        patient_key,
        appointment_id,
        location_id,

        -- response
        nps_score,
        responded_at is not null and nps_score is not null as is_responded,
        case
            when nps_score >= 9 then 'promoter'
            when nps_score >= 7 then 'passive'
            when nps_score >= 0 then 'detractor'
        end as nps_category,

        -- timestamps
        sent_at,
        responded_at,
        responded_at_local,
        cast(responded_at_local as date) as responded_local_date,
        {{ week_start('responded_at_local') }} as week_start,
        {{ month_start('responded_at_local') }} as month_start
    from localized

)

select * from final
