{{
    config(
        materialized='incremental',
        unique_key='survey_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['location_id', 'responded_local_date'], 'touched_rows': 'changed'},
        post_hook="{{ record_load_watermark(
            ['stg_reviews__surveys', 'stg_pms__appointments', 'stg_pms__patients', 'stg_pms__locations']
        ) }}",
    )
}}
{#-
    One row per NPS survey (grain: survey_id). A survey belongs to the location of the visit
    it asks about, else to the patient's home location, and to that visit's provider (none
    without a visit: kpi_by_provider's nps leaves it out); responses are dated by responded_at
    in that location's local time (docs/kpis.md, nps). Promoter = 9-10, detractor = 0-6.
    Incremental (delete+insert on survey_id, docs/incremental-models.md): a row depends on its
    survey, its appointment's location and provider, its patient's home location and that
    location's time zone, so a nightly run recomputes the surveys of loads newer than this
    model's watermark (macros/loads.sql) and the surveys naming an appointment or a patient of
    such a load; a location of a newer load recomputes every survey. Staging never deletes a
    row, so no survey has to be removed. Without a watermark (first build, changed definition)
    every survey is recomputed. The build records the location and local response date of the
    surveys whose row it changed, before and after (`touched_columns`, `touched_rows: changed`:
    a survey recomputed because its patient's row was loaded again usually comes back
    unchanged), so kpi_by_provider recomputes only the periods a changed response or a
    visit given to another provider is in.
-#}
with

{%- if is_incremental() %}

    watermark as (
        {{ built_watermark() }}
    ),

    -- a location of a newer load (its time zone dates every response): every survey
    any_location_changed as (
        select exists(
            select 1 from {{ ref('stg_pms__locations') }} as locations
            where {{ loaded_after('locations._dlt_load_id', '(select watermark.load_id from watermark)') }}
        ) as flag
    ),

    changed_appointments as (
        select appointments.appointment_id
        from {{ ref('stg_pms__appointments') }} as appointments
        where {{ loaded_after('appointments._dlt_load_id', '(select watermark.load_id from watermark)') }}
    ),

    changed_patients as (
        select patients.patient_key
        from {{ ref('stg_pms__patients') }} as patients
        where {{ loaded_after('patients._dlt_load_id', '(select watermark.load_id from watermark)') }}
    ),

    surveys as (
        select all_surveys.*
        from {{ ref('stg_reviews__surveys') }} as all_surveys
        where
            (select any_location_changed.flag from any_location_changed)
            or {{ loaded_after('all_surveys._dlt_load_id', '(select watermark.load_id from watermark)') }}
            or all_surveys.appointment_id in (select changed_appointments.appointment_id from changed_appointments)
            or all_surveys.patient_key in (select changed_patients.patient_key from changed_patients)
    ),
{%- else %}

    surveys as (
        select * from {{ ref('stg_reviews__surveys') }}
    ),
{%- endif %}

-- only the appointments and patients of the surveys this run writes (all in a full build)
appointments as (

    select
        all_appointments.appointment_id,
        all_appointments.location_id,
        all_appointments.provider_id
    from {{ ref('stg_pms__appointments') }} as all_appointments
    {%- if is_incremental() %}
        where all_appointments.appointment_id in (select surveys.appointment_id from surveys)
    {%- endif %}

),

patients as (

    select
        all_patients.patient_key,
        all_patients.home_location_id
    from {{ ref('stg_pms__patients') }} as all_patients
    {%- if is_incremental() %}
        where all_patients.patient_key in (select surveys.patient_key from surveys)
    {%- endif %}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

located as (

    select
        surveys.*,
        coalesce(appointments.location_id, patients.home_location_id) as location_id,
        appointments.provider_id
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
        provider_id,

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
