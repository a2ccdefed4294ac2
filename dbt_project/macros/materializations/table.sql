{#-
    dbt-duckdb's table materialization, building every table in place: inside the model's
    transaction the existing table is dropped and the new one created under its own name, and
    the commit makes both visible at once (DuckDB's DDL is transactional: a failed build rolls
    back to the old table). dbt-duckdb builds that way only tables with foreign keys; every
    other table it builds as `<name>__dbt_tmp`, looks up the old table's indexes, renames the
    old table to a backup and the new one into place, and drops the backup after the commit:
    three more statements, each through a macro call that builds its own context, for every
    table model of every run (about 40 ms of dbt's own work per model on 2 cores, and the
    nightly rebuilds some 50 small tables whole). The rows are the same either way.
-#}
{% materialization table, adapter="duckdb", supported_languages=['sql', 'python'] %}

  {%- set language = model['language'] -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') %}
  {%- set use_ducklake_table_workarounds = adapter.use_ducklake_table_workarounds(target_relation) -%}
  {%- set dropped_dependents = [] -%}
  {% set grant_config = config.get('grants') %}
  {#- a build of the swapping materialization that failed half-way left these (cache lookups:
      no statement unless one exists) -#}
  {{ drop_relation_if_exists(load_cached_relation(make_intermediate_relation(target_relation))) }}
  {{ drop_relation_if_exists(load_cached_relation(make_backup_relation(target_relation, 'table'))) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- set partitioned_by = duckdb__get_partitioned_by(target_relation, false) -%}
  {%- set sorted_by = duckdb__get_sorted_by(target_relation, false) -%}

  {#- drops whatever references the old table by foreign key first, as dbt-duckdb does -#}
  {% if existing_relation is not none %}
    {% set dropped_dependents = drop_relation_for_rebuild(existing_relation) %}
  {% endif %}
  {% call statement('main', language=language) -%}
    {{- create_table_as(False, target_relation, compiled_code, language, partitioned_by=partitioned_by, sorted_by=sorted_by) }}
  {%- endcall %}
  {% do restore_foreign_key_dependents(dropped_dependents) %}

  {% do create_indexes(target_relation) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% if not use_ducklake_table_workarounds %}
    {% do persist_docs(target_relation, model) %}
  {% endif %}

  -- `COMMIT` happens here
  {{ adapter.commit() }}

  {% if use_ducklake_table_workarounds %}
    {% if partitioned_by %}
      {% call statement('reassert_partitioned_by', auto_begin=False) -%}
        {{ duckdb__alter_table_set_partitioned_by(target_relation, partitioned_by) }}
      {%- endcall %}
    {% endif %}
    {% if sorted_by %}
      {% call statement('reassert_sorted_by', auto_begin=False) -%}
        {{ duckdb__alter_table_set_sorted_by(target_relation, sorted_by) }}
      {%- endcall %}
    {% endif %}
    {% do persist_docs(target_relation, model) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
