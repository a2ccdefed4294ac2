{#-
    Cohort drill-down by provider: retention_12m and visits_first_year per cohort month x
    location x the provider of the patient's first completed visit; period_start =
    cohort_month. The definitions, the finality rule and the columns are kpi_by_cohort's
    (macro cohort_rollup), with provider_id in place of the acquisition channel, so the
    providers of one cohort month and location add up to its kpi_cohorts row.
    Its own mart, not a column of kpi_by_cohort or rows of kpi_by_provider: a cohort row is
    about the patients a provider first saw in a month, not the provider's work in a period,
    and a second key on kpi_by_cohort would split every channel row that readers sum today.
-#}
with

cohorts as (
    select * from {{ ref('int_patient_cohorts') }}
),

{{ kpi_as_of_cte() }},

{{ cohort_rollup('cohorts', 'rolled', dims=['provider_id']) }}

{{ kpi_select('rolled', dims=['cohort_month', 'provider_id']) }}
