{#-
    Grain: location x local issued date x attributed provider x service category x line type x
    kpi. Additive events of the revenue KPIs over paid invoice lines (open, void and refunded
    invoices count for nothing), rolled up by the kpi marts:
      net_revenue               Σ net_amount (sum)
      gross_margin              (net revenue - COGS) / net revenue
      membership_revenue_share  net revenue of membership_fee lines / net revenue
      retail_revenue_share      net revenue of retail_product lines / net revenue
-#}
with

lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where is_revenue
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
