{#-
    Capacity event models (provider and device events) incremental on entity x location x day.
    Besides the rows an upstream fact's build rewrote (its touched record, macros/touched.sql),
    a day's event depends on two small inputs that no touched record names: the location's
    calendar start (int_location_calendar_starts: the first appointment of the chain or a
    location's opening moved) and the entity's own attributes (a provider becoming
    revenue-generating, a device bought earlier). The model records both after each build in
    `dbt_state.<model>__inputs` (never published; kind, id, value as text), and the next build
    recomputes every day of a location or entity whose value differs or exists on one side
    only. No record (first build, dropped state): the model rebuilds whole.
-#}

{#- The inputs as (kind, id, value) rows: one per location, one per entity of `entities`. -#}
{% macro capacity_inputs_sql(calendar, entities, entity_id, entity_value) -%}
    select
        'location' as kind,
        cast(location_id as varchar) as id,
        cast(calendar_start_date as varchar) as value
    from {{ calendar }}
    union all
    select
        'entity' as kind,
        cast({{ entity_id }} as varchar) as id,
        cast({{ entity_value }} as varchar) as value
    from {{ entities }}
{%- endmacro %}

{% macro capacity_inputs_relation() -%}
    {{ return(test_scope_relation(this.identifier ~ '__inputs')) }}
{%- endmacro %}

{#- Post-hook: the inputs this build used, for the next build to compare with. -#}
{% macro record_capacity_inputs(calendar, entities, entity_id, entity_value) -%}
    create or replace table {{ capacity_inputs_relation() }} as
    {{ capacity_inputs_sql(calendar, entities, entity_id, entity_value) }}
{%- endmacro %}

{#-
    True when the model may recompute only the days its upstreams' builds in this invocation
    touched: every upstream's touched record is complete for it (macros/touched.sql) and the
    record of its inputs exists. Evaluated at render time.
-#}
{% macro capacity_events_narrow(upstreams) -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- for upstream in upstreams -%}
        {%- if not touched_partitions_are_complete(upstream) -%}{{ return(false) }}{%- endif -%}
    {%- endfor -%}
    {%- set inputs = capacity_inputs_relation() -%}
    {{ return((scalar_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ inputs.database ~ "' and table_schema = '" ~ inputs.schema
        ~ "' and table_name = '" ~ inputs.identifier ~ "'"
    ) or 0) > 0) }}
{%- endmacro %}

{#- CTEs `changed_locations` (location_id) and `changed_entities` (entity_id): the locations
    and entities whose inputs differ from the recorded ones, or exist on one side only. -#}
{% macro capacity_changed_inputs(calendar, entities, entity_id, entity_value) -%}
    current_inputs as (
        {{ capacity_inputs_sql(calendar, entities, entity_id, entity_value) }}
    ),

    changed_inputs as (
        select
            coalesce(current_inputs.kind, recorded.kind) as kind,
            coalesce(current_inputs.id, recorded.id) as id
        from current_inputs
        full outer join {{ capacity_inputs_relation() }} as recorded
            on current_inputs.kind = recorded.kind and current_inputs.id = recorded.id
        where
            current_inputs.id is null
            or recorded.id is null
            or current_inputs.value is distinct from recorded.value
    ),

    changed_locations as (
        select changed_inputs.id as location_id from changed_inputs
        where changed_inputs.kind = 'location'
    ),

    changed_entities as (
        select changed_inputs.id as entity_id from changed_inputs
        where changed_inputs.kind = 'entity'
    )
{%- endmacro %}
