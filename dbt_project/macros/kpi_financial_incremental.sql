{#-
    Incremental kpi_financial (docs/incremental-models.md, *KPI marts*): the recompute-from
    cutoffs of the rollup marts (macros/kpi_rollup_incremental.sql), extended to the inputs
    kpi_financial reads without a touched record.

    - Additive KPIs (net_revenue, gross_margin, the shares, avg_revenue_per_appointment) are
      rolled up from int_invoice_kpi_events and int_appointment_kpi_events (touched records),
      plus net_revenue's zero-level events on every location-day of int_location_days where POS
      data is delivered (kpi_coverage). A location's level days are one run of days, from its
      calendar start to its last day: a night that moves either end changes only the periods
      from the earlier of the two ends (the first day), or from the day after the earlier of
      the two last days. Those ends and the coverage of net_revenue and mrr are recorded per
      build in `dbt_state.kpi_level_days`; the cutoffs reach back to the earliest moved end,
      and a changed coverage (or no record) rebuilds whole.
    - ltv_12m at a period's last day d reads only revenue days in the window ending at d, so
      the periods from the cutoffs on are recomputed from the revenue days from the earlier
      cutoff minus the window on (the model's SQL); its input, paid lines of identified
      patients, changes only on days int_invoice_kpi_events' touched record names (that model
      rewrites every paid line's location-day the fact's build touched, both sides recorded).
    - mrr (memberships active at each period end) depends on fct_memberships, which keeps no
      touched record: every mrr row is recomputed each night, a join of the memberships with
      the periods per location (cheap next to the rollups and ltv).
-#}

{#- Each location's level days now: the first and last day of int_location_days, and the
    coverage of the level KPIs the model writes zero rows or mrr rows for. -#}
{% macro kpi_level_days_sql() -%}
    select
        level_days.location_id,
        min(level_days.date_day) as first_day,
        max(level_days.date_day) as last_day,
        (
            select coalesce(string_agg(kpi || '=' || cast(computable as varchar), ',' order by kpi), '')
            from {{ ref('kpi_coverage') }}
            where kpi in ('net_revenue', 'mrr')
        ) as coverage
    from {{ ref('int_location_days') }} as level_days
    group by level_days.location_id
{%- endmacro %}

{#-
    kpi_financial's cutoffs ({'week': ..., 'month': ...}, or none to rebuild whole): those of
    `kpi_rollup_cutoffs(inputs)`, moved back to the periods of the earliest level day that
    moved since the last build; none when the rollup cutoffs are none, when the last build
    recorded no level days, or when a location came or went or the coverage changed.
    Evaluated at render time by the model's SQL and by its pre-hook, before either writes.
-#}
{% macro kpi_financial_cutoffs(inputs) -%}
    {%- set cutoffs = kpi_rollup_cutoffs(inputs) -%}
    {%- if not cutoffs -%}{{ return(none) }}{%- endif -%}
    {%- if not scalar_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and table_schema = 'dbt_state' and table_name = 'kpi_level_days'"
    ) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        with

        level_now as (
            {{ kpi_level_days_sql() }}
        ),

        level_built as (
            select location_id, first_day, last_day, coverage
            from {{ test_scope_relation('kpi_level_days') }}
            where model_name = '{{ this.identifier }}'
        ),

        compared as (
            select
                level_now.location_id is null
                or level_built.location_id is null
                or level_now.coverage is distinct from level_built.coverage as untrusted,
                least(
                    case
                        when level_now.first_day <> level_built.first_day
                            then least(level_now.first_day, level_built.first_day)
                    end,
                    case
                        when level_now.last_day <> level_built.last_day
                            then cast(least(level_now.last_day, level_built.last_day) + 1 as date)
                    end
                ) as changed_from
            from level_now
            full outer join level_built on level_now.location_id = level_built.location_id
        )

        select
            (select count(*) from level_built) > 0 and not bool_or(untrusted) as trusted,
            cast({{ week_start("least(date '" ~ cutoffs.week ~ "', min(changed_from))") }} as varchar),
            cast({{ month_start("least(date '" ~ cutoffs.month ~ "', min(changed_from))") }} as varchar)
        from compared
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if not row[0] -%}{{ return(none) }}{%- endif -%}
    {{ return({'week': row[1], 'month': row[2]}) }}
{%- endmacro %}

{#-
    Pre-hook of kpi_financial: record the as-of, the cutoffs (as kpi_rollup_prepare does, with
    kpi_financial's cutoffs) and the level days this build uses, then delete the built rows it
    rewrites: the periods from the cutoffs on and every mrr row (every row when it rebuilds
    whole).
-#}
{% macro kpi_financial_prepare(inputs) -%}
    {%- set cutoffs = kpi_financial_cutoffs(inputs) -%}
    {%- set level_days = test_scope_relation('kpi_level_days') -%}
    {{ kpi_rollup_record_build(cutoffs) }}
    create table if not exists {{ level_days }} (
        model_name varchar not null,
        location_id varchar not null,
        first_day date,
        last_day date,
        coverage varchar,
        invocation_id varchar not null
    );
    delete from {{ level_days }} where model_name = '{{ this.identifier }}';
    insert into {{ level_days }}
    select '{{ this.identifier }}', location_id, first_day, last_day, coverage, '{{ invocation_id }}'
    from ({{ kpi_level_days_sql() }}) as level_now;
    {%- if is_incremental() %}
    delete from {{ this }}
        {%- if cutoffs %}
    where kpi = 'mrr' or {{ kpi_rollup_recomputed(cutoffs) }}
        {%- endif %};
    {%- endif %}
{%- endmacro %}
