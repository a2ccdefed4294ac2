{#-
    `loaded_after` (macros/loads.sql) with the model's watermark read once at render time and
    written into the SQL as a constant. A filter on a constant is pushed into DuckDB's table scan:
    the row groups of older loads are skipped on their min/max load id (the loader appends each
    load's rows, so a night's are in the last few), and only the matching rows' other columns
    are read. Against the watermark as a CTE or a scalar subquery, DuckDB read the load id and
    every other column of every row first (6.3 M messages at chain scale) and then filtered.
    Exact: the watermark changes only in the model's own post-hook, after the model's SQL has
    run. Without a watermark (first build, changed definition): every row, as `loaded_after`.
-#}
{% macro loaded_after_literal(load_id, var_names=[]) -%}
    {%- set watermark = scalar_query(built_watermark(var_names)) if execute and is_incremental() else none -%}
    {%- if watermark is none -%}
        true
    {%- else -%}
        ({{ load_id }} > '{{ watermark | replace("'", "''") }}' or {{ load_id }} is null)
    {%- endif -%}
{%- endmacro %}
