-- Fails when a column carrying a PHI field name exists in any schema the pipeline builds past
-- the raw layer. The names are not typed here: they are the source columns whose meta says
-- `phi: true` (the sources YAML is generated from ingestion/contract.yml), plus the raw
-- `patient_id` and `lead_id`, which staging replaces by keyed hashes (`patient_key`,
-- `lead_key`). Catches a staging model that forwards a contact, a name or a raw id by
-- `select *` or by mistake. Staff names (providers) are not PHI and are allowed.
--
-- It reads the catalogue, no model, so without the refs below dbt would run it first, before
-- this build's models exist, and a model that starts forwarding PHI would pass the build that
-- introduced it. It depends on every model nothing else is built from (the leaves of the DAG;
-- tests/dbt/test_phi_guard_runs_last.py keeps this list complete), so it runs after them all.
-- Dagster shows it as a check on kpi_scorecard, the mart every page starts from.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'kpi_scorecard'}}}) }}
-- depends_on: {{ ref('kpi_scorecard') }}
-- depends_on: {{ ref('dim_date') }}
-- depends_on: {{ ref('dim_devices') }}
-- depends_on: {{ ref('dim_providers') }}
-- depends_on: {{ ref('dim_rooms') }}
-- depends_on: {{ ref('dim_services') }}
-- depends_on: {{ ref('kpi_alerts') }}
-- depends_on: {{ ref('kpi_by_channel') }}
-- depends_on: {{ ref('kpi_by_cohort') }}
-- depends_on: {{ ref('kpi_by_cohort_provider') }}
-- depends_on: {{ ref('kpi_by_device') }}
-- depends_on: {{ ref('kpi_by_line_type') }}
-- depends_on: {{ ref('kpi_by_patient_type') }}
-- depends_on: {{ ref('kpi_by_provider') }}
-- depends_on: {{ ref('kpi_by_response_time') }}
-- depends_on: {{ ref('kpi_by_room') }}
-- depends_on: {{ ref('kpi_by_service_category') }}
-- depends_on: {{ ref('reporting_periods') }}
-- depends_on: {{ ref('stg_pos__products') }}

{%- set phi_names = ['patient_id', 'lead_id'] -%}
{%- if execute -%}
    {%- for source in graph.sources.values() -%}
        {%- for column in source.columns.values() -%}
            {%- if column.meta.get('phi') and column.name | lower not in phi_names -%}
                {%- do phi_names.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}
{%- set phi_list = "'" ~ phi_names | join("', '") ~ "'" %}

with

offending_columns as (
    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where
        table_schema in ('staging', 'intermediate', 'marts')
        and lower(column_name) in ({{ phi_list }})
        and not (
            lower(column_name) in ('first_name', 'last_name')
            and table_name in ('stg_pms__providers', 'dim_providers')
        )
),

-- the sources must carry the contract's PHI marks: without them this test would check
-- only the two ids, so a missing mark fails it too
missing_marks as (
    select
        'sources' as table_schema,
        'meta.phi' as table_name,
        'no source column is marked phi' as column_name
    where {{ phi_names | length }} <= 2
)

select * from offending_columns
union all
select * from missing_marks
