{#-
    The closed loop (docs/kpis.md): an alert fires when a *final* KPI misses its target (status
    below / above), or moves the wrong way by more than its seeded tolerance against its
    trailing mean over the previous `alert_trailing_weeks` (4) periods of the same grain.
    Wrong way: down for higher_is_better, up for lower_is_better, away from the band's middle
    for band; KPIs with direction none never alert on moves. Each alert carries its play.
-#}
with

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

trailing_means as (
    select
        current_period.grain,
        current_period.period_start,
        current_period.location_id,
        current_period.kpi,
        avg(history.value) as trailing_mean
    from scorecard as current_period
    inner join scorecard as history
        on
            current_period.grain = history.grain
            and current_period.location_id = history.location_id
            and current_period.kpi = history.kpi
            and current_period.period_start > history.period_start
            and history.period_start >= case
                when current_period.grain = 'week'
                    then cast(
                        {{ dbt.dateadd(
                            'week', -1 * var('alert_trailing_weeks'), 'current_period.period_start'
                        ) }} as date
                    )
                else cast(
                    {{ dbt.dateadd('month', -1 * var('alert_trailing_weeks'), 'current_period.period_start') }} as date
                )
            end
    where current_period.is_final
    group by current_period.grain, current_period.period_start, current_period.location_id, current_period.kpi
),

judged as (
    select
        scorecard.*,
        targets.label,
        targets.unit,
        targets.direction,
        cast(targets.tolerance as double) as tolerance,
        targets.play,
        targets.model,
        trailing_means.trailing_mean,
        {{ safe_divide(
            'scorecard.value - trailing_means.trailing_mean', 'abs(trailing_means.trailing_mean)'
        ) }} as relative_change
    from scorecard
    inner join targets on scorecard.kpi = targets.kpi
    left join trailing_means
        on
            scorecard.grain = trailing_means.grain
            and scorecard.period_start = trailing_means.period_start
            and scorecard.location_id = trailing_means.location_id
            and scorecard.kpi = trailing_means.kpi
    where scorecard.is_final and scorecard.value is not null
),

flagged as (
    select
        judged.*,
        judged.status in ('below', 'above') as missed_target,
        coalesce(
            abs(judged.relative_change) > judged.tolerance
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
        cast(play as varchar) as play
    from flagged
    where missed_target or moved_wrong_way
)

select * from final
