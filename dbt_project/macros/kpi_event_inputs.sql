{#-
    Incremental KPI events whose rows depend on *other* rows of their fact (a patient's later
    visits, a rebooking linked to a request): the rows to recompute are those of every entity
    (appointment) whose inputs changed, and of every one related to it (the same patient, now
    or before the change). A fact does not say which of its rows changed in the last run, so
    the model keeps the inputs it was built from in a small state table (`dbt_state.<model>
    __inputs`, like dbt_state.load_watermarks never published): per entity its key, the keys
    that relate it to others and a hash of everything its events read. A run compares that
    table with the current inputs; a missing table or a changed model definition (SQL, macros,
    vars) makes every entity changed, i.e. a full recompute, so no change is ever missed.
-#}

{% macro kpi_event_inputs_relation() -%}
    {%- if not execute -%}{{ return('dbt_state.inputs') }}{%- endif -%}
    {{ return(api.Relation.create(
        database=target.database, schema='dbt_state', identifier=this.identifier ~ '__inputs'
    )) }}
{%- endmacro %}

{#- The current inputs (a temporary table of this run): computed once by the pre-hook, read by
    the model's change detection and by the post-hook that records them. -#}
{% macro current_kpi_event_inputs_relation() -%}
    {{ return(this.identifier ~ '__inputs_now') }}
{%- endmacro %}

{#-
    Pre-hook: an empty state table on first use (then every entity counts as changed), and the
    current inputs (`inputs_sql`) in a temporary table: the model and its post-hook both read
    them, and computing them (a hash of every row of the fact) twice cost a second per million.
-#}
{% macro create_kpi_event_inputs(columns, inputs_sql) -%}
    create schema if not exists {{ kpi_event_inputs_relation().schema }};
    create table if not exists {{ kpi_event_inputs_relation() }} (
        {{ columns | join(' varchar, ') }} varchar,
        input_hash ubigint,
        definition varchar
    );
    create or replace temporary table {{ current_kpi_event_inputs_relation() }} as
    {{ inputs_sql }}
{%- endmacro %}

{#-
    Post-hook: make the state the inputs this build read (the pre-hook's temporary table:
    `key`, the other key columns and `input_hash`) under the model's definition fingerprint.
    Only rows that differ are deleted and inserted: rewriting the whole table costs more than
    the nightly build of the events themselves.
-#}
{% macro record_kpi_event_inputs(key, var_names=[]) -%}
    {%- set state = kpi_event_inputs_relation() -%}
    create or replace temporary table {{ state.identifier }}__current as
    select
        inputs.*,
        {{ definition_fingerprint(var_names) }} as definition
    from {{ current_kpi_event_inputs_relation() }} as inputs;
    drop table {{ current_kpi_event_inputs_relation() }};
    delete from {{ state }}
    where not exists (
        select 1 from {{ state.identifier }}__current as current_inputs
        where
            current_inputs.{{ key }} = {{ state }}.{{ key }}
            and current_inputs.input_hash = {{ state }}.input_hash
            and current_inputs.definition = {{ state }}.definition
    );
    insert into {{ state }} by name
    select current_inputs.*
    from {{ state.identifier }}__current as current_inputs
    where not exists (
        select 1 from {{ state }} as built
        where built.{{ key }} = current_inputs.{{ key }}
    );
    drop table {{ state.identifier }}__current
{%- endmacro %}

{#-
    A CTE body: the state rows still valid for the current definition (none after a change of
    the model's SQL, its macros or `var_names`).
-#}
{% macro built_kpi_event_inputs(var_names=[]) -%}
    select *
    from {{ kpi_event_inputs_relation() }}
    where definition = {{ definition_fingerprint(var_names) }}
{%- endmacro %}

{#-
    The inputs of int_appointment_kpi_events per appointment: its key, the keys that relate it
    to other appointments (patient, rescheduled-from link) and a hash of everything its events
    read: its fct_appointments row (status, times, provider, room, patient type, revenue...),
    its location's time zone, its intake forms (how many, any not completed, the latest
    completion: together they decide "all completed before the start") and whether any POS
    invoice exists (revenue events are emitted only then).
-#}
{% macro appointment_kpi_inputs() -%}
    select
        inputs_appointments.appointment_id,
        inputs_appointments.patient_key,
        inputs_appointments.rescheduled_from_appointment_id,
        hash(
            inputs_appointments,
            inputs_locations.timezone,
            inputs_intake.forms,
            inputs_intake.any_open,
            inputs_intake.last_completed_at,
            exists (select 1 from {{ ref('stg_pos__invoices') }})
        ) as input_hash
    from {{ ref('fct_appointments') }} as inputs_appointments
    left join {{ ref('stg_pms__locations') }} as inputs_locations
        on inputs_appointments.location_id = inputs_locations.location_id
    left join (
        select
            appointment_id,
            count(*) as forms,
            bool_or(completed_at is null) as any_open,
            max(completed_at) as last_completed_at
        from {{ ref('stg_pms__intake_forms') }}
        group by appointment_id
    ) as inputs_intake
        on inputs_appointments.appointment_id = inputs_intake.appointment_id
{%- endmacro %}
