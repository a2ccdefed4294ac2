{#-
    Engagement KPIs in the scorecard's long form (docs/kpis.md; also nps and cac):
    the lead events (all channels together) and the other engagement events rolled up with
    `kpi_rollup`; lead_response_minutes is a median, recomputed chain-wide from the leads.
    KPIs whose input tables were never delivered (kpi_coverage.computable = false) have no rows.
    new_leads and leads_unanswered are levels: 0, not absent, on every location-day of the
    calendar (int_location_days) once their leads source was delivered, so a started
    location-period without a lead reports 0; never delivered (crm absent): no rows.
-#}
with

lead_levels as (
    select 'new_leads' as kpi
    union all
    select 'leads_unanswered' as kpi
),

-- not materialized: kpi_rollup reads the events twice (the sums, then the median's events);
-- scanning the two event models twice costs less than writing their 3.5 M rows (at 40
-- locations) into a temporary result first
events as not materialized (
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
    union all
    -- levels: a 0 on every location-day of the calendar (the coverage join below drops them
    -- when the leads source was never delivered)
    select
        location_days.location_id,
        location_days.date_day as event_date,
        cast(null as varchar) as event_grain,
        level_kpis.kpi,
        'sum' as value_kind,
        0 as window_minutes,
        0.0 as numerator,
        cast(null as double) as denominator
    from {{ ref('int_location_days') }} as location_days
    cross join lead_levels as level_kpis
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', per_grain=true, medians=true) }},

{{ kpi_covered('rolled') }}

{{ kpi_select('covered') }}
