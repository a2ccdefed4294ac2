-- PHI boundary: names, email, phone, date of birth and postal code stop here. What leaves is the
-- keyed hash of the id and contacts, the age band at the data's as-of date, and the ZIP3 prefix;
-- sex in a closed vocabulary, and the typed-in channel without contact data (macros/free_text.sql).
{{
    config(
        materialized='incremental',
        unique_key='patient_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ record_load_watermark() }}",
            "{{ record_age_as_of('select cast(as_of_at as date) as as_of_date from ' ~ ref('int_data_as_of')) }}",
        ],
    )
}}
{#-
    Incremental (delete+insert on patient_key): a nightly run rebuilds the patients of loads newer
    than the model's watermark (macros/loads.sql) and those whose age band differs between the
    as-of date of the last build and today's (macros/age_bands.sql); every other patient's row
    is exactly what a full build gives. Without a watermark or a recorded as-of date (a first
    build, a changed definition, a raw layer without load ids) every patient is rebuilt.
-#}
{%- set raw_patients = source('raw_pms', 'patients') %}
with

as_of as (
    select cast(as_of_at as date) as as_of_date from {{ ref('int_data_as_of') }}
),

{{ patients_to_build(raw_patients) }},

renamed as (
    select
        -- keys (pseudonymous)
        {{ pseudonymize('patient_id') }} as patient_key,
        {{ pseudonymize('referred_by_patient_id') }} as referred_by_patient_key,
        {{ pseudonymize(normalize_email('email')) }} as email_hash,
        {{ pseudonymize(normalize_phone('phone')) }} as phone_hash,
        -- allowed derived attributes
        {{ age_band('age_years') }} as age_band,
        {{ sex_code('sex') }} as sex,
        {{ safe_harbor_zip3('postal_code') }} as zip3,
        cast(home_location_id as varchar) as home_location_id,
        {{ without_contact_data('acquisition_channel') }} as acquisition_channel,
        -- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at,
        -- lineage: the load that last wrote the raw row (incremental builds)
        {{ load_id_column(raw_patients) }} as _dlt_load_id
    from ages
)

select * from renamed
