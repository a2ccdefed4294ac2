{#-
    The loader's file ledger (raw_meta.loaded_files): one row per landing file seen, loaded or
    refused. The ledger exists once the loader ran; a raw layer built without it (e.g. by hand
    for a test) gets an empty ledger here, so coverage still answers from row counts alone.
-#}
{%- set loaded_files = source('raw_meta', 'loaded_files') -%}
{%- set loaded_files_exists = execute and adapter.get_relation(
    database=loaded_files.database,
    schema=loaded_files.schema,
    identifier=loaded_files.identifier,
) is not none -%}

with

{%- if loaded_files_exists %}

    loaded_files as (
        select
            cast(system as varchar) as system,  -- noqa: RF04
            cast(table_name as varchar) as table_name,
            cast(extract_id as varchar) as extract_id,
            cast(status as varchar) as status,
            cast(loaded_at as timestamp with time zone) as loaded_at
        from {{ loaded_files }}
    )
{%- else %}

    loaded_files as (
        select
            cast(null as varchar) as system,  -- noqa: RF04
            cast(null as varchar) as table_name,
            cast(null as varchar) as extract_id,
            cast(null as varchar) as status,
            cast(null as timestamp with time zone) as loaded_at
        where 1 = 0
    )
{%- endif %}

select * from loaded_files
