{#-
    Per-service-category drill-down (long form plus service_category): net_revenue of paid
    lines by the line's service category ('none' for lines without a service, e.g. retail),
    confirmation_response_rate by the appointment's service category.
-#}
with

invoice_events as (
    select * from {{ ref('int_invoice_kpi_events') }}
    where kpi = 'net_revenue'
),

appointment_events as (
    select * from {{ ref('int_appointment_kpi_events') }}
    where kpi = 'confirmation_response_rate'
),

events as (
    select
        location_id,
        event_date,
        coalesce(service_category, 'none') as service_category,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from invoice_events
    union all
    select
        location_id,
        event_date,
        coalesce(service_category, 'none') as service_category,
        kpi,
        value_kind,
        window_minutes,
        numerator,
        denominator
    from appointment_events
),

{{ kpi_as_of_cte() }},

{{ kpi_rollup('events', 'rolled', dims=['service_category']) }}

{{ kpi_select('rolled', dims=['service_category']) }}
