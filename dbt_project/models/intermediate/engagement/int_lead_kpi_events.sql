{%- set lead_event_vars = ['contact_window_minutes', 'booking_window_days', 'lead_response_settle_hours'] -%}
{{
    config(
        materialized='incremental',
        unique_key='event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={
            'touched_columns': ['location_id', 'event_date'],
            'touched_rows': 'changed',
            'marker_rows': 'kpi is null',
        },
        pre_hook=[
            {
                'sql': "{{ add_missing_column('event_key', 'varchar') }}",
                'transaction': false,
            },
            "{{ delete_all_unless(
                written_keys_are_complete('fct_leads', " ~ lead_event_vars ~ ")
                and written_keys_are_complete('dim_patients', " ~ lead_event_vars ~ ")
            ) }}",
        ],
        post_hook=[
            "delete from {{ this }} where kpi is null",
            "{{ record_model_build(" ~ lead_event_vars ~ ") }}",
        ],
    )
}}
{#-
    Grain: lead (or spend day, or new patient) x kpi. The additive events behind every lead KPI
    (docs/kpis.md), dated by the lead's local creation date at its location and
    carrying `lead_channel`, so kpi_engagement (all channels) and kpi_by_channel (per channel)
    roll up the very same events with the `kpi_rollup` macro:
      new_leads                 leads created (sum)
      leads_unanswered          leads never responded to (sum); a response may still come
                                after the period: final lead_response_settle_hours after it
      contact_rate              leads reached within contact_window_minutes / leads
      booking_conversion_rate   leads booked within booking_window_days / leads
      lead_response_minutes     minutes to the first response (median over leads); final
                                lead_response_settle_hours after the period, as above
      cac                       marketing spend (by spend channel) / new patients (first visit
                                at the location, by acquisition channel); `lead_channel` is the
                                spend or acquisition channel
-#}
{#-
    Incremental (delete+insert on `event_key`: the lead, the spend day of a location and
    channel, or the patient an event comes from; docs/incremental-models.md). A lead's events
    depend only on its fct_leads row and a patient's cac event only on its dim_patients row, so
    a nightly run recomputes the leads fct_leads' build in this run wrote and the patients
    dim_patients' build wrote (their written keys; neither deletes a row), and the spend days
    whose fresh sum or location differs from the one built, or that exist on one side only
    (the spend is small: comparing it whole costs less than trusting a record of it). A
    recomputed key left without an event (a patient whose first visit went) writes one marker
    row (null kpi) at its built location and date, which the post-hook deletes. Either written
    record missing or untrusted (macros/touched_entities.sql), or a changed definition: every
    key. The build records the location-days of the events it changed on both sides
    (`touched_columns`, macros/touched.sql; `touched_rows: changed`, the marker rows left out:
    most recomputed leads and patients come back unchanged) for the marts above it.
    Money: one spend event per location x channel x spend day, its amount summed as a decimal
    (exact) and only then made a double, so the marts' per-day sum of it is one value plus
    zeros whatever the order of the rows; every other numerator and denominator is 0 or 1 or
    feeds a median. Rewritten rows move to the end of the table and no value changes.
-#}
{%- set contact_window = var('contact_window_minutes') -%}
{%- set booking_window = var('booking_window_days') * 1440 -%}
{%- set response_settle = var('lead_response_settle_hours') * 60 -%}
{%- set narrow = written_keys_are_complete('fct_leads', lead_event_vars)
    and written_keys_are_complete('dim_patients', lead_event_vars) %}

with

-- one spend event per location x channel x day: the decimal sum is exact
spend_days as (
    select
        location_id,
        channel,
        spend_date,
        cast(sum(amount) as double) as amount
    from {{ ref('fct_marketing_spend') }}
    group by location_id, channel, spend_date
),
{%- if narrow %}

    -- the spend days whose sum differs from the one built, or that exist on one side only
    -- (compared on the key's columns; a key with a null part, which the contract does not
    -- allow, would only be recomputed every night)
    built_spend as (
        select
            built.location_id,
            built.lead_channel,
            built.event_date,
            built.numerator
        from {{ this }} as built
        -- a spend day's event is the only cac event with a zero denominator
        where built.kpi = 'cac' and built.denominator = 0
    ),

    changed_spend as (
        select
            coalesce(spend_days.location_id, built_spend.location_id) as location_id,
            coalesce(spend_days.channel, built_spend.lead_channel) as channel,
            coalesce(spend_days.spend_date, built_spend.event_date) as spend_date
        from spend_days
        full outer join built_spend
            on
                spend_days.location_id = built_spend.location_id
                and spend_days.channel = built_spend.lead_channel
                and spend_days.spend_date = built_spend.event_date
        where
            spend_days.spend_date is null
            or built_spend.event_date is null
            or spend_days.amount is distinct from built_spend.numerator
    ),

    -- the keys this run recomputes that can be left without an event, read by the marker rows
    -- in `final` (sqlfluff lints the two narrow branches apart, hence the noqa): a patient
    -- whose first visit went, a spend day deleted. A lead always keeps its new_leads event
    -- (fct_leads never deletes one), and both are cac events only.
    dirty as (  -- noqa: ST03
        select 'patient|' || written.written_key as event_key
        from ({{ written_keys_of('dim_patients') }}) as written
        union all
        select {{ spend_event_key('changed_spend') }} as event_key from changed_spend
    ),

    leads as (
        select * from {{ ref('fct_leads') }}
        where lead_key in ({{ written_keys_of('fct_leads') }})
    ),

    spend as (
        select spend_days.*
        from spend_days
        inner join changed_spend
            on
                spend_days.location_id is not distinct from changed_spend.location_id
                and spend_days.channel is not distinct from changed_spend.channel
                and spend_days.spend_date is not distinct from changed_spend.spend_date
    ),

    patients as (
        select * from {{ ref('dim_patients') }}
        where patient_key in ({{ written_keys_of('dim_patients') }})
    ),
{%- else %}

    leads as (
        select * from {{ ref('fct_leads') }}
    ),

    spend as (
        select * from spend_days
    ),

    patients as (
        select * from {{ ref('dim_patients') }}
    ),
{%- endif %}

{#- kpi, value_kind, window_minutes, numerator, denominator, condition: one event per lead -#}
{%- set lead_kpis = [
    ('new_leads', 'sum', 0, '1.0', 'null', 'true'),
    ('leads_unanswered', 'sum', response_settle, 'case when is_responded then 0.0 else 1.0 end', 'null', 'true'),
    ('contact_rate', 'ratio', contact_window, 'case when is_reached_in_window then 1.0 else 0.0 end', '1.0', 'true'),
    ('booking_conversion_rate', 'ratio', booking_window,
        'case when is_booked_in_window then 1.0 else 0.0 end', '1.0', 'true'),
    ('lead_response_minutes', 'median', response_settle, 'response_minutes', 'null', 'response_minutes is not null'),
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
            cast({{ denominator }} as double) as denominator,
            'lead|' || lead_key as event_key
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
        0.0 as denominator,
        {{ spend_event_key('spend') }} as event_key
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
        1.0 as denominator,
        'patient|' || patient_key as event_key
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
        cast(denominator as double) as denominator,
        cast(event_key as varchar) as event_key
    from events
    {%- if narrow %}

        union all

        -- one row per recomputed key left without an event, at its built location and date, so
        -- delete+insert removes its old events; the post-hook deletes these rows
        select distinct on (built.event_key)
            built.location_id,
            cast(null as varchar) as lead_channel,
            built.event_date,
            cast(null as varchar) as kpi,
            cast(null as varchar) as value_kind,
            cast(null as integer) as window_minutes,
            cast(null as double) as numerator,
            cast(null as double) as denominator,
            built.event_key
        from {{ this }} as built
        where
            built.kpi = 'cac'
            and built.event_key in (select dirty.event_key from dirty)
            and built.event_key not in (
                select events.event_key from events where events.event_key is not null
            )
    {%- endif %}
)

select * from final
