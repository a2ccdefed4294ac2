{#-
    The ZIP3 a patient row carries downstream (docs/kpis.md, PHI): the first three digits of
    the postal code, or '000' for a prefix whose area holds 20,000 people or fewer (var
    restricted_zip3), as HIPAA's Safe Harbor method requires of a 3-digit ZIP; null when the
    code does not start with three digits (a foreign postal code, a typo).
    `~` is a full match in DuckDB and a search in PostgreSQL: the pattern anchors both ends.
-#}
{% macro safe_harbor_zip3(postal_code) -%}
    case
        when trim({{ postal_code }}) !~ '^[0-9]{3}.*$' then null
        when substring(trim({{ postal_code }}), 1, 3) in ({{ sql_string_list(var('restricted_zip3')) }})
            then '000'
        else substring(trim({{ postal_code }}), 1, 3)
    end
{%- endmacro %}

{#- `'a', 'b', ...`: string literals for an `in (...)` list, one per line (quotes doubled). -#}
{% macro sql_string_list(values) -%}
    {%- for value in values %}
        '{{ value | replace("'", "''") }}'{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
