{#-
    The landing contract's tables as dbt knows them: every source generated from
    ingestion/contract.yml (`medspa contract sync`), i.e. each source table whose meta names a
    primary key, sorted by (system, table). Returns a list of {system, table_name, relation}.
    Models loop over it instead of retyping the contract, so a table added to the contract is
    covered by the next `contract sync`.
    dbt fills `graph` only when it executes a model: while parsing the list is empty, so these
    models show no source lineage (the raw tables are read at run time all the same).
-#}
{% macro contract_tables() -%}
    {%- set tables = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if node.package_name == project_name and node.meta.get('primary_key') -%}
                {%- do tables.append({
                    'system': node.source_name | replace('raw_', '', 1),
                    'table_name': node.name,
                    'relation': source(node.source_name, node.name),
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(tables) }}
{%- endmacro %}
