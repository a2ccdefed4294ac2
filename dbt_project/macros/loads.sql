{#-
    Load lineage for incremental builds. The loader (dlt) stamps every raw row with the load
    that last wrote it (`_dlt_load_id`, a sortable timestamp string; loads commit one after the
    other, so a larger id is a later load) and merges on the primary key, so "the raw rows of
    loads newer than the newest one a model has built from" is exactly what changed since.

    A raw layer written without the loader (a test fixture, a hand-made warehouse) may lack the
    column: then every row counts as new (`load_id_column` gives null, `newer_loads_only`
    keeps every row), which is a full rebuild, never a missed row. A row whose load id is null
    is likewise always new.
-#}

{#- True when `relation` has a `_dlt_load_id` column (one DESCRIBE, only while executing). -#}
{% macro has_load_ids(relation) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {{ return('_dlt_load_id' in names) }}
{%- endmacro %}

{#- The raw row's load id (in a query over `relation` alone), or null when it has none. -#}
{% macro load_id_column(relation) -%}
    {%- if has_load_ids(relation) -%}
        cast(_dlt_load_id as varchar)
    {%- else -%}
        cast(null as varchar)
    {%- endif -%}
{%- endmacro %}

{#-
    A WHERE clause for a staging model's source CTE (reading `relation` alone): in an
    incremental run, only the raw rows written by loads newer than the model's watermark (see
    below; its post-hook `record_load_watermark()` records it), the watermark written into the
    SQL as a constant (`loaded_after_literal`), so DuckDB skips the raw table's older row groups
    instead of reading every row to compare it with a subquery. A full build, a model without a
    watermark or whose definition or key changed reads everything.
-#}
{% macro newer_loads_only(relation) -%}
    {%- if is_incremental() and has_load_ids(relation) %}
    where {{ loaded_after_literal('_dlt_load_id') }}
    {%- endif -%}
{%- endmacro %}

{#-
    Watermarks of the incremental models: per model, the newest load of its inputs it was built
    from and a fingerprint of its definition (SQL and the vars it reads), in one small table
    that is not a model (`dbt_state.load_watermarks`: never published). `on-run-start`
    creates it once per invocation (not per model: two threads creating it at once would
    conflict); each model's post-hook records its run inside the model's transaction, so a
    failed run records nothing. A model whose definition changed, or that has no watermark,
    treats every row as a candidate (the full comparison), so no change is ever missed.
-#}
{% macro load_watermarks_relation() -%}
    {%- if not execute -%}{{ return('dbt_state.load_watermarks') }}{%- endif -%}
    {{ return(api.Relation.create(
        database=target.database, schema='dbt_state', identifier='load_watermarks'
    )) }}
{%- endmacro %}

{#- The schema of the run state, quoted like every relation dbt renders: the database is named
    after the warehouse file, and a file named `fix-upgrade.duckdb` left unquoted is a syntax
    error in every on-run-start hook. -#}
{% macro create_state_schema() -%}
    create schema if not exists {{ adapter.quote(target.database) }}.dbt_state
{%- endmacro %}

{% macro create_load_watermarks() -%}
    {%- set relation = load_watermarks_relation() -%}
    {{ create_state_schema() }};
    create table if not exists {{ relation }} (
        model_name varchar not null,
        load_id varchar,
        definition varchar not null
    )
{%- endmacro %}

{#-
    Post-hook: record the newest load id of the `inputs` (model names) this build read; with no
    inputs, of the model itself (a staging model: its rows carry their raw load ids). It also
    records the build itself (macros/test_scope.sql: what lets the model's data tests read only
    the rows this run wrote), in the same transaction.
-#}
{% macro record_load_watermark(inputs=[], var_names=[]) -%}
    {#- delete + insert, no key: two models recording at once touch different rows -#}
    delete from {{ load_watermarks_relation() }} where model_name = '{{ this.identifier }}';
    insert into {{ load_watermarks_relation() }}
    select
        '{{ this.identifier }}' as model_name,
        max(load_id) as load_id,
        {{ definition_fingerprint(var_names) }} as definition
    from (
        {%- for name in inputs or [none] %}
            select max(_dlt_load_id) as load_id from {{ ref(name) if name else this }}
            {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as input_loads;
    {{ record_model_build(var_names) }}
{%- endmacro %}

{#-
    A one-row query: the load id this model was last built through, or null when the model
    has no watermark or its definition changed since (then every row is a candidate).
-#}
{% macro built_watermark(var_names=[]) -%}
    select max(load_id) as load_id
    from {{ load_watermarks_relation() }}
    where
        model_name = '{{ this.identifier }}'
        and definition = {{ definition_fingerprint(var_names) }}
{%- endmacro %}

{#- True (as SQL) for a row written by a load newer than `watermark` (null: always new). -#}
{% macro loaded_after(load_id, watermark) -%}
    coalesce({{ load_id }} > {{ watermark }}, true)
{%- endmacro %}

{#-
    `loaded_after` (above) with the model's watermark read once at render time and
    written into the SQL as a constant. A filter on a constant is pushed into DuckDB's table scan:
    the row groups of older loads are skipped on their min/max load id (the loader appends each
    load's rows, so a night's are in the last few), and only the matching rows' other columns
    are read. Against the watermark as a CTE or a scalar subquery, DuckDB read the load id and
    every other column of every row first (6.3 M messages at chain scale) and then filtered.
    Exact: the watermark changes only in the model's own post-hook, after the model's SQL has
    run. Without a watermark (first build, changed definition): every row, as `loaded_after`.
-#}
{% macro loaded_after_literal(load_id, var_names=[]) -%}
    {%- set watermark = scalar_query(built_watermark(var_names)) if execute and is_incremental() else none -%}
    {%- if watermark is none -%}
        true
    {%- else -%}
        ({{ load_id }} > '{{ watermark | replace("'", "''") }}' or {{ load_id }} is null)
    {%- endif -%}
{%- endmacro %}

{#-
    A one-row `any_changed` (boolean): did any of `relations` (CTE names with `_dlt_load_id`)
    get rows from a load newer than the CTE `watermark`? A change to a dimension (a location's
    time zone, a room, a service) makes every row of a fact a candidate.
-#}
{% macro any_loaded_after_watermark(relations) -%}
select exists(
    {%- for relation in relations %}
    select 1 from {{ relation }} cross join watermark
    where {{ loaded_after(relation ~ '._dlt_load_id', 'watermark.load_id') }}
    {%- if not loop.last %}
    union all{% endif %}
    {%- endfor %}
) as any_changed
{%- endmacro %}

{#-
    The end of a ledger refusal reason that stops its table's load (a file missing a contract
    column), as a SQL literal. The loader writes it (`ingestion.validate.STOPS_LOAD`, after
    "; "); tests/ingestion/test_coverage_after_refused_delivery.py holds the two texts equal.
-#}
{% macro stopping_refusal_suffix() -%}
    '; the table''s load stops until this file is replaced or removed'
{%- endmacro %}
