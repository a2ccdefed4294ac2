{#-
    Incremental KPI marts (docs/incremental-models.md, *KPI marts*): a mart built by
    `kpi_rollup` from event models that keep a touched record (macros/touched.sql, with the
    event's `location_id` and `event_date` on both sides of a change) rewrites, in a nightly
    run, only the periods that can have changed, and rebuilds whole when it cannot tell which.

    A mart row (grain, period, location, dims, kpi) is a function of the events dated inside
    its period and of the as-of time (whether the period has started, whether it is final).
    So per grain, the rows that can differ from the built ones are those of periods starting
    at or after the *recompute-from* date D, the earliest of:
    - every input's earliest touched event date, either side of a change (an event added,
      removed or changed there changes its period);
    - the earliest period of that grain built non-final (it may have become final);
    - the day after the previous build's as-of date, at any location (a period that started
      since was not built; `_all` rows sum the locations where a period has started).
    The cutoff is week_start(D) for weeks and month_start(D) for months: those rows are deleted
    and recomputed from the events dated at or after the earlier of the two cutoffs, keeping
    only the periods starting at or after their own grain's cutoff, so every period written
    sees all its events (sums, ratios and medians alike) and `_all` rows are recomputed for
    the same periods.

    The mart rebuilds whole when it is built for the first time or with --full-refresh, when
    any input's touched record is not complete for it (`touched_partitions_are_complete`: the
    input not built incrementally in this invocation right after the build the mart last
    followed, or the mart's definition changed), when no as-of was recorded for its last build
    or the as-of moved backwards at any location (or a location came or went, or has no
    as-of): then `is_final` could flip back and periods could stop having started.

    State (`dbt_state`, never published), written by the pre-hook in the model's transaction:
    - kpi_rollup_as_of: the as-of local time each location had for the mart's newest build;
    - kpi_rollup_builds: per grain, the recompute-from cutoff of the mart's newest build with
      its invocation id (null: rebuilt whole), so a mart built on this one (the scorecard's
      baselines) can recompute from the same periods.
-#}

{#- on-run-start: the state tables, before any model's transaction (two marts recording at
    once must not race to create them). -#}
{% macro create_kpi_rollup_state() -%}
    {{ create_state_schema() }};
    create table if not exists {{ test_scope_relation('kpi_rollup_as_of') }} (
        model_name varchar not null,
        location_id varchar not null,
        as_of_local timestamp,
        invocation_id varchar not null
    );
    create table if not exists {{ test_scope_relation('kpi_rollup_builds') }} (
        model_name varchar not null,
        invocation_id varchar not null,
        grain varchar not null,
        recompute_from date
    );
    create table if not exists {{ test_scope_relation('kpi_rollup_guards') }} (
        model_name varchar not null,
        guard varchar,
        invocation_id varchar not null
    )
{%- endmacro %}

{#- Each location's local as-of time (as kpi_as_of_cte computes it), as a query. -#}
{% macro kpi_rollup_as_of_sql() -%}
    select
        kpi_locations.location_id,
        {{ local_timestamp('kpi_as_of_instant.as_of_at', 'kpi_locations.timezone') }} as as_of_local
    from {{ ref('stg_pms__locations') }} as kpi_locations
    cross join {{ ref('int_data_as_of') }} as kpi_as_of_instant
{%- endmacro %}

{#-
    The cutoffs of this build: {'week': 'YYYY-MM-DD', 'month': 'YYYY-MM-DD'} (the first day of
    the earliest period of each grain to recompute), or none to rebuild whole (see the header).
    `inputs`: the event models the mart reads, each with a touched record holding `event_date`.
    Evaluated at render time, by the model's SQL and again by its pre-hook, before either
    writes anything (so both get the same answer).
-#}
{% macro kpi_rollup_cutoffs(inputs) -%}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- if flags.WHICH not in ['run', 'build'] and not scalar_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and table_schema = 'dbt_state' and table_name = 'kpi_rollup_as_of'"
    ) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for input in inputs -%}
        {%- if not touched_partitions_are_complete(input) -%}{{ return(none) }}{%- endif -%}
    {%- endfor -%}
    {%- set query -%}
        with

        as_of_now as (
            {{ kpi_rollup_as_of_sql() }}
        ),

        as_of_built as (
            select location_id, as_of_local from {{ test_scope_relation('kpi_rollup_as_of') }}
            where model_name = '{{ this.identifier }}'
        ),

        moved_back as (
            select count(*) as locations
            from as_of_now
            full outer join as_of_built on as_of_now.location_id = as_of_built.location_id
            where
                as_of_now.as_of_local is null
                or as_of_built.as_of_local is null
                or as_of_now.as_of_local < as_of_built.as_of_local
        ),

        changed as (
            select least(
                {%- for input in inputs %}
                (
                    select min(touched.event_date) from {{ touched_relation(input) }} as touched
                    where not touched.is_marker
                ),
                {%- endfor %}
                (select cast(min(as_of_local) as date) + 1 from as_of_built)
            ) as changed_from
        ),

        open_periods as (
            select
                min(case when grain = 'week' then period_start end) as week_open,
                min(case when grain = 'month' then period_start end) as month_open
            from {{ this }}
            where not is_final
        )

        select
            (select count(*) from as_of_built) > 0 and moved_back.locations = 0 as trusted,
            cast({{ week_start('least(changed.changed_from, open_periods.week_open)') }} as varchar),
            cast({{ month_start('least(changed.changed_from, open_periods.month_open)') }} as varchar)
        from moved_back
        cross join changed
        cross join open_periods
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if not row[0] or row[1] is none or row[2] is none -%}{{ return(none) }}{%- endif -%}
    {{ return({'week': row[1], 'month': row[2]}) }}
{%- endmacro %}

