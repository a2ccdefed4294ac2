{#-
    Contact normalisation shared by every model that matches people across silos
    (docs/landing-contract.md, "Identity matching"). Matching happens on keyed hashes of these
    normalised forms; the normalised contact itself never leaves the expression.
-#}

{#- Phone -> E.164, assuming a US number when no country code is given. A number written
    with a leading '+' carries its own country code and is taken as given (8 to 15 digits), so
    '+46 8 123 4567' stays Swedish although it has ten digits. Null when it is not a plausible
    phone number. -#}
{% macro normalize_phone(expr) -%}
    {{ return(adapter.dispatch('normalize_phone', 'medspa')(expr)) }}
{%- endmacro %}

{% macro default__normalize_phone(expr) -%}
    {%- set digits = "regexp_replace(" ~ expr ~ ", '[^0-9]', '', 'g')" -%}
    case
        when trim({{ expr }}) like '+%'
            then case when length({{ digits }}) between 8 and 15 then '+' || {{ digits }} end
        when {{ digits }} ~ '^[0-9]{10}$'
            then '+1' || {{ digits }}
        when {{ digits }} ~ '^1[0-9]{10}$'
            then '+' || {{ digits }}
    end
{%- endmacro %}

{#- Email -> trimmed, lower-cased; null when it has no '@'. -#}
{% macro normalize_email(expr) -%}
    case when {{ expr }} like '%@%' then lower(trim({{ expr }})) end
{%- endmacro %}

{#- A free-form contact (phone in any format, or email in any case) -> normalised form. -#}
{% macro normalize_contact(expr) -%}
    case
        when {{ expr }} like '%@%' then {{ normalize_email(expr) }}
        else {{ normalize_phone(expr) }}
    end
{%- endmacro %}

{#- The keyed hash a contact is matched on downstream. -#}
{% macro contact_hash(expr) -%}
    {{ pseudonymize(normalize_contact(expr)) }}
{%- endmacro %}
