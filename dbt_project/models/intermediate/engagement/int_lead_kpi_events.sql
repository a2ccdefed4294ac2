{#-
    Grain: lead (or spend day, or new patient) x kpi. The additive events behind every lead KPI
    (docs/kpis.md), dated by the lead's local creation date at its location and
    carrying `lead_channel`, so kpi_engagement (all channels) and kpi_by_channel (per channel)
    roll up the very same events with the `kpi_rollup` macro:
      new_leads                 leads created (sum)
      leads_unanswered          leads never responded to (sum)
      contact_rate              leads reached within contact_window_minutes / leads
      booking_conversion_rate   leads booked within booking_window_days / leads
      lead_response_minutes     minutes to the first response (median over leads)
      cac                       marketing spend (by spend channel) / new patients (first visit
                                at the location, by acquisition channel); `lead_channel` is the
                                spend or acquisition channel
-#}
{%- set contact_window = var('contact_window_minutes') -%}
{%- set booking_window = var('booking_window_days') * 1440 -%}

with

leads as (
    select * from {{ ref('fct_leads') }}
),

spend as (
    select * from {{ ref('fct_marketing_spend') }}
),

patients as (
    select * from {{ ref('dim_patients') }}
),

{#- kpi, value_kind, window_minutes, numerator, denominator, condition: one event per lead -#}
{%- set lead_kpis = [
    ('new_leads', 'sum', 0, '1.0', 'null', 'true'),
    ('leads_unanswered', 'sum', 0, 'case when is_responded then 0.0 else 1.0 end', 'null', 'true'),
    ('contact_rate', 'ratio', contact_window, 'case when is_reached_in_window then 1.0 else 0.0 end', '1.0', 'true'),
    ('booking_conversion_rate', 'ratio', booking_window,
        'case when is_booked_in_window then 1.0 else 0.0 end', '1.0', 'true'),
    ('lead_response_minutes', 'median', 0, 'response_minutes', 'null', 'response_minutes is not null'),
] %}

events as (
    {%- for kpi, kind, window, numerator, denominator, condition in lead_kpis %}
        select
            location_id,
            channel as lead_channel,
            created_local_date as event_date,
            '{{ kpi }}' as kpi,
            '{{ kind }}' as value_kind,
            {{ window }} as window_minutes,
            cast({{ numerator }} as double) as numerator,
            cast({{ denominator }} as double) as denominator
        from leads
        where {{ condition }}

        union all
    {%- endfor %}

    select
        location_id,
        channel as lead_channel,
        spend_date as event_date,
        'cac' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        cast(amount as double) as numerator,
        0.0 as denominator
    from spend

    union all

    select
        first_visit_location_id as location_id,
        acquisition_channel as lead_channel,
        first_visit_date as event_date,
        'cac' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        0.0 as numerator,
        1.0 as denominator
    from patients
    where first_visit_date is not null
),

final as (
    select
        cast(location_id as varchar) as location_id,
        cast(lead_channel as varchar) as lead_channel,
        cast(event_date as date) as event_date,
        cast(kpi as varchar) as kpi,
        cast(value_kind as varchar) as value_kind,
        cast(window_minutes as integer) as window_minutes,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from events
)

select * from final
