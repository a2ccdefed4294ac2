{#-
    Data tests of an incremental fact that check only the rows this run wrote, when that still
    proves the whole table (docs/incremental-tests.md has the argument and the list of tests).

    A nightly run rewrites a few thousand rows of tables with millions; testing every row again
    cost more than building them. A row-level test (not_null, accepted_values, unique,
    unique_combination) that passed on the whole table after the model's previous build, run
    on the rows of every key the current build wrote, proves the whole table again: a
    delete+insert build changes no row outside those keys, and the test reads *every* row with
    a written key, old and new alike, so `unique` still compares new keys with old ones.

    Three small tables in `dbt_state` (never published, like dbt_state.load_watermarks) hold
    the evidence, each written inside the transaction that makes it true:
    - written_keys: per incremental model, the keys its latest incremental build wrote
      (the delete+insert strategy below records them in the statement that writes them);
    - model_builds: every build (full or incremental) of an incremental model, with the
      build before it and its definition fingerprint (post-hook `record_model_build`);
    - verified_tests: a test that passed, the fingerprint of its SQL and the build whose table
      it passed on (`on-run-end`: `record_verified_tests`).
    A test is narrowed only when the model was built incrementally in this very invocation, the
    same test (same SQL, arguments and macros) passed on the build right before it, and the
    model's definition did not change in between; in every other case (a full refresh, a first
    build, a failed or skipped test, a changed model or test, a test run on its own) it reads
    the whole table. Nothing here is read by a model: it decides only how much a test reads.
-#}

{% macro test_scope_relation(name) -%}
    {%- if not execute -%}{{ return('dbt_state.' ~ name) }}{%- endif -%}
    {{ return(api.Relation.create(database=target.database, schema='dbt_state', identifier=name)) }}
{%- endmacro %}

