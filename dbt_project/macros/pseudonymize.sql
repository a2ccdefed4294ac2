{#-
    pseudonymize(expr): the keyed hash (hex HMAC-SHA256) that replaces a patient id, lead id or
    normalised contact downstream of the raw layer. Null in, null out.
    The padded keys come from session variables set by medspa.dbt_phi_plugin, so the key
    never appears in compiled SQL.
-#}
{% macro pseudonymize(expr) -%}
    {{ return(adapter.dispatch('pseudonymize', 'medspa')(expr)) }}
{%- endmacro %}

{% macro duckdb__pseudonymize(expr) -%}
    case when {{ expr }} is not null then sha256(
        getvariable('medspa_hmac_opad')
        || from_hex(sha256(getvariable('medspa_hmac_ipad') || encode(cast({{ expr }} as varchar))))
    ) end
{%- endmacro %}

