{#-
    Engagement KPIs in the scorecard's long form (docs/kpis.md; also nps and cac):
    the lead events (all channels together) and the other engagement events rolled up with
    `kpi_rollup`; lead_response_minutes is a median, recomputed chain-wide from the leads.
    KPIs whose input tables were never delivered (kpi_coverage.computable = false) have no rows.
-#}
with

events as (
    select
        location_id,
        event_date,
        cast(null as varchar) as event_grain,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from {{ ref('int_lead_kpi_events') }}
    union all
    select
        location_id,
        event_date,
        event_grain,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from {{ ref('int_engagement_kpi_events') }}
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', per_grain=true, medians=true) }},

covered as (
    select rolled.*
    from rolled
    inner join {{ ref('kpi_coverage') }} as coverage
        on rolled.kpi = coverage.kpi and coverage.computable
)

{{ kpi_select('covered') }}
