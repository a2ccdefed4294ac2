{{
    config(
        materialized='incremental',
        unique_key='shift_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'touched_columns': ['provider_id', 'location_id', 'shift_date']},
        post_hook="{{ record_load_watermark(['stg_pms__provider_shifts', 'stg_pms__locations']) }}",
    )
}}
{#-
    One row per provider shift (grain: shift_id), dated by shift_start's local date at the
    shift's location, with its hours and whether the provider generates revenue.
    Incremental (delete+insert on shift_id, docs/incremental-models.md): a row depends on its
    shift, its location's time zone and its provider's is_revenue_generating, so a nightly run
    recomputes the shifts of loads newer than this model's watermark (macros/loads.sql) and
    every shift of a provider whose flag differs from the one built; a location of a newer
    load recomputes every shift. Staging never deletes a shift (the loader merges). Without a
    watermark (first build, changed definition) every shift is recomputed. The build records
    the provider, location and local date of the shifts it rewrote on both sides
    (`touched_columns`, macros/touched.sql): int_provider_kpi_events reads only those.
-#}
with

providers as (
    select * from {{ ref('stg_pms__providers') }}
),

{%- if is_incremental() %}

    watermark as (
        {{ built_watermark() }}
    ),

    -- a location of a newer load (its time zone dates every shift): every shift
    any_location_changed as (
        select exists(
            select 1 from {{ ref('stg_pms__locations') }} as locations
            where {{ loaded_after('locations._dlt_load_id', '(select watermark.load_id from watermark)') }}
        ) as flag
    ),

    -- providers whose is_revenue_generating differs from the one their shifts were built with
    changed_providers as (
        select built.provider_id
        from (
            select distinct
                built_shifts.provider_id,
                built_shifts.is_revenue_generating
            from {{ this }} as built_shifts
        ) as built
        left join providers on built.provider_id = providers.provider_id
        where built.is_revenue_generating is distinct from providers.is_revenue_generating
    ),

    shifts as (
        select all_shifts.*
        from {{ ref('stg_pms__provider_shifts') }} as all_shifts
        where
            (select any_location_changed.flag from any_location_changed)
            or {{ loaded_after('all_shifts._dlt_load_id', '(select watermark.load_id from watermark)') }}
            or all_shifts.provider_id in (select changed_providers.provider_id from changed_providers)
    ),
{%- else %}

    shifts as (
        select * from {{ ref('stg_pms__provider_shifts') }}
    ),
{%- endif %}

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

localised as (
    select
        shifts.shift_id,
        shifts.provider_id,
        shifts.location_id,
        providers.is_revenue_generating,
        shifts.shift_start,
        shifts.shift_end,
        {{ local_timestamp('shifts.shift_start', 'locations.timezone') }} as shift_start_local,
        {{ local_date('shifts.shift_start', 'locations.timezone') }} as shift_date,
        greatest(0, {{ hours_between('shifts.shift_start', 'shifts.shift_end') }}) as hours,
        shifts.updated_at
    from shifts
    left join providers on shifts.provider_id = providers.provider_id
    left join locations on shifts.location_id = locations.location_id
),

final as (
    select
        shift_id,
        provider_id,
        location_id,
        is_revenue_generating,
        shift_start,
        shift_end,
        shift_start_local,
        shift_date,
        {{ week_start('shift_date') }} as week_start,
        {{ month_start('shift_date') }} as month_start,
        hours,
        updated_at
    from localised
)

select * from final
