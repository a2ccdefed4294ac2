{#- net_revenue per invoice line type (service, retail_product, membership_fee, package, gift_card). -#}
with

events as (
    select * from {{ ref('int_invoice_kpi_events') }}
    where kpi = 'net_revenue'
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['line_type']) }}

{{ kpi_select('rolled', dims=['line_type']) }}
