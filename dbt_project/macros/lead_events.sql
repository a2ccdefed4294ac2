{#- A spend event's key in int_lead_kpi_events (its delete+insert key): the location, channel
    and spend day of `relation`, a CTE with those columns (`location_id`, `channel`,
    `spend_date`). -#}
{% macro spend_event_key(relation) -%}
    'spend|' || coalesce({{ relation }}.location_id, '') || '|' || coalesce({{ relation }}.channel, '') || '|'
    || coalesce(cast({{ relation }}.spend_date as varchar), '')
{%- endmacro %}
