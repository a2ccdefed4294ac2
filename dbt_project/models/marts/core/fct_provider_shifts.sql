with

shifts as (
    select * from {{ ref('stg_pms__provider_shifts') }}
),

providers as (
    select * from {{ ref('stg_pms__providers') }}
),

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
