{%- set narrow = touched_partitions_are_complete('fct_appointments') -%}
{{
    config(
        materialized='incremental',
        unique_key=['room_id', 'event_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={
            'touched_columns': ['location_id', 'event_date'],
            'touched_rows': 'changed',
            'marker_rows': 'kpi is null',
        },
        pre_hook="{{ delete_all_unless(touched_partitions_are_complete('fct_appointments')) }}",
        post_hook=[
            "delete from {{ this }} where kpi is null",
            "{{ record_model_build() }}",
        ],
    )
}}
{#-
    Grain: treatment room x local date x kpi. Additive events of the room KPIs (docs/kpis.md):
      revenue_per_room_hour       net revenue of paid invoices linked to appointments in the
                                  room, by the appointment's scheduled_start date / the room's
                                  available hours (location open hours while the room is active)
      revenue_per_treatment_hour  the same revenue / hours of completed appointments in the room
      room_utilization            hours of completed appointments / available hours
    Revenue KPIs need POS data: without any invoice they have no events (no fake zeros).
-#}
{#-
    Incremental (delete+insert on room x event date, docs/incremental-models.md): a room-day's
    events depend only on the room's appointments of that day and its available hours, so a
    nightly run recomputes the room-days holding an appointment fct_appointments' build in this
    run rewrote, on either side of the change (its touched record names each appointment's room
    and local date, macros/touched.sql), and the room-days whose available hours or location
    differ from the ones built (a new day as the as-of date moves, changed opening hours) or that
    exist on one side only. Each recomputed room-day writes one row with a null kpi, which the
    post-hook deletes, so a room-day left without events loses its old rows. When the record
    cannot be trusted (macros/touched.sql), this model changed, or POS data appeared or went
    (the revenue KPIs), every room-day is recomputed.
-#}
with

all_room_days as (
    select * from {{ ref('int_room_days') }}
    where room_type = 'treatment'
),

rooms as (
    select * from {{ ref('stg_pms__rooms') }}
),

invoices as (
    select * from {{ ref('stg_pos__invoices') }}
),

has_pos as (
    select exists(select 1 from invoices) as flag
),

{%- if narrow %}

    -- every room-day built: each has a room_utilization row (its hours, or 0 when it was
    -- built from appointments alone)
    built_days as (
        select
            built.room_id,
            built.location_id,
            built.event_date,
            built.denominator
        from {{ this }} as built
        where built.kpi = 'room_utilization'
    ),

    -- POS data appeared or went since the last build (the revenue KPIs)
    pos_flipped as (
        select
            (select has_pos.flag from has_pos) <> exists (
                select 1 from {{ this }} as built
                where built.kpi = 'revenue_per_room_hour'
            ) as flag
    ),

    -- the room-days whose events this run recomputes
    dirty as (
        select distinct
            touched.room_id,
            touched.scheduled_date as event_date
        from {{ touched_relation('fct_appointments') }} as touched
        where not touched.is_marker and touched.room_id is not null
        union
        select
            coalesce(all_room_days.room_id, built_days.room_id) as room_id,
            coalesce(all_room_days.date_day, built_days.event_date) as event_date
        from all_room_days
        full outer join built_days
            on
                all_room_days.room_id = built_days.room_id
                and all_room_days.date_day = built_days.event_date
        where
            all_room_days.room_id is null
            or built_days.room_id is null
            or all_room_days.location_id is distinct from built_days.location_id
            or all_room_days.available_hours is distinct from built_days.denominator
        union
        -- a room moved to another location: every room-day built under the old one (a day
        -- with appointments but no available hours is found here, not by the comparison above)
        select
            built_days.room_id,
            built_days.event_date
        from built_days
        left join rooms on built_days.room_id = rooms.room_id
        where built_days.location_id is distinct from rooms.location_id
        union
        -- POS data appeared or went: every room-day, with hours or built from appointments alone
        select
            all_room_days.room_id,
            all_room_days.date_day as event_date
        from all_room_days
        where (select pos_flipped.flag from pos_flipped)
        union
        select
            built_days.room_id,
            built_days.event_date
        from built_days
        where (select pos_flipped.flag from pos_flipped)
    ),

    room_days as (
        select all_room_days.*
        from all_room_days
        inner join dirty
            on
                all_room_days.room_id = dirty.room_id
                and all_room_days.date_day = dirty.event_date
    ),

    appointments as (
        select all_appointments.*
        from {{ ref('fct_appointments') }} as all_appointments
        inner join dirty
            on
                all_appointments.room_id = dirty.room_id
                and all_appointments.scheduled_date = dirty.event_date
        where all_appointments.room_type = 'treatment'
    ),
{%- else %}

    room_days as (
        select * from all_room_days
    ),

    appointments as (
        select * from {{ ref('fct_appointments') }}
        where room_type = 'treatment'
    ),
{%- endif %}

appointment_days as (
    select
        appointments.room_id,
        rooms.location_id,
        appointments.scheduled_date as event_date,
        sum(appointments.net_revenue) as revenue,
        sum(case when appointments.is_completed then appointments.duration_hours else 0 end) as completed_hours
    from appointments
    inner join rooms on appointments.room_id = rooms.room_id
    group by appointments.room_id, rooms.location_id, appointments.scheduled_date
),

available as (
    select
        room_id,
        location_id,
        date_day as event_date,
        available_hours
    from room_days
),

events as (
    -- revenue_per_room_hour
    select
        room_id,
        location_id,
        event_date,
        'revenue_per_room_hour' as kpi,
        revenue as numerator,
        0 as denominator
    from appointment_days cross join has_pos
    where has_pos.flag
    union all
    select
        room_id,
        location_id,
        event_date,
        'revenue_per_room_hour' as kpi,
        0 as numerator,
        available_hours as denominator
    from available cross join has_pos
    where has_pos.flag
    -- revenue_per_treatment_hour
    union all
    select
        room_id,
        location_id,
        event_date,
        'revenue_per_treatment_hour' as kpi,
        revenue as numerator,
        completed_hours as denominator
    from appointment_days cross join has_pos
    where has_pos.flag
    -- room_utilization
    union all
    select
        room_id,
        location_id,
        event_date,
        'room_utilization' as kpi,
        completed_hours as numerator,
        0 as denominator
    from appointment_days
    union all
    select
        room_id,
        location_id,
        event_date,
        'room_utilization' as kpi,
        0 as numerator,
        available_hours as denominator
    from available
),

final as (
    {{ capacity_ratio_events('events', 'room_id') }}
    {%- if narrow %}
        union all
        -- one row per recomputed room-day, so delete+insert also removes the events of a
        -- room-day that has none left; the post-hook deletes these rows
        select
            dirty.room_id,
            cast(null as varchar) as location_id,
            dirty.event_date,
            cast(null as varchar) as kpi,
            cast(null as varchar) as value_kind,
            cast(null as integer) as window_minutes,
            cast(null as double) as numerator,
            cast(null as double) as denominator
        from dirty
    {%- endif %}
)

select * from final
