{%- set lead_vars = ['contact_window_minutes', 'booking_window_days'] -%}
{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['location_id', 'created_local_date'], 'touched_rows': 'changed'},
        pre_hook="{{ delete_all_unless(
            written_keys_are_complete('int_lead_touches', " ~ lead_vars ~ ")
            and written_keys_are_complete('int_lead_patients', " ~ lead_vars ~ ")
            and touched_partitions_are_complete('int_patient_visits', [], " ~ lead_vars ~ ")
        ) }}",
        post_hook="{{ record_load_watermark(['stg_crm__leads', 'stg_pms__locations'], " ~ lead_vars ~ ") }}",
    )
}}
{#-
    One row per lead (grain: lead_key), in its location's local time, with what happened next:
    - first_response_at / response_minutes: the first touch at or after created_at that
      answers the lead (outbound call or message to it; an answered inbound call from it, at
      answered_at). A response before created_at is ignored. Null = never answered.
    - is_reached_in_window: an answered call or an inbound message from the lead in
      [created_at, created_at + contact_window_minutes] (the edge counts).
    - is_booked_in_window: the lead's patient (int_lead_patients) booked an appointment with
      booked_at in [created_at, created_at + booking_window_days] (the edge counts).
    Incremental (delete+insert on lead_key; one row per lead, and staging never deletes one):
    a lead's row depends on its own CRM row, its location's time zone, its touches, its
    patient and that patient's appointments, so a run recomputes the leads of loads newer than
    the model's watermark, the leads int_lead_touches and int_lead_patients rewrote in this
    run (their written keys) and the leads whose patient's appointments int_patient_visits
    rewrote in this run (its touched record: every appointment of a patient with a changed
    one, before and after a move); a location of a newer load recomputes every lead. Any of
    those records missing or untrusted (macros/touched.sql), or a changed definition: every
    lead. The build records the location and local creation date of the leads whose row it
    changed, before and after (`touched_columns`, `touched_rows: changed`: a lead recomputed
    because its patient booked again usually comes back unchanged), for kpi_by_response_time.
-#}
{%- set contact_window_minutes = var('contact_window_minutes') -%}
{%- set booking_window_days = var('booking_window_days') -%}
{%- set narrow = written_keys_are_complete('int_lead_touches', lead_vars)
    and written_keys_are_complete('int_lead_patients', lead_vars)
    and touched_partitions_are_complete('int_patient_visits', [], lead_vars) %}

with

all_leads as (

    select * from {{ ref('stg_crm__leads') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

{%- if narrow %}

    watermark as (

        {{ built_watermark(lead_vars) }}

    ),

    -- the leads this run recomputes
    dirty_leads as (

        select all_leads.lead_key
        from all_leads
        where
            {{ loaded_after('all_leads._dlt_load_id', '(select watermark.load_id from watermark)') }}
            or exists (
                select 1 from {{ ref('stg_pms__locations') }} as new_locations
                where {{ loaded_after('new_locations._dlt_load_id', '(select watermark.load_id from watermark)') }}
            )
        union
        {{ written_keys_of('int_lead_touches') }}
        union
        {{ written_keys_of('int_lead_patients') }}
        union
        select lead_patients.lead_key
        from {{ ref('int_lead_patients') }} as lead_patients
        where lead_patients.patient_key in ({{ touched_entities('int_patient_visits', 'patient_key') }})

    ),

    leads as (

        select * from all_leads
        where lead_key in (select dirty_leads.lead_key from dirty_leads)

    ),

    touches as (

        select * from {{ ref('int_lead_touches') }}
        where lead_key in (select dirty_leads.lead_key from dirty_leads)

    ),

    lead_patients as (

        select * from {{ ref('int_lead_patients') }}
        where lead_key in (select dirty_leads.lead_key from dirty_leads)

    ),

    appointments as (

        select * from {{ ref('stg_pms__appointments') }}
        where patient_key in (select lead_patients.patient_key from lead_patients)

    ),
{%- else %}

    leads as (

        select * from all_leads

    ),

    touches as (

        select * from {{ ref('int_lead_touches') }}

    ),

    lead_patients as (

        select * from {{ ref('int_lead_patients') }}

    ),

    appointments as (

        select * from {{ ref('stg_pms__appointments') }}

    ),
{%- endif %}

responses as (

    select
        touches.lead_key,
        min(touches.response_at) as first_response_at
    from touches
    inner join leads
        on touches.lead_key = leads.lead_key
    where touches.response_at >= leads.created_at
    group by touches.lead_key

),

reaches as (

    select
        touches.lead_key,
        min(touches.reach_at) as first_reached_at
    from touches
    inner join leads
        on touches.lead_key = leads.lead_key
    where
        touches.reach_at >= leads.created_at
        and touches.reach_at <= {{ dbt.dateadd('minute', contact_window_minutes, 'leads.created_at') }}
    group by touches.lead_key

),

bookings as (

    select
        leads.lead_key,
        min(appointments.booked_at) as first_booked_at
    from leads
    inner join lead_patients
        on leads.lead_key = lead_patients.lead_key
    inner join appointments
        on lead_patients.patient_key = appointments.patient_key
    where appointments.booked_at >= leads.created_at
    group by leads.lead_key

),

localized as (

    select
        leads.*,
        {{ local_timestamp('leads.created_at', 'locations.timezone') }} as created_at_local
    from leads
    left join locations
        on leads.location_id = locations.location_id

),

final as (

    select
        -- ids
        localized.lead_key,
        localized.location_id,
        lead_patients.patient_key,
        lead_patients.patient_match_method,

        -- attributes
        localized.channel,
        localized.campaign,
        localized.interested_category,
        localized.status,

        -- timestamps
        localized.created_at,
        localized.created_at_local,
        cast(localized.created_at_local as date) as created_local_date,
        {{ week_start('localized.created_at_local') }} as week_start,
        {{ month_start('localized.created_at_local') }} as month_start,

        -- response
        responses.first_response_at,
        {{ dbt.datediff('localized.created_at', 'responses.first_response_at', 'second') }}
        / 60.0 as response_minutes,
        responses.first_response_at is not null as is_responded,
        reaches.first_reached_at is not null as is_reached_in_window,

        -- booking
        bookings.first_booked_at,
        coalesce(
            bookings.first_booked_at
            <= {{ dbt.dateadd('day', booking_window_days, 'localized.created_at') }},
            false
        ) as is_booked_in_window
    from localized
    left join lead_patients
        on localized.lead_key = lead_patients.lead_key
    left join responses
        on localized.lead_key = responses.lead_key
    left join reaches
        on localized.lead_key = reaches.lead_key
    left join bookings
        on localized.lead_key = bookings.lead_key

)

select * from final
