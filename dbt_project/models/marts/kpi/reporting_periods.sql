{#-
    The periods the dashboards and reports lead with: per grain, the last complete period, i.e.
    the newest period whose chain-wide KPIs are final. A KPI is final only once its period plus
    its window has ended at the data's as-of time in every location, so that period has ended
    everywhere; periods still open (and future weeks holding bookings) never qualify.
    One row per grain; period_start is null while no period is complete yet. as_of_at: the
    data's as-of instant every is_final is judged against (int_data_as_of), so a reader can
    tell why a period is not complete yet without reading the warehouse.
-#}
with

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

as_of as (
    select * from {{ ref('int_data_as_of') }}
),

grains as (
    select 'week' as grain
    union all
    select 'month' as grain
),

complete as (
    select
        grain,
        max(period_start) as period_start
    from scorecard
    where location_id = '_all' and is_final
    group by grain
),

final as (
    select
        cast(grains.grain as varchar) as grain,
        cast(complete.period_start as date) as period_start,
        cast({{ dbt.dateadd('day', -1, period_end_exclusive('grains.grain', 'complete.period_start')) }} as date)
            as period_end,
        cast(as_of.as_of_at as timestamptz) as as_of_at
    from grains
    left join complete on grains.grain = complete.grain
    cross join as_of
)

select * from final
