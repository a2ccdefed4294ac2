{%- set event_vars = ['consult_window_days', 'reschedule_window_days', 'rebook_grace_minutes'] -%}
{{
    config(
        materialized='incremental',
        unique_key='appointment_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={
            'touched_columns': ['location_id', 'event_date'],
            'touched_rows': 'changed',
            'marker_rows': 'kpi is null',
        },
        pre_hook="{{ create_kpi_event_inputs(
            ['appointment_id', 'patient_key', 'rescheduled_from_appointment_id'],
            appointment_kpi_inputs(),
            appointment_kpi_inputs(kpi_event_inputs_scope_relation()),
            " ~ event_vars ~ ",
        ) }}",
        post_hook=[
            "delete from {{ this }} where kpi is null",
            "{{ record_kpi_event_inputs('appointment_id', " ~ event_vars ~ ") }}",
            "{{ record_load_watermark(['stg_pms__locations', 'stg_pos__invoices'], " ~ event_vars ~ ") }}",
        ],
    )
}}
{#-
    Grain: appointment x kpi. The additive events behind every appointment-based KPI
    (docs/kpis.md), dated by scheduled_start's local date at the appointment's location and carrying
    the breakdown keys (provider, service category, patient type, room). kpi marts roll them up
    with the `kpi_rollup` macro, so each definition lives here once.
      completed_visits             completed appointments (sum)
      no_show_rate                 no_show / appointments not cancelled >= late_cancel_hours ahead
      late_cancellation_rate       cancelled < late_cancel_hours ahead / the same denominator
      consult_conversion_rate      completed consultations followed by a completed
                                   non-consultation visit of the patient within
                                   consult_window_days (local dates) / completed consultations
      confirmation_response_rate   responses confirmed|reschedule_requested|cancelled / requests
      reschedule_capture_rate      reschedule requests followed by a new appointment (linked by
                                   rescheduled_from_appointment_id, or booked within
                                   reschedule_window_days after the request) / requests;
                                   dated by the request's local date (confirmation_responded_at
                                   when the answer was reschedule_requested, else cancelled_at),
                                   not by scheduled_start
      intake_completion_rate       non-cancelled appointments with forms sent whose forms were
                                   all completed before scheduled_start / those appointments
      rebooking_rate               completed visits with a later appointment booked between
                                   checked_in_at and checked_out_at + rebook_grace_minutes
      avg_revenue_per_appointment  net revenue of paid invoices linked to completed
                                   appointments / completed appointments (only with POS data)
    Incremental (delete+insert on appointment_id, macros/kpi_event_inputs.sql): a run
    recomputes the appointments whose inputs differ from those the last build read (its row,
    its location's time zone, its intake forms), every appointment of their patients (before
    and after the change) and the requests they are linked to as reschedules; the other side
    of each join still reads every appointment. An appointment left with no event has its old
    rows deleted (the run writes one row with a null kpi for it, which the post-hook removes).
    Only the appointments whose inputs can have changed are hashed and compared when the
    builds of fct_appointments and the intake forms in this run recorded which they rewrote
    (macros/kpi_event_inputs.sql, the narrow path); otherwise every appointment is.
