-- PHI boundary: names, email, phone, date of birth and postal code stop here. What leaves is the
-- keyed hash of the id and contacts, the age band at the data's as-of date, and the ZIP3 prefix.
with

source as (
    select * from {{ source('raw_pms', 'patients') }}
),

as_of as (
    select cast(as_of_at as date) as as_of_date from {{ ref('int_data_as_of') }}
),

ages as (
    select
        source.*,
        extract(year from as_of.as_of_date) - extract(year from source.date_of_birth)
        - case
            when
                extract(month from as_of.as_of_date) * 100 + extract(day from as_of.as_of_date)
                < extract(month from source.date_of_birth) * 100 + extract(day from source.date_of_birth)
                then 1
            else 0
        end as age_years
    from source
    cross join as_of
),

renamed as (
    select
        -- keys (pseudonymous)
        {{ pseudonymize('patient_id') }} as patient_key,
        {{ pseudonymize('referred_by_patient_id') }} as referred_by_patient_key,
        {{ pseudonymize(normalize_email('email')) }} as email_hash,
        {{ pseudonymize(normalize_phone('phone')) }} as phone_hash,
        -- allowed derived attributes
        case
            when age_years is null then null
            when age_years < 18 then 'under_18'
            when age_years < 25 then '18-24'
            when age_years < 35 then '25-34'
            when age_years < 45 then '35-44'
            when age_years < 55 then '45-54'
            when age_years < 65 then '55-64'
            else '65+'
        end as age_band,
        cast(sex as varchar) as sex,
        case
            -- `~` is a full match in DuckDB and a search in PostgreSQL: anchor both ends.
            when trim(postal_code) ~ '^[0-9]{3}.*$' then substring(trim(postal_code), 1, 3)
        end as zip3,
        cast(home_location_id as varchar) as home_location_id,
        cast(acquisition_channel as varchar) as acquisition_channel,
        -- timestamps
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at
    from ages
)

select * from renamed
