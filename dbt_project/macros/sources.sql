{#-
    The landing contract's tables: every source generated from ingestion/contract.yml
    (`medspa contract sync`), sorted by (system, table). Returns a list of
    {system, table_name, relation}. Models loop over it instead of retyping the contract, so a
    table added to the contract is covered by the next `contract sync`.
    The names come from the generated, static `contract_table_names()`, so `source()` is called
    for each while dbt parses too: every raw table is a parent of the model (its lineage in
    Dagster, and what makes the nightly build it again when any of them changed).
-#}
{% macro contract_tables() -%}
    {%- set tables = [] -%}
    {%- for source_name, table_name in contract_table_names() -%}
        {%- do tables.append({
            'system': source_name | replace('raw_', '', 1),
            'table_name': table_name,
            'relation': source(source_name, table_name),
        }) -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}
