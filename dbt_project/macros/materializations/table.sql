{#-
    The project's `table` materialization on DuckDB: the model's table is replaced in place,
    inside one transaction (drop, create, docs, commit), instead of dbt-duckdb's
    build-under-a-temporary-name, rename the old one away, rename the new one in, drop the old
    one. DuckDB's transactions make the in-place swap atomic for readers already (they see the
    old table until the commit), so the renames, the index and foreign-key look-ups and the
    temporary relations only cost statements and adapter-cache work for every one of the
    project's ~80 tables on every run. This project declares no foreign keys, indexes or grants
    on its tables; pre- and post-hooks and persist_docs behave as in dbt-duckdb's.
-#}
{% materialization table, adapter='duckdb', supported_languages=['sql'] %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is not none %}
        {% do adapter.ensure_transaction() %}
        {% do adapter.drop_relation(existing_relation) %}
    {%- endif %}

    {% call statement('main') -%}
        {{ create_table_as(False, target_relation, compiled_code) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
    {% do persist_docs(target_relation, model) %}

    -- `COMMIT` happens here
    {{ adapter.commit() }}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
