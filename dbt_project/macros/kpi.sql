{#-
    The long KPI form every kpi_<family> mart emits (grain, period_start, location_id, kpi,
    value, numerator, denominator, is_final), built from additive *events*:

        location_id, event_date (local), kpi, value_kind ('ratio' | 'sum'),
        window_minutes (how long after the event its outcome can still change),
        numerator, denominator, [dimension columns]

    Events are summed per ISO week (Monday) and month; chain-wide rows (`_all`) re-sum the
    numerators and denominators, never average the ratios. value = numerator / denominator
    (null when the denominator is 0) for ratios, = numerator for counts and sums (denominator
    null). is_final: the period plus the KPI's window has ended at the data's as-of time,
    in the location's local time (`_all`: in every location).
-#}

{#- CTE `kpi_as_of`: each location's local as-of wall-clock time, and `_all` = the earliest. -#}
{% macro kpi_as_of_cte() -%}
kpi_as_of_locations as (
    select
        kpi_locations.location_id,
        {{ local_timestamp('kpi_as_of_instant.as_of_at', 'kpi_locations.timezone') }} as as_of_local
    from {{ ref('stg_pms__locations') }} as kpi_locations
    cross join {{ ref('int_data_as_of') }} as kpi_as_of_instant
),

kpi_as_of as (
    select location_id, as_of_local from kpi_as_of_locations
    union all
    select '_all' as location_id, min(as_of_local) as as_of_local from kpi_as_of_locations
)
{%- endmacro %}

{#- Boolean: the period (grain, period_start) plus window_minutes has ended by as_of_local. -#}
{% macro kpi_is_final(grain_expr, period_start_expr, window_minutes_expr, as_of_local_expr) -%}
    coalesce(
        {{ as_of_local_expr }} >= {{ dbt.dateadd(
            'minute', window_minutes_expr, 'cast(' ~ period_end_exclusive(grain_expr, period_start_expr) ~ ' as timestamp)'
        ) }},
        false
    )
{%- endmacro %}

{#- Boolean: the period has started by as_of_local. Periods that have not (future bookings,
    rosters) are not reported: their rates would be zeros of events that cannot have happened. -#}
{% macro kpi_period_started(period_start_expr, as_of_local_expr) -%}
    ({{ as_of_local_expr }} is null or {{ period_start_expr }} <= cast({{ as_of_local_expr }} as date))
{%- endmacro %}

{#- Period start of a local date for a grain column ('week' | 'month'). -#}
{% macro kpi_period_start(grain_expr, date_expr) -%}
    case when {{ grain_expr }} = 'week' then {{ week_start(date_expr) }} else {{ month_start(date_expr) }} end
{%- endmacro %}

{#-
    CTEs rolling `events` (a CTE or relation) up to the long form, ending in a CTE `name`.
    value_kind: 'sum' (counts and sums: value = Σ numerator), 'ratio' (value = Σ numerator /
    Σ denominator) or 'median' (value = the median of the events' numerators; `_all` rows take
    the median over every location's events, never a median of medians; pass medians=true).
    dims: extra dimension columns kept in the output. with_chain: add `_all` rows.
    kpis: optional list restricting which events' kpis are rolled up.
    per_grain: the events carry `event_grain` ('week' | 'month', or null for both), for KPIs
    whose events differ by period length (e.g. the first message per patient per period).
    Needs `kpi_as_of_cte()` earlier in the same WITH.
-#}
{% macro kpi_rollup(events, name, dims=[], with_chain=true, kpis=none, per_grain=false, medians=false) -%}
{%- set dim_cols -%}{% for d in dims %}{{ d }}, {% endfor %}{%- endset -%}
{%- set conditions = [] -%}
{%- if kpis is not none -%}
    {%- do conditions.append("e.kpi in (" ~ ("'" ~ kpis | join("', '") ~ "'") ~ ")") -%}
{%- endif -%}
{%- if per_grain -%}
    {%- do conditions.append("(e.event_grain is null or e.event_grain = g.grain)") -%}
{%- endif -%}
{{ name }}__grains as (
    select 'week' as grain
    union all
    select 'month' as grain
),

{{ name }}__events as (
    select
        g.grain,
        {{ kpi_period_start('g.grain', 'e.event_date') }} as period_start,
        e.location_id,
        {% for d in dims %}e.{{ d }}, {% endfor %}
        e.kpi,
        e.value_kind,
        e.window_minutes,
        e.numerator,
        e.denominator
    from {{ events }} as e
    cross join {{ name }}__grains as g
    {%- if conditions %}
    where {{ conditions | join(' and ') }}
    {%- endif %}
),

{{ name }}__by_location as (
    {{ _kpi_group(name ~ '__events', dims, 'location_id', medians) }}
),

{%- if with_chain %}
{{ name }}__with_chain as (
    select * from {{ name }}__by_location
    union all
    {{ _kpi_group(name ~ '__by_location', dims, "'_all'", false, name ~ '__events' if medians else none) }}
),
{%- endif %}

{{ name }} as (
    select
        r.grain,
        r.period_start,
        r.location_id,
        {% for d in dims %}r.{{ d }}, {% endfor %}
        r.kpi,
        case
            when r.value_kind in ('sum', 'median') then cast(r.numerator as double)
            else {{ safe_divide('r.numerator', 'r.denominator') }}
        end as value,
        cast(r.numerator as double) as numerator,
        case
            when r.value_kind in ('sum', 'median') then cast(null as double)
            else cast(r.denominator as double)
        end as denominator,
        {{ kpi_is_final('r.grain', 'r.period_start', 'r.window_minutes', 'a.as_of_local') }} as is_final
    from {{ name }}__{{ 'with_chain' if with_chain else 'by_location' }} as r
    left join kpi_as_of as a on r.location_id = a.location_id
    where {{ kpi_period_started('r.period_start', 'a.as_of_local') }}
)
{%- endmacro %}

{#- Final projection with the contract's exact types (shared by every kpi mart). -#}
{% macro kpi_select(relation, dims=[]) -%}
select
    cast(grain as varchar) as grain,
    cast(period_start as date) as period_start,
    cast(location_id as varchar) as location_id,
    {% for d in dims %}{{ d }}, {% endfor %}
    cast(kpi as varchar) as kpi,
    cast(value as double) as value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    cast(is_final as boolean) as is_final
from {{ relation }}
{%- endmacro %}

{#-
    CTEs rolling per-patient cohort rows (int_patient_cohorts) up to the long form at month
    grain, period_start = cohort_month, ending in CTE `name` (with cohort_month kept as a column).
    Needs `kpi_as_of_cte()` earlier in the same WITH.
-#}
{% macro cohort_rollup(cohorts, name, dims=[]) -%}
{%- set dim_cols -%}{% for d in dims %}{{ d }}, {% endfor %}{%- endset -%}
{{ name }}__by_location as (
    select
        cohort_month,
        location_id,
        {{ dim_cols }}
        sum(case when is_retained then 1 else 0 end) as retained,
        sum(visits_first_year) as first_year_visits,
        count(*) as cohort_size
    from {{ cohorts }}
    group by {{ (['cohort_month', 'location_id'] + dims) | join(', ') }}
),

{{ name }}__with_chain as (
    select * from {{ name }}__by_location
    union all
    select
        cohort_month,
        '_all' as location_id,
        {{ dim_cols }}
        sum(retained) as retained,
        sum(first_year_visits) as first_year_visits,
        sum(cohort_size) as cohort_size
    from {{ name }}__by_location
    group by {{ (['cohort_month'] + dims) | join(', ') }}
),

{{ name }}__long as (
    select
        cohort_month, location_id, {{ dim_cols }}
        'retention_12m' as kpi, retained as numerator, cohort_size as denominator
    from {{ name }}__with_chain
    union all
    select
        cohort_month, location_id, {{ dim_cols }}
        'visits_first_year' as kpi, first_year_visits as numerator, cohort_size as denominator
    from {{ name }}__with_chain
),

{{ name }} as (
    select
        'month' as grain,
        l.cohort_month as period_start,
        l.cohort_month,
        l.location_id,
        {% for d in dims %}l.{{ d }}, {% endfor %}
        l.kpi,
        {{ safe_divide('l.numerator', 'l.denominator') }} as value,
        cast(l.numerator as double) as numerator,
        cast(l.denominator as double) as denominator,
        coalesce(
            cast({{ dbt.dateadd('day', var('retention_window_days'),
                dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'l.cohort_month'))) }} as date)
            <= cast(a.as_of_local as date),
            false
        ) as is_final
    from {{ name }}__long as l
    left join kpi_as_of as a on l.location_id = a.location_id
)
{%- endmacro %}

{#-
    One grouping step of kpi_rollup: rows of `relation` summed per grain, period, `location`
    (a column, or '_all'), dims and kpi. With `medians_from`, 'median' rows are not summed but
    recomputed as the median of that relation's event numerators (never a median of medians).
-#}
{% macro _kpi_group(relation, dims, location, medians, medians_from=none) -%}
{%- set dim_cols -%}{% for d in dims %}{{ d }}, {% endfor %}{%- endset -%}
{%- set median_source = medians_from if medians_from is not none else (relation if medians else none) -%}
{%- set branches = [(relation, "sum(numerator)", "sum(denominator)", none)] -%}
{%- if median_source is not none -%}
    {%- set branches = [
        (relation, "sum(numerator)", "sum(denominator)", "value_kind <> 'median'"),
        (median_source, median('numerator'), "cast(null as double)", "value_kind = 'median'"),
    ] -%}
{%- endif %}
{%- for source_relation, numerator, denominator, condition in branches %}
    select
        grain,
        period_start,
        {{ location }} as location_id,
        {{ dim_cols }}
        kpi,
        value_kind,
        max(window_minutes) as window_minutes,
        {{ numerator }} as numerator,
        {{ denominator }} as denominator
    from {{ source_relation }}
    {%- if condition %}
    where {{ condition }}
    {%- endif %}
    group by grain, period_start, {{ '' if location.startswith("'") else location ~ ', ' }}{{ dim_cols }}kpi, value_kind
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
{%- endmacro %}
