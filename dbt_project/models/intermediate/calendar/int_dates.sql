{#-
    Every calendar day a mart can need. is_kpi_day marks the KPI calendar: from the later of
    the first location opening and the UTC day before the first appointment (the start of the
    data's history; the day of slack covers every local date, each location's exact start is
    int_location_calendar_starts), through the later of the last day of the week and month in
    progress at the data's as-of date (their whole capacity, docs/kpis.md) and the last
    booked appointment (future bookings still need their open hours). Capacity and the KPIs'
    periods read only those days.

    The other days are dim_date's, for BI joins: events dated before the history still reach
    the marts (pre-opening leads, ad spend and messages, a reschedule request made before the
    first visit, a membership started earlier), and so do their weeks and months. The days
    run back to the earliest staging event (the UTC day before, as a local date can be a day
    behind UTC), widened to the start of its ISO week and month, and on to the latest event
    (memberships cancelled ahead, say). Empty when the raw layer is.
-#}
{%- set events = [
    ('stg_pms__appointments', 'booked_at'),
    ('stg_pms__appointments', 'scheduled_start'),
    ('stg_pms__memberships', 'started_on'),
    ('stg_pms__memberships', 'cancelled_on'),
    ('stg_pms__provider_shifts', 'shift_start'),
    ('stg_pos__invoices', 'issued_at'),
    ('stg_phone__calls', 'started_at'),
    ('stg_messaging__messages', 'sent_at'),
    ('stg_crm__leads', 'created_at'),
    ('stg_crm__marketing_spend', 'spend_date'),
    ('stg_reviews__reviews', 'posted_at'),
    ('stg_reviews__surveys', 'sent_at'),
    ('stg_reviews__surveys', 'responded_at'),
] -%}
with

as_of as (
    select * from {{ ref('int_data_as_of') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

appointments as (
    select * from {{ ref('stg_pms__appointments') }}
),

first_bookings as (
    -- the data's history starts with its first appointment: earlier days would only carry
    -- capacity (open hours) without the activity the extracts never held
    select
        cast({{ dbt.dateadd('day', -1, 'min(scheduled_start)') }} as date) as first_booked_date,
        greatest(max(scheduled_end), max(scheduled_start)) as last_booked_at
    from appointments
),

kpi_bounds as (
    select
        greatest(
            (select min(locations.opened_on) from locations),
            first_bookings.first_booked_date
        ) as first_date,
        -- one day of slack after the as-of time and the last booking covers every local
        -- date; the periods in progress run to their last day
        greatest(
            {{ in_progress_last_day('cast(' ~ dbt.dateadd('day', 1, 'as_of.as_of_at') ~ ' as date)') }},
            cast({{ dbt.dateadd('day', 1, 'coalesce(first_bookings.last_booked_at, as_of.as_of_at)') }} as date)
        ) as last_date
    from as_of
    cross join first_bookings
    where as_of.as_of_at is not null
),

event_bounds as (
    {%- for model, column in events %}
        select
            cast({{ dbt.dateadd('day', -1, 'min(' ~ column ~ ')') }} as date) as first_date,
            cast({{ dbt.dateadd('day', 1, 'max(' ~ column ~ ')') }} as date) as last_date
        from {{ ref(model) }}
        union all
    {%- endfor %}
    select
        first_date,
        last_date
    from kpi_bounds
),

bounds as (
    select
        least({{ week_start('min(first_date)') }}, {{ month_start('min(first_date)') }}) as first_date,
        max(last_date) as last_date
    from event_bounds
    -- no day at all without a KPI calendar (an empty raw layer)
    having exists (select 1 from kpi_bounds)
),

spine as (
    select {{ days_between('first_date', 'last_date') }} as date_day
    from bounds
    where first_date <= last_date
),

final as (
    select
        spine.date_day,
        coalesce(spine.date_day between kpi_bounds.first_date and kpi_bounds.last_date, false)
            as is_kpi_day
    from spine
    cross join kpi_bounds
)

select * from final
