{#-
    Message models over fct_messages' touched record (macros/touched.sql): fct_messages records,
    for every message its build rewrote, the message id with its contact and patient on both
    sides of the change (`touched_columns: [message_id, contact_hash, patient_key]`). A row of
    a dependant that depends on its own message and on the messages (or reviews) of one contact
    or one patient changed only if that contact or patient is named in the record: every other
    message is exactly as the dependant last read it.
-#}

{#- True (as SQL) for a row of fct_messages (`alias`) the record names: a rewritten message, or
    a message of a contact named on either side of a rewrite. -#}
{% macro is_message_of_touched_contact(alias) -%}
    (
        {{ alias }}.message_id in ({{ touched_entities('fct_messages', 'message_id') }})
        or {{ alias }}.contact_hash in ({{ touched_entities('fct_messages', 'contact_hash') }})
    )
{%- endmacro %}

{#-
    The rows (grain: message_id) of a recomputed batch that only remove a built row: one per
    rewritten message the batch (CTE `final`) no longer holds (a message no longer a check-in,
    moved to no patient). delete+insert on message_id then deletes its built row, and the
    post-hook deletes the marker (`marker_column` null). `columns`: the model's other columns
    with their types, in order.
-#}
{% macro removed_message_markers(columns) -%}
    select
        touched.message_id
        {%- for name, type in columns %},
        cast(null as {{ type }}) as {{ name }}
        {%- endfor %}
    from (
        select distinct touched_ids.message_id
        from ({{ touched_entities('fct_messages', 'message_id') }}) as touched_ids
    ) as touched
    where
        touched.message_id is not null
        and touched.message_id not in (select final.message_id from final)
{%- endmacro %}

{#-
    Pre-hook outside the model's transaction (`before_begin`): add `name` to a table built
    before the model had that column. dbt's own on_schema_change would alter the table in
    another transaction than the one its pre-hooks delete in, and DuckDB refuses to commit
    the second; a table without the column has no build of the model on record, so that run
    rebuilds every row anyway.
-#}
{% macro add_missing_column(name, type) -%}
    {%- if execute and is_incremental() -%}
        {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if name not in names %}
    alter table {{ this }} add column {{ name }} {{ type }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
