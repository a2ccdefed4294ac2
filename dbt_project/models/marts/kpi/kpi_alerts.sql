{#-
    The closed loop (docs/kpis.md): an alert fires when a *final* KPI misses its target (status
    below / above), or moves the wrong way by more than its seeded tolerance against its
    trailing mean over the previous `alert_trailing_weeks` (4) periods of the same grain.
    Wrong way: down for higher_is_better, up for lower_is_better, away from the band's middle
    for band; KPIs with direction none never alert on moves. Each alert carries its play: for
    a band KPI, the play of the side the value is on (above the band's middle: play_above,
    e.g. a membership share over its range is not answered by promoting memberships).
    is_new: the same KPI and location did not alert in the previous period of the grain;
    periods_running: how many consecutive periods (this one included) it has alerted, so the
    flash can lead with what changed and fold a target the clinic never reaches into one line.
    Periods not started at the as-of time are never reported (nor final), so never alert.
-#}
with

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

-- over every period of the scorecard (final or not), as the alert compares with what was
-- reported: the window runs over every row before `judged` keeps the final ones, on the same
-- rows (no join of the scorecard with its own means). One select per grain: a case over both
-- grains' frames evaluated both range windows on every row.
with_trailing_means as (
    select
        *,
        avg(value) over (
            week_periods range between interval {{ var('alert_trailing_weeks') }} week preceding
            and interval 1 day preceding
        ) as trailing_mean
    from scorecard
    where grain = 'week'
    window week_periods as (partition by location_id, kpi order by period_start)
    union all
    select
        *,
        avg(value) over (
            month_periods range between interval {{ var('alert_trailing_weeks') }} month preceding
            and interval 1 day preceding
        ) as trailing_mean
    from scorecard
    where grain = 'month'
    window month_periods as (partition by location_id, kpi order by period_start)
),

judged as (
    select
        with_trailing_means.*,
        targets.label,
        targets.unit,
        targets.direction,
        cast(targets.tolerance as double) as tolerance,
        case
            when
                targets.direction = 'band'
                and with_trailing_means.value > (targets.target_low + targets.target_high) / 2
                then targets.play_above
            else targets.play
        end as play,
        targets.model,
        {{ safe_divide(
            'with_trailing_means.value - with_trailing_means.trailing_mean',
            'abs(with_trailing_means.trailing_mean)'
        ) }} as relative_change
    from with_trailing_means
    inner join targets on with_trailing_means.kpi = targets.kpi
    where with_trailing_means.is_final and with_trailing_means.value is not null
),

flagged as (
    select
        judged.*,
        judged.status in ('below', 'above') as missed_target,
        coalesce(
            -- "by more than": compared at 9 decimals, so a change exactly equal to the
            -- tolerance (a mean of 20/141 falling to 17/141 is exactly -0.15) does not fire
            -- or not on the last bit of a float's summation order
            (
                round(abs(judged.relative_change), 9) > judged.tolerance
                -- from a trailing mean of 0 any move is unbounded in relative terms (leads
                -- left unanswered going from none to 7): beyond every tolerance
                or (judged.trailing_mean = 0 and judged.value <> 0)
            )
            and case
                when judged.direction = 'higher_is_better'
                    then judged.value < judged.trailing_mean
                when judged.direction = 'lower_is_better'
                    then judged.value > judged.trailing_mean
                when judged.direction = 'band'
                    then (
                        abs(judged.value - (judged.target_low + judged.target_high) / 2)
                        > abs(judged.trailing_mean - (judged.target_low + judged.target_high) / 2)
                    )
                else false
            end,
            false
        ) as moved_wrong_way
    from judged
),

fired as (
    select
        flagged.*,
        -- consecutive periods have consecutive indexes (weeks or months since a Monday, 2000-01-03)
        case
            when flagged.grain = 'week'
                then {{ dbt.datediff("cast('2000-01-03' as date)", 'flagged.period_start', 'week') }}
            else {{ dbt.datediff("cast('2000-01-03' as date)", 'flagged.period_start', 'month') }}
        end as period_index
    from flagged
    where flagged.missed_target or flagged.moved_wrong_way
),

runs as (
    select
        fired.*,
        fired.period_index - row_number() over (
            partition by fired.grain, fired.location_id, fired.kpi order by fired.period_start
        ) as run_id
    from fired
),

counted as (
    select
        runs.*,
        row_number() over (
            partition by runs.grain, runs.location_id, runs.kpi, runs.run_id order by runs.period_start
        ) as periods_running
    from runs
),

final as (
    select
        cast(grain as varchar) as grain,
        cast(period_start as date) as period_start,
        cast(location_id as varchar) as location_id,
        cast(kpi as varchar) as kpi,
        cast(label as varchar) as label,
        cast(model as varchar) as model,
        cast(value as double) as value,
        cast(target_low as double) as target_low,
        cast(target_high as double) as target_high,
        cast(status as varchar) as status,
        cast(trailing_mean as double) as trailing_mean,
        cast(relative_change as double) as relative_change,
        cast(tolerance as double) as tolerance,
        cast(direction as varchar) as direction,
        cast(
            case
                when missed_target and moved_wrong_way then 'missed_target_and_moved_wrong_way'
                when missed_target then 'missed_target'
                else 'moved_wrong_way'
            end as varchar
        ) as alert_reason,
        cast(play as varchar) as play,
        cast(periods_running = 1 as boolean) as is_new,
        cast(periods_running as integer) as periods_running
    from counted
)

select * from final
