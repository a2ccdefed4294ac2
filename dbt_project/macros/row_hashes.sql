{#-
    Row hashes of a built fact, so that a nightly run can tell which of its candidate rows
    differ from the built ones without reading the built rows themselves.

    `changed_since_built` (macros/incremental.sql) compares each candidate with the built row
    of the same key. DuckDB reads every column of every built row for that (it does not push
    the candidates' keys into the scan: a semi-join, an IN list and a rowid lookup all
    decompress the whole table), which was most of `fct_appointments`' nightly cost at chain
    scale (1.1 M rows x 36 columns for some 14 k candidates). A fact that keeps its row hashes
    (`dbt_state.<fact>__row_hashes`: key, a 64-bit hash of the other columns; never
    published) compares the candidate's hash with the recorded one instead, reading two
    narrow columns.

    The record is written by the fact's post-hook `record_row_hashes`, in the transaction that
    writes the rows: an incremental build on a current record replaces the hashes of its batch
    (delete+insert leaves every other row as it was), anything else rehashes the whole table.
    It is current (`row_hashes_are_current`) only when its marker (in
    dbt_state.load_watermarks, `<fact>:row_hashes`) names the fact's latest build and the
    fact's definition is unchanged: a build by code that keeps no record, a failed build (rolled
    back with its rows) or a changed definition makes the next run compare the built rows in full
    and rehash. Equal hashes of different rows (a 2^-64 chance per changed row) would keep
    the old row, the same guarantee as the identity fingerprints; a hash that differs for
    equal rows (a DuckDB upgrade changing hash()) rewrites rows that did not change, never
    keeps a wrong one.
-#}

{% macro row_hashes_relation(model_name=none) -%}
    {{ return(test_scope_relation((model_name or this.identifier) ~ '__row_hashes')) }}
{%- endmacro %}

{#- The built table's columns other than `key`, in table order: what a row hash covers. -#}
{% macro row_hash_columns(key) -%}
    {{ return(adapter.get_columns_in_relation(this) | map(attribute='name') | reject('equalto', key) | list) }}
{%- endmacro %}

{#- SQL: the row hash of `alias`'s row over `columns` (row_hash_columns). -#}
{% macro row_hash(alias, columns) -%}
    hash(
        {%- for column in columns %}
        {{ alias }}.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#-
    Is `model_name`'s record (default: the current model's) in step with its built table: its
    marker names the model's latest build (and, for the current model, the definition is
    unchanged)? Asked while compiling and again in the post-hook, before the build records
    itself (record_load_watermark). Another model asking about `model_name` gets the same answer
    in a full build of its own as in an incremental one (it hashes its inputs the same way).
-#}
{% macro row_hashes_are_current(model_name=none, var_names=[]) -%}
    {%- if not execute or (not model_name and not is_incremental()) -%}{{ return(false) }}{%- endif -%}
    {%- set name = model_name or this.identifier -%}
    {%- set current = scalar_query(
        "select count(*) from " ~ load_watermarks_relation() ~ " as marker
        where marker.model_name = '" ~ name ~ ":row_hashes'
            " ~ ("" if model_name else "and marker.definition = " ~ definition_fingerprint(var_names)) ~ "
            and marker.load_id = (
                select max_by(invocation_id, build_seq) from " ~ test_scope_relation('model_builds') ~ "
                where model_name = '" ~ name ~ "'
            )
            and exists (
                select 1 from information_schema.tables
                where table_catalog = '" ~ target.database ~ "' and table_schema = 'dbt_state'
                    and table_name = '" ~ name ~ "__row_hashes'
            )"
    ) -%}
    {{ return((current or 0) > 0) }}
{%- endmacro %}

{#-
    Post-hook (before record_load_watermark, which drops the strategy's `<model>__batch` view):
    bring the record in step with the table. An incremental build on a current record replaces
    the hashes of its batch; anything else (a first or full build, a missing or stale record)
    rehashes the whole table.
-#}
{% macro record_row_hashes(key, var_names=[]) -%}
    {%- set state = row_hashes_relation() -%}
    {%- set columns = row_hash_columns(key) -%}
    {%- set batch_written = (scalar_query(
        "select count(*) from " ~ test_scope_relation('written_keys') ~ "
        where model_name = '" ~ this.identifier ~ "' and invocation_id = '" ~ invocation_id ~ "'"
    ) or 0) > 0 -%}
    create table if not exists {{ state }} ({{ key }} varchar, row_hash ubigint);
    {%- if batch_written and row_hashes_are_current(var_names=var_names) %}
    delete from {{ state }}
    where {{ key }} in (select batch.{{ key }} from {{ this.identifier }}__batch as batch);
    insert into {{ state }}
    select batch.{{ key }}, {{ row_hash('batch', columns) }}
    from {{ this.identifier }}__batch as batch;
    {%- else %}
    create or replace table {{ state }} as
    select built.{{ key }}, {{ row_hash('built', columns) }} as row_hash
    from {{ this }} as built;
    {%- endif %}
    delete from {{ load_watermarks_relation() }} where model_name = '{{ this.identifier }}:row_hashes';
    insert into {{ load_watermarks_relation() }}
    select '{{ this.identifier }}:row_hashes', '{{ invocation_id }}', {{ definition_fingerprint(var_names) }}
{%- endmacro %}
