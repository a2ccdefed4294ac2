{%- set dated = {'fct_leads': 'created_local_date'} -%}
{{
    config(
        materialized='incremental',
        unique_key=['grain', 'period_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ kpi_rollup_prepare_with([], [], " ~ dated ~ ") }}",
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Speed to lead: leads (by created_at's local date) by the time to their first response, per
    location x week / month and chain-wide (`_all`). Grain: grain x period_start x location_id
    x response_bucket. response_bucket (minutes from created_at to the first response, fct_leads):
    under_5m (< 5), 5_15m (5 to < 15), 15_60m (15 to < 60), 1_4h (60 to < 240), over_4h (>= 240),
    never (no response). Per bucket: leads, contacted (reached within contact_window_minutes)
    and booked (booked within booking_window_days), with contact_rate and
    booking_conversion_rate as in kpi_engagement; the buckets' leads add up to new_leads for
    the same location and period. is_final once the booking window after the period has ended.
    Periods not started at the as-of time are not reported; `_all` is reported once a period
    has started at any location, from the locations where it has.
    Incremental (macros/kpi_rollup_incremental.sql): a nightly run rewrites only the periods
    from the earliest one fct_leads' touched record (the location and creation date of each
    lead it rewrote, both sides), the as-of move or a non-final row can have changed;
    otherwise it rebuilds whole.
-#}
{%- set contact_window = var('contact_window_minutes') -%}
{%- set booking_window = var('booking_window_days') * 1440 -%}

with

leads as (
    select * from {{ ref('fct_leads') }}
),

bucketed as (
    select
        location_id,
        created_local_date as event_date,
        case
            when response_minutes is null then 'never'
            when response_minutes < 5 then 'under_5m'
            when response_minutes < 15 then '5_15m'
            when response_minutes < 60 then '15_60m'
            when response_minutes < 240 then '1_4h'
            else 'over_4h'
        end as response_bucket,
        is_reached_in_window,
        is_booked_in_window
    from leads
),

measures as (
    select
        'leads' as kpi,
        'sum' as value_kind,
        0 as window_minutes
    union all
    select
        'contact_rate' as kpi,
        'ratio' as value_kind,
        {{ contact_window }} as window_minutes
    union all
    select
        'booking_conversion_rate' as kpi,
        'ratio' as value_kind,
        {{ booking_window }} as window_minutes
),

events as (
    select
        bucketed.location_id,
        bucketed.event_date,
        bucketed.response_bucket,
        measures.kpi,
        measures.value_kind,
        measures.window_minutes,
        case
            when measures.kpi = 'leads' then 1.0
            when measures.kpi = 'contact_rate' and bucketed.is_reached_in_window then 1.0
            when measures.kpi = 'booking_conversion_rate' and bucketed.is_booked_in_window then 1.0
            else 0.0
        end as numerator,
        case when measures.kpi = 'leads' then cast(null as double) else 1.0 end as denominator
    from bucketed
    cross join measures
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup(
    'events', 'rolled', dims=['response_bucket'], daily=false,
    recompute_from=kpi_rollup_cutoffs_with([], [], dated),
) }},

final as (
    select
        grain,
        period_start,
        location_id,
        response_bucket,
        max(case when kpi = 'leads' then numerator end) as leads,
        max(case when kpi = 'contact_rate' then numerator end) as contacted,
        max(case when kpi = 'booking_conversion_rate' then numerator end) as booked,
        max(case when kpi = 'contact_rate' then value end) as contact_rate,
        max(case when kpi = 'booking_conversion_rate' then value end) as booking_conversion_rate,
        min(case when is_final then 1 else 0 end) = 1 as is_final
    from rolled
    group by grain, period_start, location_id, response_bucket
)

select
    cast(grain as varchar) as grain,
    cast(period_start as date) as period_start,
    cast(location_id as varchar) as location_id,
    cast(response_bucket as varchar) as response_bucket,
    cast(leads as bigint) as leads,
    cast(contacted as bigint) as contacted,
    cast(booked as bigint) as booked,
    cast(contact_rate as double) as contact_rate,
    cast(booking_conversion_rate as double) as booking_conversion_rate,
    cast(is_final as boolean) as is_final
from final
