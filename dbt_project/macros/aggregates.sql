{#-
    median(expr): the continuous median of a group (an aggregate). Medians are always
    recomputed from events, never averaged across locations (docs/kpis.md, Conventions).
-#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'medspa')(expr)) }}
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}
