{#-
    Grain: provider x location x local date x kpi (provider_productive_share only): hours of the
    provider's completed appointments (by scheduled_start's local date at the appointment's
    location) / hours of the provider's shifts (by shift_start's local date at the shift's
    location); revenue-generating providers only.
-#}
with

appointments as (
    select * from {{ ref('fct_appointments') }}
    where is_completed
),

shifts as (
    select * from {{ ref('fct_provider_shifts') }}
),

providers as (
    select * from {{ ref('stg_pms__providers') }}
    where is_revenue_generating
),

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
),

final as (
    select
        provider_id,
        location_id,
        event_date,
        'provider_productive_share' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from events
    group by provider_id, location_id, event_date
)

select * from final
