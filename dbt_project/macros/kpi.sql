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
    the period ending at the location's local midnight and the window counted in elapsed
    time, as the events' windows are (`_all`: in every location).
    Periods not started at the as-of time are not reported. A chain spanning time zones has a
    period started in one location and not yet in another (between their midnights): `_all`
    is reported once the period has started at any location, summed over the locations where
    it has started.
-#}

{#- CTE `kpi_as_of`: each location's local as-of wall-clock time, and `_all` = the earliest
    (finality: ended everywhere); started_as_of_local: `_all` = the latest (started anywhere).
    as_of_at is the as-of instant and timezone the zone finality is judged in: the location's,
    for `_all` the zone whose clock is the furthest behind at the as-of time (its periods end
    last; zones that change their clocks on other dates can swap that order by an hour). -#}
{% macro kpi_as_of_cte() -%}
kpi_as_of_locations as (
    select
        kpi_locations.location_id,
        kpi_locations.timezone,
        kpi_as_of_instant.as_of_at,
        {{ local_timestamp('kpi_as_of_instant.as_of_at', 'kpi_locations.timezone') }} as as_of_local
    from {{ ref('stg_pms__locations') }} as kpi_locations
    cross join {{ ref('int_data_as_of') }} as kpi_as_of_instant
),

kpi_as_of as (
    select
        location_id,
        timezone,
        as_of_at,
        as_of_local,
        as_of_local as started_as_of_local
    from kpi_as_of_locations
    union all
    select
        '_all' as location_id,
        arg_min(timezone, as_of_local) as timezone,
        max(as_of_at) as as_of_at,
        min(as_of_local) as as_of_local,
        max(as_of_local) as started_as_of_local
    from kpi_as_of_locations
)
{%- endmacro %}

{#-
    Boolean: the period (grain, period_start) plus window_minutes has ended at the as-of time of
    `as_of` (a row of kpi_as_of, by its alias). The period ends at local midnight; a window is
    elapsed time, as the events count it (a reply within 14 days is within 14 x 24 hours), so
    it is added to the period's end instant: a window across the night the clocks spring
    forward ends an hour later by the wall clock. Without a window the wall-clock comparison
    is the same test.
-#}
{% macro kpi_is_final(grain_expr, period_start_expr, window_minutes_expr, as_of) -%}
    {%- set period_end = 'cast(' ~ period_end_exclusive(grain_expr, period_start_expr) ~ ' as timestamp)' -%}
    {%- set wall_clock = as_of ~ '.as_of_local >= ' ~ period_end -%}
    {%- if window_minutes_expr | string == '0' %}
    coalesce({{ wall_clock }}, false)
    {%- else %}
    coalesce(
        case
            when {{ window_minutes_expr }} = 0 then {{ wall_clock }}
            else {{ as_of }}.as_of_at >= {{ dbt.dateadd(
                'minute', window_minutes_expr, local_to_instant(period_end, as_of ~ '.timezone')
            ) }}
        end,
        false
    )
    {%- endif %}
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
    daily: sum the events per location-day first (`_kpi_daily`); false where events are
    already about one per location, day and dims (leads, room-days), so summing first would
    only add a pass.
    recompute_from: none (every period), or the cutoffs of an incremental build
    ({'week': date, 'month': date}, macros/kpi_rollup_incremental.sql): only the periods of
    each grain starting at or after its cutoff, from the events dated at or after the earlier
    cutoff (every event of those periods).
    Needs `kpi_as_of_cte()` earlier in the same WITH.
-#}
{% macro kpi_rollup(events, name, dims=[], with_chain=true, kpis=none, per_grain=false, medians=false, daily=true, recompute_from=none) -%}
{%- set dim_cols -%}{% for d in dims %}{{ d }}, {% endfor %}{%- endset -%}
{%- set conditions = [] -%}
{%- if per_grain -%}
    {%- do conditions.append("(e.event_grain is null or e.event_grain = g.grain)") -%}
{%- endif -%}
{%- if recompute_from -%}
    {%- do conditions.append(kpi_rollup_recomputed(
        recompute_from, 'g.grain', "case when g.grain = 'week' then e.week_start else e.month_start end"
    )) -%}
{%- endif -%}
{{ name }}__grains as (
    select 'week' as grain
    union all
    select 'month' as grain
),

{{ _kpi_daily(events, name ~ '__daily', dims, kpis, per_grain, medians, daily, recompute_from) }},

{{ _kpi_buckets(name ~ '__daily', name ~ '__buckets', dims, per_grain, medians) }},

{{ name }}__events as (
    select
        g.grain,
        case when g.grain = 'week' then e.week_start else e.month_start end as period_start,
        e.location_id,
        {% for d in dims %}e.{{ d }}, {% endfor %}
        e.kpi,
        e.value_kind,
        e.window_minutes,
        e.numerator,
        e.denominator
    from {{ name }}__buckets as e
    cross join {{ name }}__grains as g
    -- only periods started at the event's location: `_all` then sums (and takes medians over)
    -- the locations where the period has started
    left join kpi_as_of as started on e.location_id = started.location_id
    where
        {{ ([kpi_period_started(
            "case when g.grain = 'week' then e.week_start else e.month_start end", 'started.started_as_of_local'
        )]
            + conditions) | join('\n        and ') }}
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
        {{ kpi_is_final('r.grain', 'r.period_start', 'r.window_minutes', 'a') }} as is_final
    from {{ name }}__{{ 'with_chain' if with_chain else 'by_location' }} as r
    left join kpi_as_of as a on r.location_id = a.location_id
    where {{ kpi_period_started('r.period_start', 'a.started_as_of_local') }}
)
{%- endmacro %}

{#-
    CTE `name`: the events of `events` summed per location, local date, dims, kpi and value
    kind (and event_grain with per_grain), before kpi_rollup expands them to both grains.
    A sum of sums and a max of maxes per period equal the sums and max of the events, and a
    mart has far fewer location-days than events (kpi_financial at 40 locations: 3.5 M
    events), so the expansion, the started-period filter and the grouping handle ~10x fewer
    rows. Median events are not additive: with `medians` they pass through one by one.
    daily=false: the events as they are (only filtered to `kpis`).
-#}
{% macro _kpi_daily(events, name, dims, kpis, per_grain, medians, daily, recompute_from=none) -%}
{%- set keys = ['location_id', 'event_date'] + dims + (['event_grain'] if per_grain else []) + ['kpi', 'value_kind'] -%}
{%- set filters = [] -%}
{%- if kpis is not none -%}
    {%- do filters.append("kpi in ('" ~ kpis | join("', '") ~ "')") -%}
{%- endif -%}
{%- if recompute_from -%}
    {%- do filters.append("event_date >= date '" ~ [recompute_from.week, recompute_from.month] | min ~ "'") -%}
{%- endif -%}
{%- if not daily %}
{{ name }} as (
    select * from {{ events }}
    {%- if filters %}
    where {{ filters | join(' and ') }}
    {%- endif %}
)
{%- else %}
{{ name }} as (
    select
        {{ keys | join(',\n        ') }},
        max(window_minutes) as window_minutes,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from {{ events }}
    {%- set additive = filters + (["value_kind <> 'median'"] if medians else []) %}
    {%- if additive %}
    where {{ additive | join(' and ') }}
    {%- endif %}
    group by {{ keys | join(', ') }}
    {%- if medians %}
    union all
    select
        {{ keys | join(',\n        ') }},
        window_minutes,
        numerator,
        denominator
    from {{ events }}
    where {{ (filters + ["value_kind = 'median'"]) | join(' and ') }}
    {%- endif %}
)
{%- endif %}
{%- endmacro %}

{#-
    CTE `name`: the rows of `daily` (_kpi_daily) summed per location, dims, kpi, value kind
    (and event_grain) and *bucket*: the pair (ISO week, month) of the local date. Every day of
    a bucket lies in one week and one month, so a bucket rolls up to either grain; a location
    has about 200 buckets against 1,100 days in three years, so the expansion to both grains,
    the started-period filter and the grouping per period handle ~5x fewer rows than per day
    (per event, for marts whose events are already daily). The bucket is computed per day,
    not per event: a week and month start for each of 4.8 M events cost kpi_engagement more
    than the grouping it saved. Median rows pass through one by one, with their bucket.
-#}
{% macro _kpi_buckets(daily, name, dims, per_grain, medians) -%}
{%- set keys = ['location_id'] + dims + (['event_grain'] if per_grain else []) + ['kpi', 'value_kind'] -%}
{%- set buckets = [week_start('event_date') ~ ' as week_start', month_start('event_date') ~ ' as month_start'] -%}
{{ name }} as (
    select
        {{ (keys + buckets) | join(',\n        ') }},
        max(window_minutes) as window_minutes,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from {{ daily }}
    {%- if medians %}
    where value_kind <> 'median'
    {%- endif %}
    group by {{ keys | join(', ') }}, week_start, month_start
    {%- if medians %}
    union all
    select
        {{ (keys + buckets) | join(',\n        ') }},
        window_minutes,
        numerator,
        denominator
    from {{ daily }}
    where value_kind = 'median'
    {%- endif %}
)
{%- endmacro %}

{#-
    `name`: the rows of `relation` (with a `kpi` column) whose KPI kpi_coverage says can be
    computed. A KPI whose input tables were never delivered has no rows, never a row of nulls
    (room utilisation without opening hours had rows of completed hours over 0 open hours).
-#}
{% macro kpi_covered(relation, name='covered') -%}
{{ name }} as (
    select {{ relation }}.*
    from {{ relation }}
    inner join {{ ref('kpi_coverage') }} as coverage
        on {{ relation }}.kpi = coverage.kpi and coverage.computable
)
{%- endmacro %}

{#-
    Final projection with the contract's exact types (shared by every kpi mart). Amounts of
    money are whole cents in every source, but the rollups sum them as doubles (a week's
    revenue is a sum of daily sums, `_all` a sum of locations'), which leaves binary noise in
    the last digits (114699.55000000002 for a sum of exactly 114699.55). The money parts of a
    KPI (kpi_money_parts) are rounded back to cents here, and a ratio over them is divided
    again from the rounded parts, so numerator and denominator still give the value exactly.
-#}
{% macro kpi_select(relation, dims=[]) -%}
{%- set money_numerator = kpi_is_money('numerator') -%}
{%- set money_denominator = kpi_is_money('denominator') -%}
{%- set numerator = "case when " ~ money_numerator ~ " then round(numerator, 2) else numerator end" -%}
{%- set denominator = "case when " ~ money_denominator ~ " then round(denominator, 2) else denominator end" -%}
select
    cast(grain as varchar) as grain,
    cast(period_start as date) as period_start,
    cast(location_id as varchar) as location_id,
    {% for d in dims %}{{ d }}, {% endfor %}
    cast(kpi as varchar) as kpi,
    cast(
        case
            when not ({{ money_numerator }}) then value
            when denominator is null then round(numerator, 2)
            else {{ safe_divide(numerator, denominator) }}
        end as double
    ) as value,
    cast({{ numerator }} as double) as numerator,
    cast({{ denominator }} as double) as denominator,
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
        -- the window of the month's last cohort member runs through day retention_window_days
        -- after the month's last day, and a visit on that day still counts: final once the
        -- next local day has begun (the same rule as kpi_is_final). A return visit counts at
        -- any location, dated in that location's time zone, so every row waits for the day
        -- to end in every location (the chain's as-of: the earliest local clock), not its own
        coalesce(
            a.as_of_local >= cast({{ dbt.dateadd('day', var('retention_window_days'),
                dbt.dateadd('month', 1, 'l.cohort_month')) }} as timestamp),
            false
        ) as is_final
    from {{ name }}__long as l
    left join kpi_as_of as a on a.location_id = '_all'
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

{#-
    `select ... from <source>` of the additive-event columns kpi_rollup reads (location_id,
    event_date, the `dims` columns, kpi, value_kind, window_minutes, numerator, denominator) of each of
    `sources` (CTE names holding them), joined by `union all`, so a mart that unions several
    event models states only which. `exprs` maps a column to the expression that computes it
    (e.g. {'kpi': "'revenue_per_provider'"}), for every source.
-#}
{% macro kpi_events_union(sources, dims=[], exprs={}) -%}
{%- set columns = ['location_id', 'event_date'] + dims
    + ['kpi', 'value_kind', 'window_minutes', 'numerator', 'denominator'] %}
{%- for source in sources %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        {%- for column in columns %}
            {{ exprs[column] ~ ' as ' ~ column if column in exprs else column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source }}
{%- endfor %}
{%- endmacro %}

{#-
    Additive events that make `kpis` levels: a 0 on every location-day of the calendar for
    each KPI the delivered data can compute (kpi_coverage), so a location-period without an
    event reports 0, not nothing, and a KPI whose source never arrived reports nothing.
-#}
{% macro kpi_zero_level_events(kpis) -%}
    select
        level_days.location_id,
        level_days.date_day as event_date,
        level_coverage.kpi,
        'sum' as value_kind,
        0 as window_minutes,
        0 as numerator,
        cast(null as double) as denominator
    from {{ ref('int_location_days') }} as level_days
    inner join {{ ref('kpi_coverage') }} as level_coverage
        on
            level_coverage.kpi in ('{{ kpis | join("', '") }}')
            and level_coverage.computable
{%- endmacro %}

{#-
    Expression: the mean of `value` over the same KPI and location's earlier periods of the
    row's grain that started within `weeks_back` weeks (week grain) or `months_back` months
    (month grain) before it; null without one. For trailing means and baselines. `relation`
    holds one row per (grain, period_start, location_id, kpi). A window, not a self-join: the
    join paired every row with its ~52 predecessors (10 M rows for the large chain's scorecard)
    before averaging them.
-#}
{% macro kpi_trailing_mean(value, weeks_back, months_back) -%}
    case
        when grain = 'week'
            then avg({{ value }}) over (
                partition by grain, location_id, kpi order by period_start
                range between interval {{ weeks_back }} week preceding and interval 1 day preceding
            )
        else avg({{ value }}) over (
            partition by grain, location_id, kpi order by period_start
            range between interval {{ months_back }} month preceding and interval 1 day preceding
        )
    end
{%- endmacro %}

{#-
    Body of the `final` CTE of a capacity event model (rooms, devices, providers): one ratio
    event per `entity` x location x local date x KPI, summing the numerator rows (hours used)
    and denominator rows (hours available) of `events`, window 0 (final as soon as its
    period ends). kpi: the KPI's name, or none when `events` carries a `kpi` column.
-#}
{% macro capacity_ratio_events(events, entity, kpi=none) -%}
    select
        {{ entity }},
        location_id,
        event_date,
        {{ "'" ~ kpi ~ "' as kpi" if kpi else 'kpi' }},
        'ratio' as value_kind,
        0 as window_minutes,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from {{ events }}
    group by {{ entity }}, location_id, event_date{{ '' if kpi else ', kpi' }}
{%- endmacro %}

{#- Join condition: `left` and `right` are the same long-form row (grain, period_start,
    location_id, kpi), e.g. a KPI value and its trailing mean or baseline. -#}
{% macro same_kpi_row(left, right) -%}
    {{ left }}.grain = {{ right }}.grain
    and {{ left }}.period_start = {{ right }}.period_start
    and {{ left }}.location_id = {{ right }}.location_id
    and {{ left }}.kpi = {{ right }}.kpi
{%- endmacro %}

{#- SQL: one survey response's part of nps (100 x (promoters - detractors) / responses):
    +100 for a promoter, -100 for a detractor, 0 for a passive. One expression for the
    engagement events' nps and kpi_by_provider's, so the chain's and a provider's NPS cannot
    be scored differently. -#}
{% macro nps_points(category) -%}
    case {{ category }} when 'promoter' then 100.0 when 'detractor' then -100.0 else 0.0 end
{%- endmacro %}

{#-
    What kind of number each KPI is, where the scorecard needs to know without an event to ask:
    a level (a count or sum: 0 over an empty set, no denominator), a median (null over an empty
    set, no denominator) or a ratio (every other KPI: null when its denominator is 0). The
    data test assert_scorecard_value_kinds holds the built scorecard to these lists.
-#}
{% macro kpi_levels() -%}
    {{ return(['completed_visits', 'leads_unanswered', 'mrr', 'net_revenue', 'new_leads', 'new_patients']) }}
{%- endmacro %}

{% macro kpi_medians() -%}
    {{ return(['lead_response_minutes']) }}
{%- endmacro %}

{#-
    The KPIs whose numerator, and those whose denominator, is an amount of money: kpi_select
    rounds them to whole cents. Each is summed from whole cents (net revenue, COGS, spend) but
    `mrr`, a sum of prices over their billing months (100 / 3): each of its rows is rounded
    once from its exact sum, so the location rows may add up to the chain row ± a cent each.
-#}
{% macro kpi_money_parts() -%}
    {{ return({
        'numerator': [
            'avg_revenue_per_appointment', 'cac', 'gross_margin', 'ltv_12m',
            'membership_revenue_share', 'mrr', 'net_revenue', 'retail_revenue_share',
            'revenue_per_provider', 'revenue_per_room_hour', 'revenue_per_treatment_hour',
        ],
        'denominator': ['gross_margin', 'membership_revenue_share', 'retail_revenue_share'],
    }) }}
{%- endmacro %}

{#- SQL: whether the KPI `kpi` has money in its `part` ('numerator' | 'denominator'). -#}
{% macro kpi_is_money(part) -%}
    {{ return("kpi in ('" ~ kpi_money_parts()[part] | join("', '") ~ "')") }}
{%- endmacro %}

{#- SQL: 'level' | 'median' | 'ratio' for the KPI name `kpi_expr`. -#}
{% macro kpi_value_kind(kpi_expr) -%}
    case
        when {{ kpi_expr }} in ('{{ kpi_levels() | join("', '") }}') then 'level'
        when {{ kpi_expr }} in ('{{ kpi_medians() | join("', '") }}') then 'median'
        else 'ratio'
    end
{%- endmacro %}
