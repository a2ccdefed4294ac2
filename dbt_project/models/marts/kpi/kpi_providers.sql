{#-
    Provider KPIs in the long form.
      revenue_per_provider       net revenue attributed to revenue-generating providers (paid
                                 lines at the invoice's location, local issued date) / number of
                                 revenue-generating providers with a shift there in the period.
                                 Distinct providers do not add up: `_all` is recomputed over the
                                 chain (providers with a shift anywhere), over the locations
                                 where the period has started (a chain across time zones).
      provider_productive_share  completed-appointment hours / shift hours, revenue-generating
                                 providers only. A location's and the chain's row sum the
                                 provider x location cells of the period that hold shift
                                 hours: a provider without a recorded shift at a location in
                                 the period has no share there (kpi_by_provider: null), and
                                 the hours of that cell's appointments stay out of the
                                 location's and the chain's numerator too, which would
                                 otherwise pass 100 % when a location's shifts are missing.
    KPIs whose input tables were never delivered (kpi_coverage.computable = false, e.g.
    provider_productive_share or revenue_per_provider without pms.provider_shifts) have no rows.
-#}
with

productive_events as (
    select * from {{ ref('int_provider_kpi_events') }}
),

providers as (
    select * from {{ ref('stg_pms__providers') }}
    where is_revenue_generating
),

-- paid lines attributed to a revenue-generating provider, summed per location and local day
-- before the expansion to both grains (~40 k location-days against 1.9 M lines at 40
-- locations); sums of decimals, exact whatever the order
attributed_days as (
    select
        revenue_lines.location_id,
        revenue_lines.issued_date,
        sum(revenue_lines.net_amount) as net_revenue
    from {{ ref('fct_invoice_lines') }} as revenue_lines
    inner join providers on revenue_lines.attributed_provider_id = providers.provider_id
    where revenue_lines.is_revenue
    group by revenue_lines.location_id, revenue_lines.issued_date
),

shifts as (
    select * from {{ ref('fct_provider_shifts') }}
    where is_revenue_generating
),

{{ kpi_as_of_cte() }},

grains as (
    select 'week' as grain
    union all
    select 'month' as grain
),

-- shift hours per provider x location x period (the provider's cell at each grain)
productive_cells as (
    select
        grains.grain,
        {{ kpi_period_start('grains.grain', 'productive_events.event_date') }} as period_start,
        productive_events.provider_id,
        productive_events.location_id,
        sum(productive_events.denominator) as shift_hours
    from productive_events
    cross join grains
    group by
        grains.grain,
        {{ kpi_period_start('grains.grain', 'productive_events.event_date') }},
        productive_events.provider_id,
        productive_events.location_id
),

-- each grain's events of the cells with shift hours
productive_cell_events as (
    select
        productive_events.location_id,
        productive_events.event_date,
        productive_cells.grain as event_grain,
        productive_events.kpi,
        productive_events.value_kind,
        productive_events.window_minutes,
        productive_events.numerator,
        productive_events.denominator
    from productive_events
    inner join productive_cells
        on
            productive_events.provider_id = productive_cells.provider_id
            and productive_events.location_id = productive_cells.location_id
            and {{ kpi_period_start('productive_cells.grain', 'productive_events.event_date') }}
            = productive_cells.period_start
    where productive_cells.shift_hours > 0
),

{{ kpi_rollup('productive_cell_events', 'productive', per_grain=true) }},

attributed_revenue as (
    select
        grains.grain,
        {{ kpi_period_start('grains.grain', 'attributed_days.issued_date') }} as period_start,
        attributed_days.location_id,
        sum(attributed_days.net_revenue) as net_revenue
    from attributed_days
    cross join grains
    left join kpi_as_of as started on attributed_days.location_id = started.location_id
    where {{ kpi_period_started(
        kpi_period_start('grains.grain', 'attributed_days.issued_date'), 'started.as_of_local'
    ) }}
    group by
        grains.grain,
        {{ kpi_period_start('grains.grain', 'attributed_days.issued_date') }},
        attributed_days.location_id
),

-- each provider's rostered (ISO week, month) pairs per location: a week or a month counts a
-- provider once however many shifts it holds, so the expansion to both grains handles the
-- distinct pairs, not every shift
rostered_buckets as (
    select distinct
        location_id,
        provider_id,
        {{ week_start('shift_date') }} as week_start,
        {{ month_start('shift_date') }} as month_start
    from shifts
),

rostered_shifts as (
    select
        grains.grain,
        case when grains.grain = 'week' then rostered_buckets.week_start else rostered_buckets.month_start end
            as period_start,
        rostered_buckets.location_id,
        rostered_buckets.provider_id
    from rostered_buckets
    cross join grains
    left join kpi_as_of as started on rostered_buckets.location_id = started.location_id
    where {{ kpi_period_started(
        "case when grains.grain = 'week' then rostered_buckets.week_start else rostered_buckets.month_start end",
        'started.as_of_local'
    ) }}
),

rostered as (
    select
        grain,
        period_start,
        location_id,
        count(distinct provider_id) as providers
    from rostered_shifts
    group by grain, period_start, location_id
    union all
    select
        grain,
        period_start,
        '_all' as location_id,
        count(distinct provider_id) as providers
    from rostered_shifts
    group by grain, period_start
),

revenue_all as (
    select
        grain,
        period_start,
        location_id,
        net_revenue
    from attributed_revenue
    union all
    select
        grain,
        period_start,
        '_all' as location_id,
        sum(net_revenue) as net_revenue
    from attributed_revenue
    group by grain, period_start
),

per_provider as (
    select
        coalesce(revenue_all.grain, rostered.grain) as grain,
        coalesce(revenue_all.period_start, rostered.period_start) as period_start,
        coalesce(revenue_all.location_id, rostered.location_id) as location_id,
        'revenue_per_provider' as kpi,
        {{ safe_divide('coalesce(revenue_all.net_revenue, 0)', 'rostered.providers') }} as value,
        cast(coalesce(revenue_all.net_revenue, 0) as double) as numerator,
        cast(coalesce(rostered.providers, 0) as double) as denominator
    from revenue_all
    full outer join rostered
        on
            revenue_all.grain = rostered.grain
            and revenue_all.period_start = rostered.period_start
            and revenue_all.location_id = rostered.location_id
    -- POS data is this KPI's input: without any revenue line there is no row, not a 0
    where exists (
        select 1 from {{ ref('fct_invoice_lines') }} as revenue_lines
        where revenue_lines.is_revenue
    )
),

per_provider_final as (
    select
        per_provider.*,
        {{ kpi_is_final('per_provider.grain', 'per_provider.period_start', '0', 'kpi_as_of') }} as is_final
    from per_provider
    left join kpi_as_of on per_provider.location_id = kpi_as_of.location_id
    where {{ kpi_period_started('per_provider.period_start', 'kpi_as_of.started_as_of_local') }}
),

unioned as (
    select * from productive
    union all
    select * from per_provider_final
),

{{ kpi_covered('unioned') }}

{{ kpi_select('covered') }}
