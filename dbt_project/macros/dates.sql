{#-
    Calendar helpers. The spine is generated inside the database from data-driven bounds
    (the data's as-of date, the latest booked appointment), so no date is hard-coded and no
    query runs at compile time.
-#}

{#- A set-returning expression: one row per day from start_expr to end_expr (inclusive), as DATE. -#}
{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between', 'medspa')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_expr, end_expr) -%}
    cast(unnest(generate_series(cast({{ start_expr }} as date), cast({{ end_expr }} as date), interval 1 day)) as date)
{%- endmacro %}


{#- ISO weekday of a date: 1 = Monday ... 7 = Sunday (location_hours.weekday). -#}
{% macro iso_weekday(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as integer)
{%- endmacro %}

{#- A local wall-clock timestamp from a date and a local time of day. -#}
{% macro date_at_time(date_expr, time_expr) -%}
    (cast({{ date_expr }} as date) + cast({{ time_expr }} as time))
{%- endmacro %}

{#- Local date of an instant in a location's time zone. -#}
{% macro local_date(ts_expr, tz_expr) -%}
    cast({{ local_timestamp(ts_expr, tz_expr) }} as date)
{%- endmacro %}

{#- The first day after the period that starts on period_start_expr (exclusive end). -#}
{% macro period_end_exclusive(grain_expr, period_start_expr) -%}
    case
        when {{ grain_expr }} = 'week' then cast({{ dbt.dateadd('day', 7, period_start_expr) }} as date)
        else cast({{ dbt.dateadd('month', 1, period_start_expr) }} as date)
    end
{%- endmacro %}


{#- A day's ISO week (Monday first) and month, with their first and last days: the columns of
    dim_date, and of kpi_financial's calendar of period ends. -#}
{% macro calendar_day_columns(date_expr) -%}
    {{ date_expr }} as date_day,
    {{ week_start(date_expr) }} as week_start,
    {{ month_start(date_expr) }} as month_start,
    cast({{ dbt.dateadd('day', 6, week_start(date_expr)) }} as date) as week_end,
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start(date_expr))) }} as date) as month_end
{%- endmacro %}
