{#-
    Age bands at the data's as-of date (stg_pms__patients), and what lets that model rebuild
    only the patients whose band moved. The band depends on the as-of date, which moves every
    night; recomputing every patient (four keyed hashes each) cost more than the rest of the
    patients' nightly work, yet a band changes only on the birthdays that cross 18, 25, 35 ...
-#}

{#- Whole years from `dob` to `as_of` (both dates). -#}
{% macro age_years(dob, as_of) -%}
    extract(year from {{ as_of }}) - extract(year from {{ dob }})
    - case
        when
            extract(month from {{ as_of }}) * 100 + extract(day from {{ as_of }})
            < extract(month from {{ dob }}) * 100 + extract(day from {{ dob }})
            then 1
        else 0
    end
{%- endmacro %}

{#- The band of an age in years (null without a date of birth). -#}
{% macro age_band(age) -%}
    case
        when {{ age }} is null then null
        when {{ age }} < 18 then 'under_18'
        when {{ age }} < 25 then '18-24'
        when {{ age }} < 35 then '25-34'
        when {{ age }} < 45 then '35-44'
        when {{ age }} < 55 then '45-54'
        when {{ age }} < 65 then '55-64'
        else '65+'
    end
{%- endmacro %}

{#-
    The as-of date the model's last build banded ages at, kept beside its load watermark (the
    `dbt_state.load_watermarks` row `<model>:age_as_of`, under the model's definition
    fingerprint): a one-row query, null when there is none (then every patient is rebuilt).
-#}
{% macro built_age_as_of() -%}
    select cast(max(load_id) as date) as as_of_date
    from {{ load_watermarks_relation() }}
    where
        model_name = '{{ this.identifier }}:age_as_of'
        and definition = {{ definition_fingerprint() }}
{%- endmacro %}

{#- Post-hook: record the as-of date this build banded ages at (`as_of_sql`: a one-row query). -#}
{% macro record_age_as_of(as_of_sql) -%}
    delete from {{ load_watermarks_relation() }} where model_name = '{{ this.identifier }}:age_as_of';
    insert into {{ load_watermarks_relation() }}
    select
        '{{ this.identifier }}:age_as_of' as model_name,
        cast(as_of_date as varchar) as load_id,
        {{ definition_fingerprint() }} as definition
    from ({{ as_of_sql }}) as as_of
{%- endmacro %}

{#-
    CTEs `aged` (every raw patient with its age today, `age_years`) and `ages` (the patients this
    run writes) for stg_pms__patients; needs a CTE `as_of` (as_of_date). A full build writes
    every patient; an incremental run those of loads newer than the model's watermark and those
    whose band at the last build's as-of date differs from today's; a raw layer without load
    ids, no watermark or no recorded as-of date: every patient.
-#}
{% macro patients_to_build(raw_patients) -%}
{%- set incremental_run = is_incremental() and has_load_ids(raw_patients) -%}
{%- if incremental_run %}
watermark as (
    {{ built_watermark() }}
),

built_as_of as (
    {{ built_age_as_of() }}
),
{%- endif %}

aged as (
    select
        patients.*,
        {{ age_years('patients.date_of_birth', 'as_of.as_of_date') }} as age_years,
        {%- if incremental_run %}
        {{ age_years('patients.date_of_birth', 'built_as_of.as_of_date') }} as built_age_years,
        {{ loaded_after('patients._dlt_load_id', 'watermark.load_id') }}
        or built_as_of.as_of_date is null as is_newer
        {%- else %}
        cast(null as bigint) as built_age_years,
        true as is_newer
        {%- endif %}
    from {{ raw_patients }} as patients
    cross join as_of
    {%- if incremental_run %}
    cross join watermark
    cross join built_as_of
    {%- endif %}
),

ages as (
    select * from aged
    where
        is_newer
        or {{ age_band('built_age_years') }} is distinct from {{ age_band('age_years') }}
)
{%- endmacro %}
