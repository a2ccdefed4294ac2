{#-
    No KPI mart has a row for a KPI that kpi_coverage says is not computable.
    docs/kpis.md: a KPI whose source system was never delivered has no rows at all, never a row of
    nulls (room_utilization without pms.location_hours, provider_productive_share without
    pms.provider_shifts). Every kpi_* mart in the long form (the family marts, the kpi_by_*
    drill-downs, the scorecard and its alerts) is checked; kpi_by_response_time is wide (no
    `kpi` column) and read from the leads only. Fails with one row per mart and such KPI.
    Dagster shows it as a check on kpi_scorecard, the mart every page starts from.
-#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'kpi_scorecard'}}}) }}
{%- set marts = [
    'kpi_scorecard',
    'kpi_alerts',
    'kpi_financial',
    'kpi_rooms',
    'kpi_providers',
    'kpi_operations',
    'kpi_cohorts',
    'kpi_appointment_engagement',
    'kpi_engagement',
    'kpi_by_room',
    'kpi_by_device',
    'kpi_by_provider',
    'kpi_by_service_category',
    'kpi_by_line_type',
    'kpi_by_patient_type',
    'kpi_by_cohort',
    'kpi_by_cohort_provider',
    'kpi_by_channel',
] %}

with

not_computable as (
    select kpi from {{ ref('kpi_coverage') }}
    where not computable
),

published as (
    {%- for mart in marts %}
        select
            '{{ mart }}' as mart,
            kpi,
            count(*) as mart_rows
        from {{ ref(mart) }}
        group by kpi
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    published.mart,
    published.kpi,
    published.mart_rows
from published
inner join not_computable on published.kpi = not_computable.kpi
