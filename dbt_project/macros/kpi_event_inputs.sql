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

{#-
    The narrow path: when records prove which appointments' inputs can have changed since the
    last build, only those are hashed and compared (hashing every appointment was most of a
    nightly run of the model). They are the appointments the builds of fct_appointments and
    stg_pms__intake_forms in this run rewrote, before and after (macros/touched.sql: each
    must be the one build of its model since this model's last build). The other inputs are
    checked on their load ids against this model's watermark: no location of a newer load
    (time zones) and no first invoice (revenue events exist only with POS data): some invoice
    of a load up to the watermark, found as the oldest invoice load (an uncorrelated minimum;
    an `exists` correlated with the watermark joined every invoice, three times a build). A model
    definition change, a missing record or anything else takes the full comparison.
    Evaluated at render time by the pre-hook, the model and the post-hook alike; only the last
    post-hook (record_load_watermark) changes the answer.
-#}
{% macro kpi_event_inputs_are_narrow(var_names=[]) -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- if not touched_partitions_are_complete('fct_appointments', var_names=var_names)
        or not touched_partitions_are_complete('stg_pms__intake_forms', var_names=var_names) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set locations = ref('stg_pms__locations') -%}
    {%- set invoices = ref('stg_pos__invoices') -%}
    {%- set unchanged = scalar_query(
        "select count(*) from (" ~ built_watermark(var_names) ~ ") as watermark
        where watermark.load_id is not null
            and not exists (
                select 1 from " ~ locations ~ " as locations
                where " ~ loaded_after('locations._dlt_load_id', 'watermark.load_id') ~ "
            )
            and (
                not exists (select 1 from " ~ invoices ~ ")
                or (select min(invoices._dlt_load_id) from " ~ invoices ~ " as invoices)
                    <= watermark.load_id
            )"
    ) -%}
    {{ return((unchanged or 0) > 0) }}
{%- endmacro %}

{#- The appointments the narrow path looks at (a temporary table of this run). -#}
{% macro kpi_event_inputs_scope_relation() -%}
    {{ return(this.identifier ~ '__inputs_scope') }}
{%- endmacro %}

{#- The current inputs (a temporary table of this run): computed once by the pre-hook, read by
    the model's change detection and by the post-hook that records them. -#}
{% macro current_kpi_event_inputs_relation() -%}
    {{ return(this.identifier ~ '__inputs_now') }}
{%- endmacro %}

{#-
    Pre-hook: an empty state table on first use (then every entity counts as changed), and the
    current inputs (`inputs_sql`; on the narrow path `scoped_inputs_sql`, those of the
    appointments in the scope table it creates first) in a temporary table: the model and its
    post-hook both read them, and computing them (a hash of every row of the fact) twice cost a
    second per million.
-#}
{% macro create_kpi_event_inputs(columns, inputs_sql, scoped_inputs_sql, var_names=[]) -%}
    create schema if not exists {{ kpi_event_inputs_relation().schema }};
    create table if not exists {{ kpi_event_inputs_relation() }} (
        {{ columns | join(' varchar, ') }} varchar,
        input_hash ubigint,
        definition varchar
    );
    {%- if kpi_event_inputs_are_narrow(var_names) %}
    create or replace temporary table {{ kpi_event_inputs_scope_relation() }} as
    select touched.appointment_id from {{ touched_relation('fct_appointments') }} as touched
    where not touched.is_marker and touched.appointment_id is not null
    union
    select touched.appointment_id from {{ touched_relation('stg_pms__intake_forms') }} as touched
    where not touched.is_marker and touched.appointment_id is not null;
    create or replace temporary table {{ current_kpi_event_inputs_relation() }} as
    {{ scoped_inputs_sql }}
    {%- else %}
    create or replace temporary table {{ current_kpi_event_inputs_relation() }} as
    {{ inputs_sql }}
    {%- endif %}
{%- endmacro %}

{#-
    Post-hook: make the state the inputs this build read (the pre-hook's temporary table:
    `key`, the other key columns and `input_hash`) under the model's definition fingerprint.
    Only rows that differ are deleted and inserted: rewriting the whole table costs more than
    the nightly build of the events themselves. On the narrow path only the scope's rows are
    compared (the others were not hashed and are unchanged).
-#}
{% macro record_kpi_event_inputs(key, var_names=[]) -%}
    {%- set state = kpi_event_inputs_relation() -%}
    create or replace temporary table {{ state.identifier }}__current as
    select
        inputs.*,
        {{ definition_fingerprint(var_names) }} as definition
    from {{ current_kpi_event_inputs_relation() }} as inputs;
    drop table {{ current_kpi_event_inputs_relation() }};
    {%- set narrow = kpi_event_inputs_are_narrow(var_names) %}
    delete from {{ state }}
    where
        not exists (
            select 1 from {{ state.identifier }}__current as current_inputs
            where
                current_inputs.{{ key }} = {{ state }}.{{ key }}
                and current_inputs.input_hash = {{ state }}.input_hash
                and current_inputs.definition = {{ state }}.definition
        )
        {%- if narrow %}
        and {{ state }}.{{ key }} in (select {{ key }} from {{ kpi_event_inputs_scope_relation() }})
        {%- endif %};
    insert into {{ state }} by name
    select current_inputs.*
    from {{ state.identifier }}__current as current_inputs
    where not exists (
        select 1 from {{ state }} as built
        where built.{{ key }} = current_inputs.{{ key }}
    );
    drop table {{ state.identifier }}__current;
    drop table if exists {{ kpi_event_inputs_scope_relation() }}
{%- endmacro %}

{#-
    A CTE body: the state rows still valid for the current definition (none after a change of
    the model's SQL, its macros or `var_names`); on the narrow path only the scope's.
-#}
{% macro built_kpi_event_inputs(key, var_names=[]) -%}
    select *
    from {{ kpi_event_inputs_relation() }}
    where
        definition = {{ definition_fingerprint(var_names) }}
        {%- if kpi_event_inputs_are_narrow(var_names) %}
        and {{ key }} in (select {{ key }} from {{ kpi_event_inputs_scope_relation() }})
        {%- endif %}
{%- endmacro %}

{#-
    The inputs of int_appointment_kpi_events per appointment: its key, the keys that relate it
    to other appointments (patient, rescheduled-from link) and a hash of everything its events
    read: its fct_appointments row (status, times, provider, room, patient type, revenue...),
    its location's time zone, its intake forms (how many, any not completed, the latest
    completion: together they decide "all completed before the start") and whether any POS
    invoice exists (revenue events are emitted only then). With `scope` (a relation of
    appointment ids): only those appointments'. The row enters the hash as the row hash
    fct_appointments records (macros/row_hashes.sql) when that record is current: hashing the
    row itself read every column of the fact (1 s at chain scale for a nightly's few thousand
    appointments, which DuckDB does not narrow before decompressing); otherwise as the row
    itself. Either way the same row gives the same hash within one way, and a switch between
    the two only makes one run compare every appointment as changed.
-#}
{% macro appointment_kpi_inputs(scope=none) -%}
    {%- set recorded = row_hashes_are_current('fct_appointments') %}
    select
        inputs_appointments.appointment_id,
        inputs_appointments.patient_key,
        inputs_appointments.rescheduled_from_appointment_id,
        hash(
            {%- if recorded %}
            inputs_appointments.appointment_id,
            inputs_rows.row_hash,
            {%- else %}
            inputs_appointments,
            {%- endif %}
            inputs_locations.timezone,
            inputs_intake.forms,
            inputs_intake.any_open,
            inputs_intake.last_completed_at,
            exists (select 1 from {{ ref('stg_pos__invoices') }})
        ) as input_hash
    {%- if recorded %}
    -- the scope applied to each side before the join: DuckDB joins the whole record otherwise
    from (
        select
            scoped_appointments.appointment_id,
            scoped_appointments.patient_key,
            scoped_appointments.rescheduled_from_appointment_id,
            scoped_appointments.location_id
        from {{ ref('fct_appointments') }} as scoped_appointments
        {%- if scope %}
        where scoped_appointments.appointment_id in (select appointment_id from {{ scope }})
        {%- endif %}
    ) as inputs_appointments
    left join (
        select scoped_rows.appointment_id, scoped_rows.row_hash
        from {{ row_hashes_relation('fct_appointments') }} as scoped_rows
        {%- if scope %}
        where scoped_rows.appointment_id in (select appointment_id from {{ scope }})
        {%- endif %}
    ) as inputs_rows
        on inputs_appointments.appointment_id = inputs_rows.appointment_id
    {%- else %}
    from {{ ref('fct_appointments') }} as inputs_appointments
    {%- endif %}
    left join {{ ref('stg_pms__locations') }} as inputs_locations
        on inputs_appointments.location_id = inputs_locations.location_id
    left join (
        select
            appointment_id,
            count(*) as forms,
            bool_or(completed_at is null) as any_open,
            max(completed_at) as last_completed_at
        from {{ ref('stg_pms__intake_forms') }}
        {%- if scope %}
        where appointment_id in (select appointment_id from {{ scope }})
        {%- endif %}
        group by appointment_id
    ) as inputs_intake
        on inputs_appointments.appointment_id = inputs_intake.appointment_id
    {%- if scope %}
    where inputs_appointments.appointment_id in (select appointment_id from {{ scope }})
    {%- endif %}
{%- endmacro %}
