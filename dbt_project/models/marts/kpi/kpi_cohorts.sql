{#-
    Cohort KPIs, month grain only: period_start = the cohort month (local month of the
    patients' first completed visit), location_id = the first visit's location.
      retention_12m      share of the cohort with another completed visit dated after the
                         first visit's date and at most retention_window_days (365) after it
      visits_first_year  mean completed visits dated within retention_window_days from the
                         first visit's date, the first included
    is_final stays false until the cohort month's last day + 365 days has ended at the as-of
    time in every location (a return visit on that day still counts, at any location, dated in
    that location's time zone).
-#}
with

cohorts as (
    select * from {{ ref('int_patient_cohorts') }}
),

{{ kpi_as_of_cte() }},

{{ cohort_rollup('cohorts', 'rolled') }}

{{ kpi_select('rolled') }}
