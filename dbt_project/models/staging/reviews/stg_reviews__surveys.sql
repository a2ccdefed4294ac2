{#-
    One row per NPS survey (survey_id) sent after a visit, with its patient pseudonymised.
-#}
with

source as (

    select * from {{ source('raw_reviews', 'surveys') }}

),

renamed as (

    select
        -- ids
        cast(survey_id as varchar) as survey_id,
        {{ pseudonymize('patient_id') }} as patient_key,
        cast(appointment_id as varchar) as appointment_id,

        -- measures
        cast(nps_score as integer) as nps_score,

        -- timestamps
        cast(sent_at as timestamp with time zone) as sent_at,
        cast(responded_at as timestamp with time zone) as responded_at,
        cast(updated_at as timestamp with time zone) as updated_at

    from source

)

select * from renamed