{#- SQL: the built rows the cutoffs recompute (a period of its grain at or after its cutoff). -#}
{% macro kpi_rollup_recomputed(cutoffs, grain='grain', period_start='period_start') -%}
    (({{ grain }} = 'week' and {{ period_start }} >= date '{{ cutoffs.week }}')
    or ({{ grain }} = 'month' and {{ period_start }} >= date '{{ cutoffs.month }}'))
{%- endmacro %}

{#-
    Pre-hook part of every incremental KPI mart (kpi_rollup_prepare, kpi_rollup_prepare_with,
    kpi_financial_prepare): record the as-of and the `cutoffs` (none: rebuilt whole) this
    build uses, the state the next build's cutoffs start from.
-#}
{% macro kpi_rollup_record_build(cutoffs) -%}
    {%- set as_of = test_scope_relation('kpi_rollup_as_of') -%}
    {%- set builds = test_scope_relation('kpi_rollup_builds') -%}
    delete from {{ as_of }} where model_name = '{{ this.identifier }}';
    insert into {{ as_of }}
    select '{{ this.identifier }}', location_id, as_of_local, '{{ invocation_id }}'
    from ({{ kpi_rollup_as_of_sql() }}) as as_of_now;
    delete from {{ builds }} where model_name = '{{ this.identifier }}';
    insert into {{ builds }} values
        ('{{ this.identifier }}', '{{ invocation_id }}', 'week',
            {{ "date '" ~ cutoffs.week ~ "'" if cutoffs else 'null' }}),
        ('{{ this.identifier }}', '{{ invocation_id }}', 'month',
            {{ "date '" ~ cutoffs.month ~ "'" if cutoffs else 'null' }});
{%- endmacro %}

{#-
    Pre-hook of an incremental KPI mart over `inputs`: record the as-of and the cutoffs this
    build uses, then delete the built rows it rewrites (every row when it rebuilds whole).
    Deleting here, not through the strategy's delete of the batch's keys, also removes a
    period that has no row left.
-#}
{% macro kpi_rollup_prepare(inputs) -%}
    {{ kpi_rollup_prepare_from(kpi_rollup_cutoffs(inputs)) }}
{%- endmacro %}

{#- The pre-hook's work for given `cutoffs` (none: rebuilt whole). -#}
{% macro kpi_rollup_prepare_from(cutoffs) -%}
    {{ kpi_rollup_record_build(cutoffs) }}
    {%- if is_incremental() %}
    delete from {{ this }}
        {%- if cutoffs %}
    where {{ kpi_rollup_recomputed(cutoffs) }}
        {%- endif %};
    {%- endif %}
{%- endmacro %}

{#-
    Marts with inputs the macros above cannot follow alone take `kpi_rollup_cutoffs_with` and
    `kpi_rollup_prepare_with` instead, which add to `kpi_rollup_cutoffs(inputs)`:
    - `guards`: small inputs without a touched record, compared whole each night
      (kpi_by_channel: which channels ever had spend, which KPIs the delivered data can
      compute). A list of {'model': <model name>, 'columns': [...]}: the distinct values of
      those columns of each model, as the mart's last build recorded them
      (`dbt_state.kpi_rollup_guards`, written by its pre-hook). When they differ, or none were
      recorded, the mart rebuilds whole: a channel that gains its first spend brings its new
      patients' cac events of every period into the mart, a KPI that becomes computable every
      period of that KPI.
    - `dated`: inputs whose touched record names the location and the event's local date under
      another column than `event_date` ({'fct_leads': 'created_local_date'}: a lead is dated by
      its creation); their earliest touched date, either side of a change, moves the cutoffs
      back as an event model's does, under the same trust rule.
-#}

{#- SQL: one varchar summarising the guards' current values (an md5 of their sorted rows). -#}
{% macro kpi_rollup_guard_sql(guards) -%}
    select md5(concat_ws(
        '#'
        {%- for guard in guards %},
        (
            select coalesce(string_agg(guard_row, '|' order by guard_row), '')
            from (
                select distinct concat_ws(
                    ','
                    {%- for column in guard.columns %},
                    coalesce('=' || cast({{ column }} as varchar), 'null')
                    {%- endfor %}
                ) as guard_row
                from {{ ref(guard.model) }}
            ) as guard_rows
        )
        {%- endfor %}
    ))
{%- endmacro %}

{#- True when the guards equal the ones the mart's last build recorded (evaluated at render
    time, before the pre-hook records the new ones). -#}
{% macro kpi_rollup_guards_unchanged(guards) -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- if not scalar_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and table_schema = 'dbt_state' and table_name = 'kpi_rollup_guards'"
    ) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set recorded = test_scope_relation('kpi_rollup_guards') -%}
    {{ return((scalar_query(
        "select count(*) from " ~ recorded ~ " where model_name = '" ~ this.identifier
        ~ "' and guard = (" ~ kpi_rollup_guard_sql(guards) ~ ")"
    ) or 0) > 0) }}
{%- endmacro %}

{#- The cutoffs of a build with `guards` and `dated` inputs (see above): kpi_rollup_cutoffs',
    moved back to the earliest touched date of each dated input, or none (rebuild whole)
    when those cutoffs are none, a guard changed or a dated input's record is not complete. -#}
{% macro kpi_rollup_cutoffs_with(inputs, guards=[], dated={}) -%}
    {%- set cutoffs = kpi_rollup_cutoffs(inputs) -%}
    {%- if not cutoffs -%}{{ return(none) }}{%- endif -%}
    {%- if guards and not kpi_rollup_guards_unchanged(guards) -%}{{ return(none) }}{%- endif -%}
    {%- if not dated -%}{{ return(cutoffs) }}{%- endif -%}
    {%- for input in dated -%}
        {%- if not touched_partitions_are_complete(input) -%}{{ return(none) }}{%- endif -%}
    {%- endfor -%}
    {%- set changed_from -%}
        least(
            {%- for input, column in dated.items() %}
            (
                select min(touched.{{ column }}) from {{ touched_relation(input) }} as touched
                where not touched.is_marker
            ){{ ',' if not loop.last }}
            {%- endfor %}
        )
    {%- endset -%}
    {%- set row = run_query(
        "select cast(" ~ week_start("least(date '" ~ cutoffs.week ~ "', " ~ changed_from ~ ")")
        ~ " as varchar), cast(" ~ month_start("least(date '" ~ cutoffs.month ~ "', " ~ changed_from ~ ")")
        ~ " as varchar)"
    ).rows[0] -%}
    {{ return({'week': row[0], 'month': row[1]}) }}
{%- endmacro %}

{#- Pre-hook of a mart with `guards` and `dated` inputs: as kpi_rollup_prepare, with the cutoffs
    of kpi_rollup_cutoffs_with (the plain ones or earlier, or none), then the current guards
    recorded. -#}
{% macro kpi_rollup_prepare_with(inputs, guards=[], dated={}) -%}
    {{ kpi_rollup_prepare_from(kpi_rollup_cutoffs_with(inputs, guards, dated)) }}
    {%- if guards %}
    delete from {{ test_scope_relation('kpi_rollup_guards') }}
    where model_name = '{{ this.identifier }}';
    insert into {{ test_scope_relation('kpi_rollup_guards') }}
    select '{{ this.identifier }}', ({{ kpi_rollup_guard_sql(guards) }}), '{{ invocation_id }}';
    {%- endif %}
{%- endmacro %}
