-- Fails when a column carrying a PHI field name exists in any schema the pipeline builds past
-- the raw layer. The names are not typed here: they are the source columns whose meta says
-- `phi: true` (the sources YAML is generated from ingestion/contract.yml), plus the raw
-- `patient_id` and `lead_id`, which staging replaces by keyed hashes (`patient_key`,
-- `lead_key`). Catches a staging model that forwards a contact, a name or a raw id by
-- `select *` or by mistake. Staff names (providers) are not PHI and are allowed.
{{ config(severity='error') }}

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
