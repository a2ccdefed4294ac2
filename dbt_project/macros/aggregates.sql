{#-
    median(expr): the continuous median of a group (an aggregate). DuckDB has `median`;
    PostgreSQL needs the ordered-set form. Medians are always recomputed from events, never
    averaged across locations (kpis.md, Conventions).
-#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'medspa')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}
