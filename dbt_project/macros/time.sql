{#-
    Local time: every KPI event belongs to the local date / ISO week / month of its
    location's time zone (docs/kpis.md, Conventions). Raw timestamps are TIMESTAMPTZ.
-#}

{#- TIMESTAMPTZ -> local wall-clock TIMESTAMP in the IANA zone `tz_expr`. -#}
{% macro local_timestamp(ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('local_timestamp', 'medspa')(ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro duckdb__local_timestamp(ts_expr, tz_expr) -%}
    timezone({{ tz_expr }}, {{ ts_expr }})
{%- endmacro %}


{#- Local TIMESTAMP (wall clock in `tz_expr`) -> TIMESTAMPTZ instant. -#}
{% macro local_to_instant(local_ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('local_to_instant', 'medspa')(local_ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro duckdb__local_to_instant(local_ts_expr, tz_expr) -%}
    timezone({{ tz_expr }}, {{ local_ts_expr }})
{%- endmacro %}


{#- Monday of the ISO week of a date. -#}
{% macro week_start(date_expr) -%}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{%- endmacro %}

{#- First day of the month of a date. -#}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{#- Hours between two timestamps, as a decimal number. -#}
{% macro hours_between(start_expr, end_expr) -%}
    ({{ dbt.datediff(start_expr, end_expr, 'second') }} / 3600.0)
{%- endmacro %}

{#- A ratio whose zero denominator gives null, not 0 (docs/kpis.md, Conventions). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
