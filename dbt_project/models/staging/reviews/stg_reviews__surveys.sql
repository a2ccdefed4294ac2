{{
    config(
        materialized='incremental',
        unique_key='survey_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ record_load_watermark() }}",
    )
}}
{#- Incremental on the load id: a nightly run merges the rows of the newer loads (macros/loads.sql),
    instead of pseudonymising every survey of the chain again. -#}
{#-
    One row per NPS survey (survey_id) sent after a visit, with its patient pseudonymised.
-#}
with

source as (

    select * from {{ source('raw_reviews', 'surveys') }}
    {{- newer_loads_only(source('raw_reviews', 'surveys')) }}

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
        cast(updated_at as timestamp with time zone) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(source('raw_reviews', 'surveys')) }} as _dlt_load_id

    from source

)

select * from renamed
