{#-
    Entity models over an upstream's touched record (macros/touched.sql): a model whose rows
    are per entity (a patient's cohort) and depend only on that entity's rows upstream
    recomputes exactly the entities the upstream's build in this run rewrote, before and after
    the change. Same trust rule as `touched_partitions_are_complete`, with the model's own vars
    in its definition fingerprint (a changed window must rebuild every entity).
-#}

{#-
    Pre-hook: in an incremental run, delete the rows of the touched entities (`column` of the
    record = `own_column` here) when the record is complete for this model, else every row.
    Deleting first also drops an entity that has no row left (a patient whose only completed
    visit moved to another patient).
-#}
{% macro clear_touched_entities(upstream, column, own_column, var_names=[]) -%}
    {%- if is_incremental() -%}
        {%- if touched_partitions_are_complete(upstream, [column], var_names) %}
    delete from {{ this }}
    where {{ own_column }} in (
        select touched.{{ column }} from {{ touched_relation(upstream) }} as touched
        where not touched.is_marker
    )
        {%- else %}
    delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The touched entities as a one-column query (`column`), for the model's own filter. -#}
{% macro touched_entities(upstream, column) -%}
    select touched.{{ column }} from {{ touched_relation(upstream) }} as touched
    where not touched.is_marker
{%- endmacro %}