{#- on-run-start: the state tables (once per invocation, before any model's transaction) -#}
{% macro create_test_scope_state() -%}
    {{ create_state_schema() }};
    create table if not exists {{ test_scope_relation('written_keys') }} (
        model_name varchar not null,
        invocation_id varchar not null,
        written_key varchar
    );
    create table if not exists {{ test_scope_relation('model_builds') }} (
        model_name varchar not null,
        invocation_id varchar not null,
        previous_invocation_id varchar,
        definition varchar,
        incremental boolean not null,
        build_seq bigint not null
    );
    create table if not exists {{ test_scope_relation('verified_tests') }} (
        test_id varchar not null,
        fingerprint varchar not null,
        model_name varchar not null,
        invocation_id varchar,
        load_id varchar
    )
{%- endmacro %}

{#-
    dbt's delete+insert strategy, plus the record of the keys it wrote (one row with a null
    key marks an incremental build that wrote nothing). Same statement, same transaction.
-#}
{% macro get_incremental_delete_insert_sql(arg_dict) -%}
    {#- before the delete: the partitions of the rows about to be replaced (macros/touched.sql) -#}
    {{ record_touched_partitions(arg_dict) }}
    {{ adapter.dispatch('get_incremental_delete_insert_sql', 'dbt')(arg_dict) }};
    {%- set model_name = arg_dict['target_relation'].identifier %}
    {#- the batch under a stable name, for post-hooks that keep state about it (the temporary
        table's own name carries a timestamp); a post-hook that reads it drops it -#}
    create or replace temporary view {{ model_name }}__batch as
    select * from {{ arg_dict['temp_relation'] }};
    {%- set unique_key = arg_dict['unique_key'] %}
    {%- set keys = [unique_key] if unique_key is string else unique_key %}
    delete from {{ test_scope_relation('written_keys') }} where model_name = '{{ model_name }}';
    insert into {{ test_scope_relation('written_keys') }}
    select distinct
        '{{ model_name }}' as model_name,
        '{{ invocation_id }}' as invocation_id,
        {{ written_key_expression(keys) }} as written_key
    from {{ arg_dict['temp_relation'] }}
    union all
    select '{{ model_name }}', '{{ invocation_id }}', null
{%- endmacro %}

{#- A key as the varchar written_keys holds (a composite key: its parts joined by '|'). -#}
{% macro written_key_expression(keys) -%}
    {%- for key in keys -%}
        coalesce(cast({{ key }} as varchar), '')
        {%- if not loop.last %} || '|' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    Post-hook of every incremental model whose tests may be narrowed: this build, whether it
    was incremental (its strategy recorded keys in this invocation), the build before it and
    the model's definition. Only the newest two builds per model are kept. Runs after any hook
    that reads the strategy's `<model>__batch` view, and drops it.
-#}
{% macro record_model_build(var_names=[]) -%}
    {%- set builds = test_scope_relation('model_builds') -%}
    insert into {{ builds }}
    select
        '{{ this.identifier }}' as model_name,
        '{{ invocation_id }}' as invocation_id,
        (
            select max_by(invocation_id, build_seq) from {{ builds }}
            where model_name = '{{ this.identifier }}'
        ) as previous_invocation_id,
        {{ definition_fingerprint(var_names) }} as definition,
        exists (
            select 1 from {{ test_scope_relation('written_keys') }}
            where model_name = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
        ) as incremental,
        coalesce((
            select max(build_seq) from {{ builds }} where model_name = '{{ this.identifier }}'
        ), 0) + 1 as build_seq;
    delete from {{ builds }}
    where
        model_name = '{{ this.identifier }}'
        and build_seq < (
            select min(build_seq) from (
                select build_seq from {{ builds }} where model_name = '{{ this.identifier }}'
                order by build_seq desc limit 2
            ) as newest
        );
    {#- the strategy's view of the batch, if this build had one (its table is gone at commit) -#}
    drop view if exists {{ this.identifier }}__batch
{%- endmacro %}

{#- The tests that may be narrowed: row-level checks whose verdict on a row depends on that
    row alone (or, for uniqueness, on the rows sharing its key columns). -#}
{% macro scoped_test_names() -%}
    {{ return(['not_null', 'accepted_values', 'unique', 'unique_combination']) }}
{%- endmacro %}

{#-
    What a test may be narrowed on, or none:
    - {'kind': 'model', 'node': ...}: a delete+insert model with a unique key (for
      `unique_combination`, the key must be one of its columns), narrowed to its written keys;
    - {'kind': 'source', 'node': ...}: a raw table of the loader, narrowed to the rows of loads
      newer than the one the test last passed on (the loader stamps every row it writes with
      its load id and never rewrites a row without it: docs/incremental-tests.md).
    Only the tests in scoped_test_names(), and never one whose config says `meta: {scope: full}`.
-#}
{% macro scoped_test_target(test_node) -%}
    {%- set metadata = test_node.test_metadata -%}
    {%- if not metadata or metadata.name not in scoped_test_names() -%}{{ return(none) }}{%- endif -%}
    {%- if (test_node.config.get('meta') or {}).get('scope') == 'full' -%}{{ return(none) }}{%- endif -%}
    {%- set parents = test_node.depends_on.nodes | list -%}
    {%- if parents | length != 1 -%}{{ return(none) }}{%- endif -%}
    {%- if parents[0] in graph.sources -%}
        {%- if metadata.name == 'unique_combination' -%}{{ return(none) }}{%- endif -%}
        {{ return({'kind': 'source', 'node': graph.sources[parents[0]]}) }}
    {%- endif -%}
    {%- if parents[0] not in graph.nodes -%}{{ return(none) }}{%- endif -%}
    {%- set node = graph.nodes[parents[0]] -%}
    {%- set config = node.config -%}
    {%- if config.materialized != 'incremental' or config.incremental_strategy != 'delete+insert'
        or not config.unique_key -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set keys = [config.unique_key] if config.unique_key is string else config.unique_key -%}
    {%- if metadata.name == 'unique_combination' -%}
        {%- set arguments = metadata.kwargs.get('arguments') or metadata.kwargs -%}
        {%- if not (keys | select('in', arguments.get('columns', [])) | list) -%}{{ return(none) }}{%- endif -%}
    {%- endif -%}
    {{ return({'kind': 'model', 'node': node}) }}
{%- endmacro %}

{#- The relation a scoped target names (a model's table or a source's raw table). -#}
{% macro scoped_target_relation(target_info) -%}
    {%- set node = target_info.node -%}
    {%- if target_info.kind == 'source' -%}
        {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) }}
    {%- endif -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}

{#- The fingerprint of a test's SQL: its template, arguments, config and the project's macros
    (macros/definitions.sql says why all of them, not the ones dbt lists as called).
    `macros_fingerprint`: that hash when the caller already has it (on-run-end fingerprints every
    passed test in one context, which has no node to cache it in). -#}
{% macro test_fingerprint(test_node, macros_fingerprint=none) -%}
    {%- set parts = [
        test_node.raw_code,
        test_node.test_metadata.name,
        tojson(test_node.test_metadata.kwargs, sort_keys=true),
        tojson(test_node.config.get('where'), sort_keys=true),
        tojson(test_node.config.get('meta'), sort_keys=true),
    ] -%}
    {%- do parts.append(macros_fingerprint or project_macros_fingerprint()) -%}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#- One value of a one-row, one-column query (none without a row, or while parsing). -#}
{% macro scalar_query(sql) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set values = run_query(sql).columns[0].values() -%}
    {{ return(values[0] if values else none) }}
{%- endmacro %}

{#-
    A model test's predicate: the keys its model's build in this invocation wrote, when that
    build was incremental, the same test passed on the build right before it and the model's
    definition did not change in between; else ''.
-#}
{% macro written_keys_predicate(node) -%}
    {%- set builds = test_scope_relation('model_builds') -%}
    {%- set verified = test_scope_relation('verified_tests') -%}
    {%- set allowed = scalar_query(
        "select count(*) from " ~ builds ~ " as current_build
        inner join " ~ builds ~ " as previous_build
            on current_build.model_name = previous_build.model_name
            and current_build.previous_invocation_id = previous_build.invocation_id
        inner join " ~ verified ~ " as verified
            on verified.model_name = previous_build.model_name
            and verified.invocation_id = previous_build.invocation_id
        where current_build.model_name = '" ~ node.alias ~ "'
            and current_build.invocation_id = '" ~ invocation_id ~ "'
            and current_build.incremental
            and current_build.definition = previous_build.definition
            and verified.test_id = '" ~ model.unique_id ~ "'
            and verified.fingerprint = '" ~ test_fingerprint(model) ~ "'"
    ) -%}
    {%- if not allowed -%}{{ return('') }}{%- endif -%}
    {%- set keys = [node.config.unique_key] if node.config.unique_key is string else node.config.unique_key -%}
    {%- set predicate -%}
        {{ written_key_expression(keys) }} in (
            select written_key from {{ test_scope_relation('written_keys') }}
            where model_name = '{{ node.alias }}' and invocation_id = '{{ invocation_id }}'
        )
    {%- endset -%}
    {{ return(predicate) }}
{%- endmacro %}

{#-
    A source test's predicate: the rows of loads newer than the newest one the same test passed
    on; for `unique`, every row sharing a value with such a row (old rows too); else ''.
-#}
{% macro newer_loads_predicate(relation) -%}
    {#- one round trip: whether the table has load ids (as has_load_ids() asks, without a
        catalog query of dbt's own) and the load the same test last passed on -#}
    {%- set verified_load = scalar_query(
        "select max(load_id) from " ~ test_scope_relation('verified_tests') ~ "
        where test_id = '" ~ model.unique_id ~ "'
            and fingerprint = '" ~ test_fingerprint(model) ~ "'
            and load_id is not null
            and exists (" ~ load_id_column_sql(relation) ~ ")"
    ) -%}
    {%- if verified_load is none -%}{{ return('') }}{%- endif -%}
    {%- set newer = loaded_after('_dlt_load_id', "'" ~ verified_load ~ "'") -%}
    {%- if model.test_metadata.name == 'unique' -%}
        {%- set column = model.test_metadata.kwargs.column_name -%}
        {{ return(column ~ ' in (select ' ~ column ~ ' from ' ~ relation ~ ' where ' ~ newer ~ ')') }}
    {%- endif -%}
    {{ return(newer) }}
{%- endmacro %}

{#- A query with a row when `relation` has the loader's `_dlt_load_id` column. -#}
{% macro load_id_column_sql(relation) -%}
    select 1 from duckdb_columns()
    where database_name = '{{ relation.database }}' and schema_name = '{{ relation.schema }}'
        and table_name = '{{ relation.identifier }}' and column_name = '_dlt_load_id'
{%- endmacro %}

{#-
    Whether the dbt_state tables exist: always in `dbt build` and `dbt test`, whose on-run-start
    creates them before any node (no catalog lookup per test: dbt does not cache the dbt_state
    schema, so each lookup was a query); otherwise (compile, docs, show) asked.
-#}
{% macro test_scope_state_exists() -%}
    {%- if flags.WHICH in ['build', 'test'] -%}{{ return(true) }}{%- endif -%}
    {{ return(adapter.get_relation(target.database, 'dbt_state', 'verified_tests') is not none) }}
{%- endmacro %}

{#-
    SQL predicate narrowing the current test (`model` is the test node while it compiles), or ''
    when the whole table must be read (see the header for when).
-#}
{% macro written_rows_predicate() -%}
    {%- if not execute or model.resource_type != 'test' -%}{{ return('') }}{%- endif -%}
    {%- set target_info = scoped_test_target(model) -%}
    {%- if target_info is none -%}{{ return('') }}{%- endif -%}
    {%- if not test_scope_state_exists() -%}{{ return('') }}{%- endif -%}
    {%- if target_info.kind == 'source' -%}
        {{ return(newer_loads_predicate(scoped_target_relation(target_info))) }}
    {%- endif -%}
    {{ return(written_keys_predicate(target_info.node)) }}
{%- endmacro %}

{#-
    dbt's wrapper around every generic test's model, narrowed when written_rows_predicate()
    allows it (combined with the test's own `where`, if any).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set predicates = [config.get('where', ''), written_rows_predicate()] | select | list -%}
    {%- if predicates -%}
        {%- set filtered -%}
            (select * from {{ relation }} where ({{ predicates | join(') and (') }})) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#-
    on-run-end: every test in scope that passed, with what it passed on: for a model, its newest
    build (tests run after their model); for a source, the newest load in the raw table. One
    catalog query says which raw tables have load ids, and each raw table's newest load is read
    once, however many of its tests passed.
-#}
{% macro record_verified_tests(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set rows = [] -%}
    {%- set sources = {} -%}
    {%- set macros_fingerprint = project_macros_fingerprint() -%}
    {%- for result in results if result.node.resource_type == 'test' and result.status == 'pass' -%}
        {%- set target_info = scoped_test_target(result.node) -%}
        {%- if target_info is not none -%}
            {%- set relation = scoped_target_relation(target_info) -%}
            {%- if target_info.kind == 'source' -%}{%- do sources.update({relation | string: relation}) -%}{%- endif -%}
            {%- do rows.append({
                'test_id': result.node.unique_id,
                'fingerprint': test_fingerprint(result.node, macros_fingerprint),
                'kind': target_info.kind,
                'model_name': target_info.node.alias if target_info.kind == 'model' else relation | string,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not rows -%}{{ return('') }}{%- endif -%}
    {%- set with_load_ids = [] -%}
    {%- if sources -%}
        {%- set columns = run_query(
            "select database_name, schema_name, table_name from duckdb_columns()
            where column_name = '_dlt_load_id'"
        ) -%}
        {%- set found = [] -%}
        {%- for row in columns.rows -%}{%- do found.append(row[0] ~ '.' ~ row[1] ~ '.' ~ row[2]) -%}{%- endfor -%}
        {%- for name, relation in sources.items()
            if (relation.database ~ '.' ~ relation.schema ~ '.' ~ relation.identifier) in found -%}
            {%- do with_load_ids.append(name) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set record_sql -%}
    {%- set builds = test_scope_relation('model_builds') -%}
    {%- set verified = test_scope_relation('verified_tests') -%}
    create or replace temporary table verified_now as
    with

    newest_builds as (
        select model_name, max_by(invocation_id, build_seq) as invocation_id
        from {{ builds }}
        group by model_name
    ),

    newest_loads as (
        select
            cast(null as varchar) as relation_name,
            cast(null as varchar) as load_id
        where false
        {%- for name in with_load_ids %}
        union all
        select
            '{{ name }}' as relation_name,
            max(_dlt_load_id) as load_id
        from {{ name }}
        {%- endfor %}
    ),

    passed (test_id, fingerprint, kind, model_name) as (
        values
        {%- for row in rows %}
        ('{{ row.test_id }}', '{{ row.fingerprint }}', '{{ row.kind }}', '{{ row.model_name }}')
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    )

    select
        passed.test_id,
        passed.fingerprint,
        passed.model_name,
        newest_builds.invocation_id,
        newest_loads.load_id
    from passed
    left join newest_builds
        on passed.kind = 'model' and passed.model_name = newest_builds.model_name
    left join newest_loads
        on passed.kind = 'source' and passed.model_name = newest_loads.relation_name;
    delete from {{ verified }} where test_id in (select test_id from verified_now);
    insert into {{ verified }} by name
    select * from verified_now where invocation_id is not null or load_id is not null;
    drop table verified_now
    {%- endset -%}
    {#- run here and committed: the looks at the raw tables above opened a transaction on this
        connection, which dbt would roll back after the hook -#}
    {%- do run_query(record_sql) -%}
    {%- do adapter.commit() -%}
    {{ return('') }}
{%- endmacro %}
