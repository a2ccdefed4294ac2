{#-
    Which KPIs this clinic's data can compute (grain: kpi). A KPI is computable when
    every required table of kpi_requirements is present in data_coverage, and for each
    `any_of` group at least one of its tables is. Otherwise it is not computable: every KPI
    mart leaves it out (no rows, never a 0) and `reason` says why in words, e.g.
    "no phone system: calls never delivered". A table whose files all arrived and were refused
    says so, before its system is called absent: an owner whose first phone extract was
    refused has a phone system, and a file to fix.
-#}
with

requirements as (

    select * from {{ ref('kpi_requirements') }}

),

coverage as (

    select * from {{ ref('data_coverage') }}

),

checked as (

    select
        requirements.kpi,
        requirements.required_table,
        coalesce(requirements.any_of, requirements.required_table) as requirement_group,
        coalesce(coverage.status, 'absent') = 'present' as is_present,
        case
            when coverage.table_key is null
                then requirements.required_table || ' is not a contract table'
            when coverage.files_missing_columns > 0
                then
                    requirements.required_table
                    || ' delivered but refused: a file misses a contract column'
                    || ' (replace it with a complete extract, or remove it)'
            when coverage.files_refused > 0
                then requirements.required_table || ' delivered but every file was refused'
            when coverage.system_status = 'absent'
                then
                    'no ' || coverage.system || ' system: '
                    || coverage.table_name || ' never delivered'
            else requirements.required_table || ' never delivered'
        end as absence_reason
    from requirements
    left join coverage
        on requirements.required_table = coverage.table_key

),

groups as (

    select
        kpi,
        requirement_group,
        max(case when is_present then 1 else 0 end) = 1 as is_satisfied
    from checked
    group by kpi, requirement_group

),

missing as (

    select
        checked.kpi,
        checked.required_table,
        checked.absence_reason
    from checked
    inner join groups
        on
            checked.kpi = groups.kpi
            and checked.requirement_group = groups.requirement_group
    where not groups.is_satisfied

),

missing_summary as (

    select
        kpi,
        {{ dbt.listagg('required_table', "', '", 'order by required_table') }} as missing_tables,
        {{ dbt.listagg('absence_reason', "'; '", 'order by required_table') }} as reason
    from missing
    group by kpi

),

kpis as (

    select
        kpi,
        min(case when is_satisfied then 1 else 0 end) = 1 as computable
    from groups
    group by kpi

),

final as (

    select
        kpis.kpi,
        kpis.computable,
        missing_summary.missing_tables,
        missing_summary.reason
    from kpis
    left join missing_summary
        on kpis.kpi = missing_summary.kpi

)

select * from final
