{#-
    Entity models over an upstream's touched record (macros/touched.sql): a model whose rows
    are per entity (a patient's cohort) and depend only on that entity's rows upstream
    recomputes exactly the entities the upstream's build in this run rewrote, before and after
    the change. Same trust rule as `touched_partitions_are_complete`, with the model's own vars
    in its definition fingerprint (a changed window must rebuild every entity); its pre-hook is
    `clear_touched_partitions` on the entity column.
-#}

{#- The touched entities as a one-column query (`column`), for the model's own filter. -#}
{% macro touched_entities(upstream, column) -%}
    select touched.{{ column }} from {{ touched_relation(upstream) }} as touched
    where not touched.is_marker
{%- endmacro %}

{#-
    True when `upstream`'s build in this invocation was incremental and followed the build
    this model was last built after, with this model's definition unchanged: then the keys
    that build wrote (dbt_state.written_keys, macros/test_scope.sql) are every row of
    `upstream` that changed since this model's last build (a delete+insert build leaves every
    other row as it was). The same trust rule as `touched_partitions_are_complete`, for a fact
    that keeps no touched record. Evaluated at render time.
-#}
{% macro written_keys_are_complete(upstream, var_names=[]) -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {{ return(built_right_after_own_build(upstream, var_names)) }}
{%- endmacro %}

{#- The keys `upstream`'s build in this invocation wrote, as a one-column query `written_key`
    (varchar; only with written_keys_are_complete). -#}
{% macro written_keys_of(upstream) -%}
    select written.written_key
    from {{ test_scope_relation('written_keys') }} as written
    where
        written.model_name = '{{ upstream }}'
        and written.invocation_id = '{{ invocation_id }}'
        and written.written_key is not null
{%- endmacro %}

{#- Pre-hook of an entity model in an incremental run that may not take its narrow path
    (`narrow` false): delete every row, so an entity with no row left does not keep its old
    ones (the narrow path deletes exactly its entities through marker rows). -#}
{% macro delete_all_unless(narrow) -%}
    {%- if is_incremental() and not narrow %}
    {{ record_deleted_partitions() }}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}
