{#-
    The loader's file ledger (raw_meta.loaded_files): one row per landing file seen, loaded or
    refused. The ledger exists once the loader ran; a raw layer built without it (e.g. by hand
    for a test) gets an empty ledger here, so coverage still answers from row counts alone.
    `stops_table_load`: refused because it misses a contract column, the refusal that stops
    its table's load (the reason's text is the loader's; only this verdict leaves the ledger).
-#}
{%- set loaded_files = source('raw_meta', 'loaded_files') -%}
{%- set loaded_files_exists = execute and adapter.get_relation(
    database=loaded_files.database,
    schema=loaded_files.schema,
    identifier=loaded_files.identifier,
) is not none -%}

{%- set columns = [
    ('system', 'varchar'), ('table_name', 'varchar'), ('extract_id', 'varchar'),
    ('status', 'varchar'), ('loaded_at', 'timestamp with time zone'),
    ('refusal_reason', 'varchar'),
] %}

with

loaded_files as (
    select
        {%- for name, data_type in columns %}
            cast({{ name if loaded_files_exists else 'null' }} as {{ data_type }}) as {{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    {%- if loaded_files_exists %}
        from {{ loaded_files }}
    {%- else %}
        where 1 = 0
    {%- endif %}
),

final as (
    select
        system,
        table_name,
        extract_id,
        status,
        loaded_at,
        coalesce(
            status = 'refused'
            and ends_with(refusal_reason, {{ stopping_refusal_suffix() }}),
            false
        ) as stops_table_load
    from loaded_files
)

select * from final
