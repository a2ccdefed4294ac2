{#-
    Compacting the warehouse file on a cadence instead of inside every night's run.

    DuckDB compacts a table while it checkpoints: row groups thinned by deletes, and the small
    row group each incremental insert leaves at a table's end, are merged and rewritten
    ("vacuum"). Every delete+insert build makes some of that work, and it ran inside whichever
    commit checkpointed (stalling dbt's other thread) and when dbt closed the file: on the large
    chain about 2 s of a nightly `dbt run` went to vacuuming the night's changes at the close
    alone. Deferred, the row groups a week of nights leaves are merged once.

    So every writer opens the warehouse with `max_vacuum_tasks = 0` (profiles.yml for dbt,
    ingestion/duckdb_limits.py for the loader): checkpoints still write every change, they only
    skip the merging. This on-run-end hook counts the `dbt run` / `dbt build` invocations since
    the last compaction (`dbt_state.warehouse_compaction`, never published) and on every
    `compaction_every_runs`-th one lets the checkpoint merge again: it raises `max_vacuum_tasks`
    for one CHECKPOINT, which merges every table of the file (raw layer included, whether or
    not this run changed it), sets it back to 0 and only then records the compaction.
    A scan skips deleted rows either way, so no value depends on when the compaction ran; what
    waits is the file's size and the scan time of the thinned row groups. Any invocation can
    compact now with `--vars '{compaction_every_runs: 1}'`.
-#}

{#- on-run-start: the counter, one row (before any model's transaction) -#}
{% macro create_compaction_state() -%}
    {%- set state = test_scope_relation('warehouse_compaction') -%}
    {{ create_state_schema() }};
    create table if not exists {{ state }} (
        runs_since_compaction integer not null,
        compacted_invocation_id varchar
    );
    insert into {{ state }} select 0, null where not exists (select 1 from {{ state }})
{%- endmacro %}

{#- on-run-end, last: count this run; compact when it is the due one -#}
{% macro compact_warehouse_when_due() -%}
    {%- if not execute or target.type != 'duckdb' or flags.WHICH not in ['run', 'build'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set every = var('compaction_every_runs') | int -%}
    {%- if every < 1 -%}
        {{ exceptions.raise_compiler_error(
            'var compaction_every_runs must be 1 or more (got ' ~ every ~ ')'
        ) }}
    {%- endif -%}
    {%- set state = test_scope_relation('warehouse_compaction') -%}
    {%- set runs = scalar_query('select max(runs_since_compaction) + 1 from ' ~ state) | int -%}
    {#- dbt runs on-run-end hooks outside a transaction: each statement commits on its own -#}
    {%- if runs < every %}
    update {{ state }} set runs_since_compaction = {{ runs }}
    {%- else %}
    {#- recorded after the checkpoint: a failed one is tried again by the next run -#}
    set global max_vacuum_tasks = 100; {#- DuckDB's default -#}
    checkpoint;
    set global max_vacuum_tasks = 0;
    update {{ state }} set runs_since_compaction = 0, compacted_invocation_id = '{{ invocation_id }}'
    {%- endif %}
{%- endmacro %}
