{%- set narrow = capacity_events_narrow(['fct_provider_shifts', 'fct_appointments']) -%}
{{
    config(
        materialized='incremental',
        unique_key=['provider_id', 'location_id', 'event_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['location_id', 'event_date']},
        pre_hook="{{ delete_all_unless(capacity_events_narrow(['fct_provider_shifts', 'fct_appointments'])) }}",
        post_hook=[
            "delete from {{ this }} where kpi is null",
            "{{ record_capacity_inputs(ref('int_location_calendar_starts'), ref('stg_pms__providers'), 'provider_id', 'is_revenue_generating') }}",
            "{{ record_model_build() }}",
        ],
    )
}}
{#-
    Grain: provider x location x local date x kpi (provider_productive_share only): hours of the
    provider's completed appointments (by scheduled_start's local date at the appointment's
    location) / hours of the provider's shifts (by shift_start's local date at the shift's
    location); revenue-generating providers only. Shift hours count from the location's
    calendar start (int_location_calendar_starts), like every other capacity.
    Incremental (delete+insert on provider x location x date, docs/incremental-models.md): a
    provider-day's event sums only that day's appointments and shifts of the provider, so a
    nightly run recomputes the provider-days fct_provider_shifts' build in this run rewrote (its
    touched record, both sides), every provider-day of a date holding an appointment
    fct_appointments' build rewrote (its touched record names the appointment's date, not its
    provider: a visit moved to another provider changes both), every day of a provider that
    became or stopped being revenue-generating and of a location whose calendar start moved
    since the last build (dbt_state.<model>__inputs, macros/capacity_events.sql). Each
    recomputed provider-day that has no event left writes one row with a null kpi, which the
    post-hook deletes. Either touched record untrusted (macros/touched.sql), no record of the
    inputs, or a changed definition: every provider-day. The build records the locations and
    dates it rewrote on both sides (`touched_columns`) for kpi_by_provider and kpi_providers.
-#}
with

all_appointments as (
    select * from {{ ref('fct_appointments') }}
    where is_completed
),

all_shifts as (
    select * from {{ ref('fct_provider_shifts') }}
),

providers as (
    select * from {{ ref('stg_pms__providers') }}
    where is_revenue_generating
),

calendar_starts as (
    select * from {{ ref('int_location_calendar_starts') }}
),

{%- if narrow %}

    -- dates holding an appointment fct_appointments rewrote, before or after: every provider
    dirty_dates as (
        select distinct touched.scheduled_date as event_date
        from {{ touched_relation('fct_appointments') }} as touched
        where not touched.is_marker
    ),

    dirty_shift_days as (
        select distinct
            touched.provider_id,
            touched.location_id,
            touched.shift_date as event_date
        from {{ touched_relation('fct_provider_shifts') }} as touched
        where not touched.is_marker
    ),

    {{ capacity_changed_inputs(
        ref('int_location_calendar_starts'), ref('stg_pms__providers'), 'provider_id', 'is_revenue_generating'
    ) }},

    {#- Each input's rows of the recomputed provider-days. The dates come first as a plain
        semi-join (a night's few dozen to a few hundred dates), so the scan is pruned before
        the per-day test; the days of a changed provider or location are a second branch that
        reads anything only when some input changed (rarely). -#}
    {%- for name, relation, date_column, columns in [
        ('appointments', 'all_appointments', 'scheduled_date', 'rows_in.*'),
        ('shifts', 'all_shifts', 'shift_date', 'rows_in.*'),
        ('built_dirty', this, 'event_date', 'rows_in.provider_id, rows_in.location_id, rows_in.event_date'),
    ] %}
        {%- set dirty_day -%}
            (
                rows_in.{{ date_column }} in (select dirty_dates.event_date from dirty_dates)
                or exists (
                    select 1 from dirty_shift_days
                    where
                        dirty_shift_days.provider_id = rows_in.provider_id
                        and dirty_shift_days.location_id = rows_in.location_id
                        and dirty_shift_days.event_date = rows_in.{{ date_column }}
                )
            )
        {%- endset %}

        {{ name }} as (  -- noqa: ST03
            select {{ columns }}
            from {{ relation }} as rows_in
            where
                rows_in.{{ date_column }} in (
                    select dirty_dates.event_date from dirty_dates
                    union
                    select dirty_shift_days.event_date from dirty_shift_days
                )
                and {{ dirty_day }}
            union all
            select {{ columns }}
            from {{ relation }} as rows_in
            where
                (select count(*) from changed_inputs) > 0
                and (
                    rows_in.provider_id in (select changed_entities.entity_id from changed_entities)
                    or rows_in.location_id in (select changed_locations.location_id from changed_locations)
                )
                and {{ dirty_day }} is not true
        ),
    {%- endfor %}
{%- else %}

    appointments as (
        select * from all_appointments
    ),

    shifts as (
        select * from all_shifts
    ),
{%- endif %}

events as (
    select
        appointments.provider_id,
        appointments.location_id,
        appointments.scheduled_date as event_date,
        appointments.duration_hours as numerator,
        0 as denominator
    from appointments
    inner join providers on appointments.provider_id = providers.provider_id
    union all
    select
        shifts.provider_id,
        shifts.location_id,
        shifts.shift_date as event_date,
        0 as numerator,
        shifts.hours as denominator
    from shifts
    inner join providers on shifts.provider_id = providers.provider_id
    inner join calendar_starts
        on
            shifts.location_id = calendar_starts.location_id
            and shifts.shift_date >= calendar_starts.calendar_start_date
),

final as (
    {{ capacity_ratio_events('events', 'provider_id', kpi='provider_productive_share') }}
    {%- if narrow %}
        union all
        select
            built_dirty.provider_id,
            built_dirty.location_id,
            built_dirty.event_date,
            cast(null as varchar) as kpi,
            cast(null as varchar) as value_kind,
            cast(null as integer) as window_minutes,
            cast(null as double) as numerator,
            cast(null as double) as denominator
        from built_dirty
    {%- endif %}
)

select * from final
