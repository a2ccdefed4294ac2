{#-
    The record of what each model and seed was last built from (`dbt_state.model_inputs`,
    never published). The pipeline's dbt step writes it after dbt, for the models it built and
    whose tests passed, and leaves out of the next run a model whose code and inputs still
    match its record (orchestration/defs/dbt/unchanged.py). A record is only true of the
    table that the recorded build wrote: any other dbt command that builds the model
    (`medspa transform`, a `dbt run` typed by hand, perhaps with code that was changed and
    changed back since) makes it false, and a model left out on a false record would keep
    rows its current code never wrote.

    So every dbt invocation, before it builds anything, forgets the record of each model and
    seed it selected (on-run-start: one statement a run, nothing per model). The pipeline's
    step records again the ones it built and tested; a model built by anything else stays
    unrecorded until the next run of the pipeline builds it. A selected model that dbt then
    skips, or a run that is killed, loses its record too: it is built next time, which is
    never wrong. -#}
{% macro forget_selected_model_inputs() -%}
    {%- set relation = test_scope_relation('model_inputs') -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for unique_id in selected_resources -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {#- what the pipeline records (unchanged.py BUILT_TYPES) -#}
            {%- if node and node.resource_type in ('model', 'seed') -%}
                {%- do names.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ create_state_schema() }};
    {#- the same table as orchestration/defs/dbt/unchanged.py `record_outcome` creates -#}
    create table if not exists {{ relation }} (
        model_name varchar primary key,
        fingerprint varchar not null,
        run_id varchar
    )
    {%- if names %};
    delete from {{ relation }}
    where model_name in (
        {%- for name in names | sort %}
        '{{ name | replace("'", "''") }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}
