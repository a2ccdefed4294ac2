{#-
    Cohort drill-down: retention_12m and visits_first_year per cohort month x location x
    acquisition channel (patients without a channel: 'unknown'); period_start = cohort_month.
-#}
with

cohorts as (
    select * from {{ ref('int_patient_cohorts') }}
),

{{ kpi_as_of_cte() }},

{{ cohort_rollup('cohorts', 'rolled', dims=['acquisition_channel']) }}

{{ kpi_select('rolled', dims=['cohort_month', 'acquisition_channel']) }}
