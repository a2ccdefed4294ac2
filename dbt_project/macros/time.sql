{#-
    Local time: every KPI event belongs to the local date / ISO week / month of its
    location's time zone (docs/kpis.md, Conventions). Raw timestamps are TIMESTAMPTZ.
-#}

{#- TIMESTAMPTZ -> local wall-clock TIMESTAMP in the IANA zone `tz_expr`. -#}
{% macro local_timestamp(ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('local_timestamp', 'medspa')(ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro duckdb__local_timestamp(ts_expr, tz_expr) -%}
    {{ zone_by_zone(ts_expr, tz_expr) }}
{%- endmacro %}


{#-
    `timezone(zone, ts)` with the zone read from each row costs DuckDB ~14 us per row (the
    zone's rules are looked up again for every row); with a constant zone they are looked up
    once and the conversion is 6-8x faster. So the conversion is spelled out as one branch
    per commonly used zone, each with that zone as a constant, and any other zone falls
    through to the per-row form: every zone gives exactly the value `timezone()` gives, the
    listed ones only sooner. The list is code, not data: no query runs at compile time
    (macros/dates.sql), and a clinic in an unlisted zone loses speed, never correctness.
-#}
{% macro fast_time_zones() -%}
    {{ return([
        'America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix',
        'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'America/Detroit',
        'America/Indiana/Indianapolis', 'America/Boise', 'America/Puerto_Rico',
        'America/Toronto', 'America/Vancouver', 'America/Edmonton', 'America/Winnipeg',
        'America/Halifax', 'America/Regina', 'America/St_Johns', 'America/Mexico_City',
        'Europe/London', 'Europe/Dublin', 'Europe/Paris', 'Europe/Berlin', 'Europe/Madrid',
        'Europe/Rome', 'Europe/Amsterdam', 'Australia/Sydney', 'Australia/Melbourne',
        'Australia/Brisbane', 'Australia/Perth', 'Pacific/Auckland', 'Asia/Dubai',
        'Asia/Singapore', 'Asia/Tokyo', 'UTC',
    ]) }}
{%- endmacro %}

{% macro zone_by_zone(value_expr, tz_expr) -%}
    case {{ tz_expr }}
    {%- for zone in fast_time_zones() %}
        when '{{ zone }}' then timezone('{{ zone }}', {{ value_expr }})
    {%- endfor %}
        else timezone({{ tz_expr }}, {{ value_expr }})
    end
{%- endmacro %}


{#- Local TIMESTAMP (wall clock in `tz_expr`) -> TIMESTAMPTZ instant. -#}
{% macro local_to_instant(local_ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('local_to_instant', 'medspa')(local_ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro duckdb__local_to_instant(local_ts_expr, tz_expr) -%}
    {{ zone_by_zone(local_ts_expr, tz_expr) }}
{%- endmacro %}


{#- Monday of the ISO week of a date. -#}
{% macro week_start(date_expr) -%}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{%- endmacro %}

{#- First day of the month of a date. -#}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{#-
    The last day of the periods in progress on a date: the later of the last day of its ISO
    week and of its month. Capacity runs through it, so the week and month in progress are
    measured against their whole capacity (docs/kpis.md, "The period in progress").
-#}
{% macro in_progress_last_day(date_expr) -%}
    greatest(
        cast({{ dbt.dateadd('day', 6, week_start(date_expr)) }} as date),
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start(date_expr))) }} as date)
    )
{%- endmacro %}

{#- Hours between two timestamps, as a decimal number. -#}
{% macro hours_between(start_expr, end_expr) -%}
    ({{ dbt.datediff(start_expr, end_expr, 'second') }} / 3600.0)
{%- endmacro %}

{#- A ratio whose zero denominator gives null, not 0 (docs/kpis.md, Conventions). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
