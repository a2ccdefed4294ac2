{%- set narrow = touched_partitions_are_complete('fct_invoice_lines', ['location_id', 'issued_date']) -%}
{{
    config(
        materialized='incremental',
        unique_key=['location_id', 'event_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['location_id', 'event_date'], 'touched_rows': 'batch'},
        pre_hook="{{ clear_touched_partitions(
            'fct_invoice_lines', ['location_id', 'issued_date'], ['location_id', 'event_date']
        ) }}",
        post_hook="{{ record_model_build() }}",
    )
}}
{#-
    Grain: location x local issued date x attributed provider x service category x line type x
    kpi. Additive events of the revenue KPIs over paid invoice lines (open, void and refunded
    invoices count for nothing), rolled up by the kpi marts:
      net_revenue               Σ net_amount (sum)
      gross_margin              (net revenue - COGS) / net revenue
      membership_revenue_share  net revenue of membership_fee lines / net revenue
      retail_revenue_share      net revenue of retail_product lines / net revenue
    Incremental (delete+insert on location x event date): a location-day's events sum only
    its own lines, so a run recomputes the location-days holding a line that the fact's build
    in this run rewrote, on either side of the change (macros/touched.sql). When that record
    cannot be trusted (the fact was built whole, or more than once since this model, or this
    model's definition changed), the run rebuilds every day. The pre-hook deletes the days it
    rebuilds first, so a day left with no paid line loses its events.
-#}
with

-- the paid lines of the days this run writes (every day in a full build)
lines as (
    select all_lines.*
    from {{ ref('fct_invoice_lines') }} as all_lines
    {%- if narrow %}
        where
            all_lines.is_revenue
            and exists (
                select 1 from {{ touched_relation('fct_invoice_lines') }} as touched
                where
                    not touched.is_marker
                    and touched.location_id = all_lines.location_id
                    and touched.issued_date = all_lines.issued_date
            )
    {%- else %}
        where all_lines.is_revenue
    {%- endif %}
),

daily as (
    select
        location_id,
        issued_date as event_date,
        attributed_provider_id as provider_id,
        service_category,
        line_type,
        sum(net_amount) as net_revenue,
        sum(cost_amount) as cogs
    from lines
    group by location_id, issued_date, attributed_provider_id, service_category, line_type
),

events as (
    select
        *,
        'net_revenue' as kpi,
        'sum' as value_kind,
        net_revenue as numerator,
        cast(null as double) as denominator
    from daily
    union all
    select
        *,
        'gross_margin' as kpi,
        'ratio' as value_kind,
        net_revenue - cogs as numerator,
        net_revenue as denominator
    from daily
    union all
    select
        *,
        'membership_revenue_share' as kpi,
        'ratio' as value_kind,
        case when line_type = 'membership_fee' then net_revenue else 0 end as numerator,
        net_revenue as denominator
    from daily
    union all
    select
        *,
        'retail_revenue_share' as kpi,
        'ratio' as value_kind,
        case when line_type = 'retail_product' then net_revenue else 0 end as numerator,
        net_revenue as denominator
    from daily
),

final as (
    select
        location_id,
        event_date,
        provider_id,
        service_category,
        line_type,
        kpi,
        value_kind,
        0 as window_minutes,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from events
)

select * from final
