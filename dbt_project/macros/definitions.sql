{#-
    What an incremental model's rows were computed by, and what happens when that changes.

    An incremental model keeps rows an earlier build computed. They stay right only while the
    code that computed them is the code that runs now: the model's SQL and config, the vars it
    reads, every macro it may call, the project's `results_version` (what computes rows outside
    models and macros: profiles.yml's session settings and plugins, DuckDB's version), and the
    pseudonymisation key. Each build records a
    fingerprint of that code; a build whose fingerprint differs from the recorded one (or that
    finds none: a warehouse built before the record existed) is a full refresh of that model,
    exactly as `--full-refresh` would make it. Without this, rows built before an upgrade kept
    the old code's values until they happened to fall inside a night's recompute.

    Why every macro of the project, not only those the model calls: dbt records the macros a
    node calls as it renders, so the list grows while a model runs (its pre-hook's calls are
    added before its post-hook renders) and never holds those called only under
    `is_incremental()`, which is false while parsing. A fingerprint over that list was either
    blind (read from the parsed graph) or unstable within one build (read from the node). The
    whole project's macros are one stable set: a macro edit rebuilds every incremental model
    once, the cost of one full build, and misses nothing.
-#}

{#- A hash of every macro of this project (name and source), the dbt version and the project's
    `results_version` (what computes rows outside models and macros: the session's settings,
    DuckDB's version), computed once per node context (macros render in the node's context:
    `model` is that context's own dict, so the cache never outlives the node). -#}
{% macro project_macros_fingerprint() -%}
    {%- set cache = model if model is mapping else {} -%}
    {%- if '_project_macros_fingerprint' not in cache -%}
        {%- set namespace = context[project_name] -%}
        {%- set parts = [dbt_version, 'results_version=' ~ var('results_version')] -%}
        {%- for name in namespace.keys() | sort -%}
            {%- do parts.append(name ~ ':' ~ namespace[name].macro.macro_sql) -%}
        {%- endfor -%}
        {%- do cache.update({'_project_macros_fingerprint': local_md5(parts | join('|'))}) -%}
    {%- endif -%}
    {{ return(cache['_project_macros_fingerprint']) }}
{%- endmacro %}

{#- A hash of the model's own code: its SQL, the config that shapes its build (key, strategy,
    hooks, wherever they are set) and the project's macros. -#}
{% macro model_code_fingerprint() -%}
    {%- set config_parts = {} -%}
    {%- for key in ['materialized', 'unique_key', 'incremental_strategy', 'pre-hook', 'post-hook', 'meta'] -%}
        {%- do config_parts.update({key: model.config.get(key)}) -%}
    {%- endfor -%}
    {{ return(local_md5(model.raw_code ~ '|' ~ tojson(config_parts, sort_keys=true)
        ~ '|' ~ project_macros_fingerprint())) }}
{%- endmacro %}

{#- SQL: the check value of the pseudonymisation key (the keyed hash of a fixed text, which
    reveals nothing of the key). A new key changes every hash, so every row must be rebuilt;
    the key itself never appears in compiled SQL. -#}
{% macro key_check_value() -%}
    {{ pseudonymize("'load-watermark'") }}
{%- endmacro %}

{#-
    SQL for the fingerprint of the model's definition as the incremental paths compare it: its
    code (above), the values of `var_names` (the vars its rows depend on) and the key's check
    value. Recorded beside each watermark, touched record and row hash, so a changed var or
    key makes every row a candidate there.
-#}
{% macro definition_fingerprint(var_names=[]) -%}
    {%- set parts = [] -%}
    {%- if execute -%}
        {%- do parts.append(model_code_fingerprint()) -%}
        {%- for name in var_names %}{% do parts.append(name ~ '=' ~ var(name)) %}{% endfor -%}
    {%- endif -%}
    '{{ local_md5(parts | join('|')) if execute }}:' || {{ key_check_value() }}
{%- endmacro %}

{#- SQL: the code fingerprint a build records for the full-refresh decision (no vars: a var
    change is handled row by row by the incremental paths, above). -#}
{% macro code_definition_sql() -%}
    '{{ model_code_fingerprint() }}:' || {{ key_check_value() }}
{%- endmacro %}

{#-
    dbt's own `should_full_refresh` (global project), plus: an incremental model whose recorded
    code fingerprint is missing or differs from its current one is rebuilt from scratch. dbt's
    incremental materialization and `is_incremental()` both ask this macro, so the model's SQL,
    its hooks and its materialization agree. A model configured `full_refresh: false` keeps its
    rows whatever changed, as dbt documents for that setting.
-#}
{% macro should_full_refresh() -%}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}{{ return(configured) }}{%- endif -%}
    {%- if flags.FULL_REFRESH -%}{{ return(true) }}{%- endif -%}
    {{ return(code_definition_changed()) }}
{%- endmacro %}

{#- True when this incremental model's code changed since its last build or was never
    recorded; one query per node context (cached in `model`, as above). -#}
{% macro code_definition_changed() -%}
    {%- if not execute or model is not mapping or model.get('resource_type') != 'model'
        or config.get('materialized') != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if '_code_definition_changed' not in model -%}
        {%- set record = load_watermarks_relation() -%}
        {%- set table = adapter.get_relation(record.database, record.schema, record.identifier) -%}
        {%- set changed = table is none or scalar_query(
            "select count(*) = 0 from " ~ record ~ " where model_name = '" ~ this.identifier
            ~ ":definition' and definition = " ~ code_definition_sql()) -%}
        {%- do model.update({'_code_definition_changed': changed}) -%}
    {%- endif -%}
    {{ return(model['_code_definition_changed']) }}
{%- endmacro %}

{#- Project-wide post-hook: an incremental model records the code it was built by, inside
    its build's transaction (dbt_state.load_watermarks, under `<model>:definition`). -#}
{% macro record_model_definition() -%}
    {%- if config.get('materialized') == 'incremental' -%}
    delete from {{ load_watermarks_relation() }} where model_name = '{{ this.identifier }}:definition';
    insert into {{ load_watermarks_relation() }} (model_name, load_id, definition)
    select '{{ this.identifier }}:definition', null, {{ code_definition_sql() }}
    {%- endif -%}
{%- endmacro %}
