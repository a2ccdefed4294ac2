{{ config(materialized='view') }}
{#-
    Every row the scorecard must hold (docs/kpis.md): each KPI the delivered data can compute
    (kpi_coverage), at each location and chain-wide (`_all`), for each week and month that has
    started at the as-of time, from the location's calendar start (int_location_days: the same
    days the levels' zero rows cover). Cohort KPIs (model kpi_cohorts) are monthly only.
    Grain: grain x period_start x location_id x kpi.

    Why: a ratio is null when its denominator is 0, and a period with no event of a ratio (no
    completed visit to rebook at, no reactivation message sent) has no row in its family mart,
    so without this grid the KPI would vanish from the scorecard exactly when nothing happened.
    The scorecard fills each missing ratio or median cell with a null value; levels already
    have a 0 row on every one of these cells (kpi_zero_level_events), and value_kind says which
    a KPI is (macros/kpi.sql, kpi_value_kind).

    is_final of a cell without events: its period has ended at the location's as-of time
    (`_all`: everywhere), the rule for a KPI without a window after the event; a cohort cell,
    as a cohort row: once day `retention_window_days` after the month has ended everywhere.
    A view: the scorecard is its one reader, and a night writes nothing for it.
-#}
with

location_days as (
    select * from {{ ref('int_location_days') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

coverage as (
    select * from {{ ref('kpi_coverage') }}
),

{{ kpi_as_of_cte() }},

grains as (
    select 'week' as grain
    union all
    select 'month' as grain
),

location_periods as (
    select distinct
        grains.grain,
        {{ kpi_period_start('grains.grain', 'location_days.date_day') }} as period_start,
        location_days.location_id
    from location_days
    cross join grains
),

started_periods as (
    select
        location_periods.grain,
        location_periods.period_start,
        location_periods.location_id
    from location_periods
    inner join kpi_as_of
        on location_periods.location_id = kpi_as_of.location_id
    where {{ kpi_period_started('location_periods.period_start', 'kpi_as_of.started_as_of_local') }}
),

-- `_all`: every period started at any location (its row sums the locations where it has)
periods as (
    select * from started_periods
    union all
    select distinct
        grain,
        period_start,
        '_all' as location_id
    from started_periods
),

computable_kpis as (
    select
        targets.kpi,
        targets.model = 'kpi_cohorts' as is_cohort
    from targets
    inner join coverage
        on targets.kpi = coverage.kpi and coverage.computable
),

cells as (
    select
        periods.grain,
        periods.period_start,
        periods.location_id,
        computable_kpis.kpi,
        computable_kpis.is_cohort
    from periods
    cross join computable_kpis
    where not computable_kpis.is_cohort or periods.grain = 'month'
),

final as (
    select
        cast(cells.grain as varchar) as grain,
        cast(cells.period_start as date) as period_start,
        cast(cells.location_id as varchar) as location_id,
        cast(cells.kpi as varchar) as kpi,
        cast({{ kpi_value_kind('cells.kpi') }} as varchar) as value_kind,
        cast(
            case
                when cells.is_cohort
                    then coalesce(
                        chain_as_of.as_of_local >= cast({{ dbt.dateadd('day', var('retention_window_days'),
                            dbt.dateadd('month', 1, 'cells.period_start')) }} as timestamp),
                        false
                    )
                else {{ kpi_is_final('cells.grain', 'cells.period_start', '0', 'location_as_of') }}
            end as boolean
        ) as is_final
    from cells
    left join kpi_as_of as location_as_of
        on cells.location_id = location_as_of.location_id
    left join kpi_as_of as chain_as_of
        on chain_as_of.location_id = '_all'
)

select * from final