-#}
{#-
    fct_appointments is read where it is needed, not through one CTE: a CTE read three times is
    materialised whole by DuckDB (all 36 columns of every appointment, about 1 CPU s at large
    in a nightly run that needs a few thousand), and `appointments` names only the columns the
    events use, for the same reason.
-#}
with

intake_forms as (
    select * from {{ ref('stg_pms__intake_forms') }}
),

invoices as (
    select * from {{ ref('stg_pos__invoices') }}
),

locations as (
    select * from {{ ref('stg_pms__locations') }}
),

{%- if is_incremental() %}

    current_inputs as (
        -- computed once per run by the pre-hook (macros/kpi_event_inputs.sql)
        select * from {{ current_kpi_event_inputs_relation() }}
    ),

    built_inputs as (
        {{ built_kpi_event_inputs('appointment_id', event_vars) }}
    ),

    changed_inputs as (
        select
            -- an appointment gone from the fact keeps its id here, so its events are deleted
            coalesce(current_inputs.appointment_id, built_inputs.appointment_id) as appointment_id,
            current_inputs.patient_key,
            current_inputs.rescheduled_from_appointment_id,
            built_inputs.patient_key as built_patient_key,
            built_inputs.rescheduled_from_appointment_id as built_rescheduled_from_appointment_id
        from current_inputs
        full outer join built_inputs on current_inputs.appointment_id = built_inputs.appointment_id
        where current_inputs.input_hash is distinct from built_inputs.input_hash
    ),

    -- patients whose visit history changed, including the one an appointment moved away from
    changed_patients as (
        select patient_key from changed_inputs
        where patient_key is not null
        union
        select built_patient_key as patient_key from changed_inputs
        where built_patient_key is not null
    ),

    dirty as (
        select appointment_id from changed_inputs
        union
        select all_appointments.appointment_id
        from {{ ref('fct_appointments') }} as all_appointments
        inner join changed_patients on all_appointments.patient_key = changed_patients.patient_key
        union
        select rescheduled_from_appointment_id as appointment_id from changed_inputs
        where rescheduled_from_appointment_id is not null
        union
        select built_rescheduled_from_appointment_id as appointment_id from changed_inputs
        where built_rescheduled_from_appointment_id is not null
    ),
{%- endif %}

-- the appointments whose events this run writes (all of them in a full build)
appointments as (
    select
        all_appointments.appointment_id,
        all_appointments.patient_key,
        all_appointments.location_id,
        all_appointments.provider_id,
        all_appointments.room_id,
        all_appointments.service_category,
        all_appointments.patient_type,
        all_appointments.scheduled_start,
        all_appointments.scheduled_end,
        all_appointments.scheduled_date,
        all_appointments.booked_at,
        all_appointments.checked_in_at,
        all_appointments.checked_out_at,
        all_appointments.is_completed,
        all_appointments.is_consultation,
        all_appointments.is_cancelled,
        all_appointments.is_late_cancellation,
        all_appointments.is_no_show,
        all_appointments.cancelled_at,
        all_appointments.cancellation_reason,
        all_appointments.confirmation_requested_at,
        all_appointments.confirmation_response,
        all_appointments.confirmation_responded_at,
        all_appointments.net_revenue,
        all_appointments.rescheduled_from_appointment_id
    from {{ ref('fct_appointments') }} as all_appointments
    {%- if is_incremental() %}
        where all_appointments.appointment_id in (select dirty.appointment_id from dirty)
    {%- endif %}
),

-- the other side of the joins below: every appointment a written one can meet. Each join is on
-- the patient or on a rebooking's rescheduled-from link to a written request, so in an
-- incremental run only the appointments of the written ones' patients and those linking to a
-- written one can match (the rest were probed against the few written rows for nothing:
-- 1.1 M rows, four times, on the large chain)
related_appointments as (
    select
        all_appointments.appointment_id,
        all_appointments.patient_key,
        all_appointments.rescheduled_from_appointment_id,
        all_appointments.is_completed,
        all_appointments.is_consultation,
        all_appointments.scheduled_start,
        all_appointments.scheduled_date,
        all_appointments.booked_at
    from {{ ref('fct_appointments') }} as all_appointments
    {%- if is_incremental() %}
        where
            all_appointments.patient_key in (select appointments.patient_key from appointments)
            or all_appointments.rescheduled_from_appointment_id in (
                select appointments.appointment_id from appointments
            )
    {%- endif %}
),

-- consultations converted: a completed non-consultation visit of the same patient after the
-- consultation's start and at most consult_window_days later (by local date)
consult_conversions as (
    select distinct consults.appointment_id
    from appointments as consults
    inner join related_appointments as later
        on
            consults.patient_key = later.patient_key
            and later.is_completed
            and not later.is_consultation
            and consults.scheduled_start < later.scheduled_start
            and later.scheduled_date <= cast(
                {{ dbt.dateadd('day', var('consult_window_days'), 'consults.scheduled_date') }} as date
            )
    where consults.is_completed and consults.is_consultation
),

reschedule_request_times as (
    select
        appointments.appointment_id,
        appointments.patient_key,
        locations.timezone,
        case
            when appointments.confirmation_response = 'reschedule_requested'
                then coalesce(appointments.confirmation_responded_at, appointments.cancelled_at)
            else coalesce(appointments.cancelled_at, appointments.confirmation_responded_at)
        end as requested_at
    from appointments
    left join locations on appointments.location_id = locations.location_id
    where appointments.confirmation_response = 'reschedule_requested' or appointments.cancellation_reason = 'reschedule'
),

reschedule_requests as (
    select
        appointment_id,
        patient_key,
        requested_at,
        {{ local_date('requested_at', 'timezone') }} as requested_date
    from reschedule_request_times
),

-- two joins, not one OR-join: an OR condition would force a nested-loop join
reschedules_captured as (
    select requests.appointment_id
    from reschedule_requests as requests
    inner join related_appointments as rebooked
        on requests.appointment_id = rebooked.rescheduled_from_appointment_id
    union
    select requests.appointment_id
    from reschedule_requests as requests
    inner join related_appointments as rebooked
        on
            requests.patient_key = rebooked.patient_key
            and requests.appointment_id <> rebooked.appointment_id
            and requests.requested_at <= rebooked.booked_at
            and rebooked.booked_at <= {{ dbt.dateadd('day', var('reschedule_window_days'), 'requests.requested_at') }}
),

intake_by_appointment as (
    select
        intake_forms.appointment_id,
        min(
            case
                when
                    intake_forms.completed_at is not null
                    and intake_forms.completed_at < appointments.scheduled_start then 1
                else 0
            end
        ) as all_completed
    from intake_forms
    inner join appointments on intake_forms.appointment_id = appointments.appointment_id
    group by intake_forms.appointment_id
),

rebooked_visits as (
    select distinct visits.appointment_id
    from appointments as visits
    inner join related_appointments as next_booking
        on
            visits.patient_key = next_booking.patient_key
            and visits.appointment_id <> next_booking.appointment_id
            and visits.scheduled_start < next_booking.scheduled_start
            -- the check-in and check-out times alone, as the definition names them: a visit
            -- recorded without them is never counted as rebooked (docs/kpis.md)
            and visits.checked_in_at <= next_booking.booked_at
            and next_booking.booked_at <= {{ dbt.dateadd(
                'minute', var('rebook_grace_minutes'), 'visits.checked_out_at'
            ) }}
    where visits.is_completed
),

flags as (
    select
        appointments.*,
        not(appointments.is_cancelled and not appointments.is_late_cancellation) as in_no_show_base,
        consult_conversions.appointment_id is not null as is_converted_consult,
        reschedule_requests.appointment_id is not null as is_reschedule_request,
        reschedules_captured.appointment_id is not null as is_reschedule_captured,
        reschedule_requests.requested_date as reschedule_requested_date,
        intake_by_appointment.appointment_id is not null and not appointments.is_cancelled as in_intake_base,
        coalesce(intake_by_appointment.all_completed = 1, false) as is_intake_complete,
        rebooked_visits.appointment_id is not null as is_rebooked
    from appointments
    left join consult_conversions on appointments.appointment_id = consult_conversions.appointment_id
    left join reschedule_requests on appointments.appointment_id = reschedule_requests.appointment_id
    left join reschedules_captured on appointments.appointment_id = reschedules_captured.appointment_id
    left join intake_by_appointment on appointments.appointment_id = intake_by_appointment.appointment_id
    left join rebooked_visits on appointments.appointment_id = rebooked_visits.appointment_id
),

events as (
    select
        appointment_id,
        'completed_visits' as kpi,
        'sum' as value_kind,
        0 as window_minutes,
        1 as numerator,
        cast(null as double) as denominator
    from flags
    where is_completed
    union all
    select
        appointment_id,
        'no_show_rate' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        case when is_no_show then 1 else 0 end as numerator,
        1 as denominator
    from flags
    where in_no_show_base
    union all
    select
        appointment_id,
        'late_cancellation_rate' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        case when is_late_cancellation then 1 else 0 end as numerator,
        1 as denominator
    from flags
    where in_no_show_base
    union all
    select
        appointment_id,
        'consult_conversion_rate' as kpi,
        'ratio' as value_kind,
        {{ var('consult_window_days') }} * 1440 as window_minutes,
        case when is_converted_consult then 1 else 0 end as numerator,
        1 as denominator
    from flags
    where is_completed and is_consultation
    union all
    select
        appointment_id,
        'confirmation_response_rate' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        case
            when confirmation_response in ('confirmed', 'reschedule_requested', 'cancelled') then 1 else 0
        end as numerator,
        1 as denominator
    from flags
    where confirmation_requested_at is not null
    union all
    select
        appointment_id,
        'reschedule_capture_rate' as kpi,
        'ratio' as value_kind,
        {{ var('reschedule_window_days') }} * 1440 as window_minutes,
        case when is_reschedule_captured then 1 else 0 end as numerator,
        1 as denominator
    from flags
    where is_reschedule_request
    union all
    select
        appointment_id,
        'intake_completion_rate' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        case when is_intake_complete then 1 else 0 end as numerator,
        1 as denominator
    from flags
    where in_intake_base
    union all
    select
        appointment_id,
        'rebooking_rate' as kpi,
        'ratio' as value_kind,
        {{ var('rebook_grace_minutes') }} as window_minutes,
        case when is_rebooked then 1 else 0 end as numerator,
        1 as denominator
    from flags
    where is_completed
    union all
    select
        appointment_id,
        'avg_revenue_per_appointment' as kpi,
        'ratio' as value_kind,
        0 as window_minutes,
        net_revenue as numerator,
        1 as denominator
    from flags
    where is_completed and exists (select 1 from invoices)
),

final as (
    select
        events.appointment_id,
        events.kpi,
        flags.location_id,
        case
            -- a reschedule request belongs to the local date it was made on
            when events.kpi = 'reschedule_capture_rate'
                then coalesce(flags.reschedule_requested_date, flags.scheduled_date)
            else flags.scheduled_date
        end as event_date,
        flags.provider_id,
        flags.room_id,
        flags.service_category,
        flags.patient_type,
        events.value_kind,
        events.window_minutes,
        cast(events.numerator as double) as numerator,
        cast(events.denominator as double) as denominator
    from events
    inner join flags on events.appointment_id = flags.appointment_id
    {%- if is_incremental() %}
        union all
        -- one row per recomputed appointment, so delete+insert also removes the events of an
        -- appointment that has none left (or is gone); the post-hook deletes these rows
        select
            dirty.appointment_id,
            cast(null as varchar) as kpi,
            cast(null as varchar) as location_id,
            cast(null as date) as event_date,
            cast(null as varchar) as provider_id,
            cast(null as varchar) as room_id,
            cast(null as varchar) as service_category,
            cast(null as varchar) as patient_type,
            cast(null as varchar) as value_kind,
            cast(null as integer) as window_minutes,
            cast(null as double) as numerator,
            cast(null as double) as denominator
        from dirty
    {%- endif %}
)

select * from final
