{#-
    Change detection for the incremental facts: a run rebuilds exactly the rows whose inputs
    changed since they were built, whatever their timestamps say. There is no watermark and
    no lookback window: each candidate row is compared with the row already built, so an
    extract that lands late with old `updated_at` values (or a change to a related row: a
    lead sharing a contact, an invoice, a location's time zone) is picked up by the next run.
-#}

{#-
    The body of a CTE: the rows of `candidates` that are new or differ from the built row
    (same `key`) in any of `columns`. Each column is a name, or a pair
    (column in the built fact, column in candidates). columns=none compares every column of
    the built fact (candidates must then carry all of them, under the same names).
-#}
{% macro changed_since_built(candidates, key, columns=none) -%}
select {{ candidates }}.*
from {{ candidates }}
{%- if is_incremental() %}
    {%- if columns is none %}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name')
            | reject('equalto', key) | list %}
    {%- endif %}
    left join {{ this }} as built
        on {{ candidates }}.{{ key }} = built.{{ key }}
    where
        built.{{ key }} is null
        {%- for column in columns %}
            {%- set built_column, candidate_column = (column, column) if column is string else column %}
            or built.{{ built_column }} is distinct from {{ candidates }}.{{ candidate_column }}
        {%- endfor %}
{%- endif %}
{%- endmacro %}

{#-
    CTEs `contact_fingerprints` and `candidates` for facts matched to leads and patients by
    contact (fct_calls, fct_messages): every row of `events` with its location's time zone and
    the fingerprint of every identity sharing its contact, the inputs that decide its match.
    Needs CTEs `locations` (dim_locations) and `identities` (int_contact_identities).
-#}
{% macro contact_match_candidates(events) -%}
contact_fingerprints as (
    select
        contact_hash,
        {{ dbt.hash(dbt.listagg(
            "party_key || '@' || cast(party_created_at as varchar)",
            "'|'",
            "order by party_key, party_created_at",
        )) }} as identity_fingerprint
    from identities
    group by contact_hash
),

candidates as (
    select
        {{ events }}.*,
        locations.timezone as location_timezone,
        contact_fingerprints.identity_fingerprint
    from {{ events }}
    left join locations
        on {{ events }}.location_id = locations.location_id
    left join contact_fingerprints
        on {{ events }}.contact_hash = contact_fingerprints.contact_hash
)
{%- endmacro %}
