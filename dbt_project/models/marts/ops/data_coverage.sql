{#-
    Which landing tables this clinic actually delivers (partial systems: a clinic may lack the
    phone system, CRM or review tools). One row per contract
    system x table (grain: table_key), whether or not an extract of it was ever seen: rows in
    the raw layer, files loaded / refused (and of those, refused for a missing contract column,
    which stops the table's load), first and last extract loaded, and status
    `present` (rows in raw, or at least one file loaded) or `absent` (never delivered, or every
    file refused: a header-only extract is refused as malformed).
    The run summary, Dagster metadata, kpi_coverage and the dashboards read this.
    The tables are the landing contract's sources (macro contract_tables).
-#}
with

row_counts as (

    select
        cast(null as varchar) as system,  -- noqa: RF04
        cast(null as varchar) as table_name,
        0 as raw_rows
    where 1 = 0
    {%- for table in contract_tables() %}

        union all

        select
            '{{ table.system }}' as system,  -- noqa: RF04
            '{{ table.table_name }}' as table_name,
            count(*) as raw_rows
        from {{ table.relation }}
    {%- endfor %}

),

files as (

    select * from {{ ref('stg_meta__loaded_files') }}

),

file_stats as (

    select
        system,
        table_name,
        count(case when status = 'loaded' then 1 end) as files_loaded,
        count(case when status = 'refused' then 1 end) as files_refused,
        count(case when stops_table_load then 1 end) as files_missing_columns,
        min(case when status = 'loaded' then extract_id end) as first_extract_id,
        max(case when status = 'loaded' then extract_id end) as last_extract_id,
        max(case when status = 'loaded' then loaded_at end) as last_loaded_at
    from files
    group by system, table_name

),

tables as (

    select
        row_counts.system || '.' || row_counts.table_name as table_key,
        row_counts.system,
        row_counts.table_name,
        row_counts.raw_rows,
        coalesce(file_stats.files_loaded, 0) as files_loaded,
        coalesce(file_stats.files_refused, 0) as files_refused,
        coalesce(file_stats.files_missing_columns, 0) as files_missing_columns,
        file_stats.first_extract_id,
        file_stats.last_extract_id,
        file_stats.last_loaded_at,
        case
            when row_counts.raw_rows > 0 or coalesce(file_stats.files_loaded, 0) > 0
                then 'present'
            else 'absent'
        end as status
    from row_counts
    left join file_stats
        on
            row_counts.system = file_stats.system
            and row_counts.table_name = file_stats.table_name

),

systems as (

    select
        system,
        case
            when max(case when status = 'present' then 1 else 0 end) = 1
                then 'present'
            else 'absent'
        end as system_status
    from tables
    group by system

),

final as (

    select
        tables.*,
        systems.system_status
    from tables
    inner join systems
        on tables.system = systems.system

)

select * from final
