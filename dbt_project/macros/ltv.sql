{#-
    CTEs ending in CTE `name`: every patient's revenue day per scope (its location, and
    chain-wide '_all') with the patient's previous and next revenue day in that scope
    (scope, patient_key, issued_date, previous_date, next_date), for ltv_12m's activity
    islands (kpi_financial). `revenue_days` holds one row per location, issued_date and
    patient_key.

    A patient seen at one location only (nearly every patient) has one row per day, so its
    days and their neighbours are the same at its location and chain-wide: one sort of
    `revenue_days` by patient gives both scopes. Sorting every row once per scope instead
    (and taking the distinct chain-wide days first) cost the large chain a sort of 2.2 M
    rows and a distinct over 1.1 M. A patient seen at several locations has, in date order,
    two neighbouring rows at different locations whatever the order of a day's rows, so it is
    found in the same pass; those few patients' days are sorted again per scope, a day at
    several locations counted once chain-wide.
-#}
{% macro ltv_patient_neighbours(revenue_days, name) -%}
{{ name }}__rows as (
    select
        location_id,
        patient_key,
        issued_date,
        lag(issued_date) over patient_days as previous_date,
        lead(issued_date) over patient_days as next_date,
        lag(location_id) over patient_days as previous_location_id,
        lead(location_id) over patient_days as next_location_id
    from {{ revenue_days }}
    window patient_days as (partition by patient_key order by issued_date)
),

{{ name }}__multi_location_patients as (
    select distinct patient_key
    from {{ name }}__rows
    where previous_location_id <> location_id or next_location_id <> location_id
),

{{ name }}__single_location_rows as (
    select patient_rows.*
    from {{ name }}__rows as patient_rows
    where not exists (
        select 1 from {{ name }}__multi_location_patients as multi
        where multi.patient_key = patient_rows.patient_key
    )
),

{{ name }}__multi_location_days as (
    select
        days.location_id as scope,
        days.patient_key,
        days.issued_date
    from {{ revenue_days }} as days
    inner join {{ name }}__multi_location_patients as multi on days.patient_key = multi.patient_key
    union all
    select distinct
        '_all' as scope,
        days.patient_key,
        days.issued_date
    from {{ revenue_days }} as days
    inner join {{ name }}__multi_location_patients as multi on days.patient_key = multi.patient_key
),

{{ name }} as (
    select
        location_id as scope,
        patient_key,
        issued_date,
        previous_date,
        next_date
    from {{ name }}__single_location_rows
    union all
    select
        '_all' as scope,
        patient_key,
        issued_date,
        previous_date,
        next_date
    from {{ name }}__single_location_rows
    union all
    select
        scope,
        patient_key,
        issued_date,
        lag(issued_date) over patient_days as previous_date,
        lead(issued_date) over patient_days as next_date
    from {{ name }}__multi_location_days
    window patient_days as (partition by scope, patient_key order by issued_date)
)
{%- endmacro %}
