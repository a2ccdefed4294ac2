{#-
    Partitions an incremental build touched, for the aggregates built from its table.

    An aggregate over a fact (revenue events per location and day) changes only in the
    partitions holding a row the fact's build rewrote, before or after the change: a line
    re-dated or moved to another location changes both its old day and its new one. The fact's
    delete+insert strategy knows both sides for a moment (the batch, and the built rows it is
    about to replace), so a fact whose config names `meta: {touched_columns: [...]}` records
    the distinct values of those columns on both sides, with its invocation id, in
    `dbt_state.<fact>__touched` (never published), in the statement list that writes the rows:
    a failed build records nothing. A build that wrote no row records one marker row, so an
    aggregate can tell "nothing touched" from "no record of this build".

    An aggregate may read only the partitions of one build of the fact: the fact's build in this
    invocation, when it was incremental and the build right before it is the one the
    aggregate was last built after, and the aggregate's definition is unchanged
    (`touched_partitions_are_complete`). In every other case it rebuilds whole.
-#}

{% macro touched_relation(model_name) -%}
    {{ return(test_scope_relation(model_name ~ '__touched')) }}
{%- endmacro %}

{#- Called by the delete+insert strategy before it deletes (macros/test_scope.sql).
    With `meta: {touched_rows: 'changed'}` only the rows that differ between the two sides
    are recorded (the touched columns and a 64-bit hash of every column, compared as
    multisets; a hash collision, 2^-64 as for the identity fingerprints in
    macros/incremental.sql, could hide one changed row): for a model that rewrites whole
    entities (every appointment of a patient) whose rows mostly come back unchanged, so the
    record names only the partitions whose rows really changed. `marker_rows` (SQL) names the
    batch's marker rows (written only so their key's built rows are deleted, then removed by a
    post-hook): they are left out of the comparison, so a key recomputed with the same rows
    records nothing, and one left without rows records its built rows' partitions.
    `touched_rows: 'batch'`: only the batch's side, for a model whose pre-hook already deleted
    (and recorded, `record_deleted_partitions`) every built row of the batch's keys, so the
    strategy's "before" side is always empty and reading it cost a scan of the table. -#}
{% macro record_touched_partitions(arg_dict) -%}
    {%- set columns = (config.get('meta') or {}).get('touched_columns') -%}
    {%- if columns -%}
        {%- set target_relation = arg_dict['target_relation'] -%}
        {%- set source = arg_dict['temp_relation'] -%}
        {%- set unique_key = arg_dict['unique_key'] -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set state = touched_relation(target_relation.identifier) -%}
        {#- the built rows of the batch's keys: a hash semi-join on each key column (a row
            value `(a, b) in (select ...)` was compared row by row) -#}
        {%- set built -%}
        select * from {{ target_relation }} as built_row
        where exists (
            select 1 from {{ source }} as batch_row
            where
                {%- for key in keys %}
                built_row.{{ key }} = batch_row.{{ key }}{{ ' and' if not loop.last }}
                {%- endfor %}
        )
        {%- endset %}
        {{ prepare_touched_record(target_relation, columns) }}
        {%- set meta = config.get('meta') or {} %}
        {%- if meta.get('touched_rows') == 'changed' %}
            {#- the touched columns and a 64-bit hash of the whole row: a narrow row to compare
                (a whole rewrite, after a definition change, compares millions of them); the
                built side is read once, into a temporary table both comparisons use -#}
            {%- set all_columns = columns | join(', ') ~ ', hash(' ~ get_quoted_csv(
                arg_dict['dest_columns'] | map(attribute='name')) ~ ') as row_hash' %}
            {%- set built_rows = target_relation.identifier ~ '__touched_built' %}
            {%- set written -%}
            select {{ all_columns }} from {{ source }}
            {%- if meta.get('marker_rows') %}
            where not coalesce({{ meta.get('marker_rows') }}, false)
            {%- endif %}
            {%- endset %}
        create or replace temporary table {{ built_rows }} as
        select {{ all_columns }} from ({{ built }}) as built;
        insert into {{ state }}
        select distinct {{ columns | join(', ') }}, '{{ invocation_id }}', false
        from (
            (
                select * from {{ built_rows }}
                except all
                {{ written }}
            )
            union all
            (
                {{ written }}
                except all
                select * from {{ built_rows }}
            )
        ) as changed
        union all
        select
            {%- for column in columns %} null,{% endfor %} '{{ invocation_id }}', true;
        drop table {{ built_rows }};
        {%- else %}
        insert into {{ state }}
        {%- if meta.get('touched_rows') != 'batch' %}
        select distinct {{ columns | join(', ') }}, '{{ invocation_id }}', false
        from ({{ built }}) as built
        union
        {%- endif %}
        select distinct {{ columns | join(', ') }}, '{{ invocation_id }}', false
        from {{ source }}
        union all
        select
            {%- for column in columns %} null,{% endfor %} '{{ invocation_id }}', true;
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- The model's record, with `columns`, holding only what this invocation's build wrote into
    it so far (a pre-hook's deleted partitions, below). A record written with other columns
    (the fact's `touched_columns` changed) is replaced: the record holds one build's
    partitions only, so nothing is lost. -#}
{% macro prepare_touched_record(target_relation, columns) -%}
    {%- set state = touched_relation(target_relation.identifier) -%}
    {%- set recorded = scalar_query(
        "select coalesce(string_agg(column_name, ',' order by ordinal_position), '')
        from information_schema.columns where table_catalog = '" ~ state.database
        ~ "' and table_schema = '" ~ state.schema ~ "' and table_name = '" ~ state.identifier ~ "'"
    ) -%}
    {%- if recorded and recorded != (columns + ['invocation_id', 'is_marker']) | join(',') %}
    drop table {{ state }};
    {%- endif %}
    create table if not exists {{ state }} as
    select {{ columns | join(', ') }}, cast(null as varchar) as invocation_id, true as is_marker
    from {{ target_relation }}
    limit 0;
    delete from {{ state }} where invocation_id is distinct from '{{ invocation_id }}';
{%- endmacro %}

{#-
    For a pre-hook that deletes built rows before the strategy runs (so the strategy never sees
    them as the "before" side): record the partitions of the rows `condition` (SQL over the
    model's own table, `this`) is about to delete, when the model keeps a touched record.
    A day left without events is then still named, though no new row is written there.
-#}
{% macro record_deleted_partitions(condition='true') -%}
    {%- set columns = (config.get('meta') or {}).get('touched_columns') -%}
    {%- if columns and is_incremental() %}
    {{ prepare_touched_record(this, columns) }}
    insert into {{ touched_relation(this.identifier) }}
    select distinct {{ columns | join(', ') }}, '{{ invocation_id }}', false
    from {{ this }}
    where {{ condition }};
    {%- endif -%}
{%- endmacro %}

{#-
    True when the current model (an aggregate of `upstream`) may rebuild only the partitions
    upstream's build in this invocation touched (see the header). `null_free` columns must be
    non-null in every touched partition (a null partition key cannot be deleted by equality):
    otherwise the aggregate rebuilds whole. `var_names`: the vars in the model's definition
    fingerprint (as its record_model_build got them). Evaluated at render time; nothing the model's
    pre-hook, SQL or post-hooks write changes the answer before its own record_model_build.
-#}
{% macro touched_partitions_are_complete(upstream, null_free=[], var_names=[]) -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {#- The catalog itself, not dbt's relation cache: the record is created by the upstream's
        first incremental build, in this invocation, after the cache was filled. -#}
    {%- if not scalar_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and table_schema = 'dbt_state' and table_name = '"
        ~ upstream ~ "__touched'"
    ) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set touched = touched_relation(upstream) -%}
    {%- set null_checks = [] -%}
    {%- for column in null_free %}{% do null_checks.append(column ~ ' is null') %}{% endfor -%}
    {{ return(built_right_after_own_build(upstream, var_names,
        "exists (
            select 1 from " ~ touched ~ "
            where invocation_id = '" ~ invocation_id ~ "' and is_marker
        )
        and not exists (
            select 1 from " ~ touched ~ "
            where not is_marker and (" ~ (null_checks | join(' or ') or 'false') ~ ")
        )"
    )) }}
{%- endmacro %}

{#-
    True when `upstream` was built incrementally in this invocation, right after the build the
    current model was last built after, and the current model's definition fingerprint is
    unchanged since (rules 1-3 of the header), and `condition` (SQL) holds. Evaluated at render
    time, from dbt_state.model_builds.
-#}
{% macro built_right_after_own_build(upstream, var_names=[], condition='true') -%}
    {%- set builds = test_scope_relation('model_builds') -%}
    {%- set count = scalar_query(
        "select count(*) from " ~ builds ~ " as upstream_build
        inner join " ~ builds ~ " as own_build
            on own_build.model_name = '" ~ this.identifier ~ "'
            and own_build.build_seq = (
                select max(build_seq) from " ~ builds ~ " where model_name = '" ~ this.identifier ~ "'
            )
        where upstream_build.model_name = '" ~ upstream ~ "'
            and upstream_build.invocation_id = '" ~ invocation_id ~ "'
            and upstream_build.incremental
            and upstream_build.previous_invocation_id = own_build.invocation_id
            and own_build.definition = " ~ definition_fingerprint(var_names) ~ "
            and " ~ condition
    ) -%}
    {{ return((count or 0) > 0) }}
{%- endmacro %}

{#-
    Pre-hook of an aggregate of `upstream`: in an incremental run, delete the partitions it is
    about to rebuild (`own_columns` of the aggregate = `columns` of the touched record), or
    every row when it must rebuild whole. Deleting first (not through the strategy's delete of
    the batch's keys) also empties a partition that has no row left (a location-day without a
    paid line; a patient whose only completed visit moved to another patient). `var_names`:
    the vars in the model's definition fingerprint, as for `touched_partitions_are_complete`.
-#}
{% macro clear_touched_partitions(upstream, columns, own_columns, var_names=[]) -%}
    {%- if is_incremental() -%}
        {%- if touched_partitions_are_complete(upstream, columns, var_names) %}
            {%- set touched_condition -%}
    exists (
        select 1 from {{ touched_relation(upstream) }} as touched
        where
            not touched.is_marker
            {%- for column in columns %}
            and {{ this }}.{{ own_columns[loop.index0] }} = touched.{{ column }}
            {%- endfor %}
    )
            {%- endset %}
    {{ record_deleted_partitions(touched_condition) }}
    delete from {{ this }}
    using {{ touched_relation(upstream) }} as touched
    where
        not touched.is_marker
        {%- for column in columns %}
        and {{ this }}.{{ own_columns[loop.index0] }} = touched.{{ column }}
        {%- endfor %}
        {%- else %}
    {{ record_deleted_partitions() }}
    delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
