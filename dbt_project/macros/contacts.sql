{#-
    Contact normalisation shared by every model that matches people across silos
    (docs/landing-contract.md, "Identity matching"). Matching happens on keyed hashes of these
    normalised forms; the normalised contact itself never leaves the expression.
-#}

{#- Phone -> E.164, assuming a US number when no country code is given. Null when it is
    not a plausible phone number (fewer than 10 digits). -#}
{% macro normalize_phone(expr) -%}
    {{ return(adapter.dispatch('normalize_phone', 'medspa')(expr)) }}
{%- endmacro %}

{% macro default__normalize_phone(expr) -%}
    case
        when regexp_replace({{ expr }}, '[^0-9]', '', 'g') ~ '^[0-9]{10}$'
            then '+1' || regexp_replace({{ expr }}, '[^0-9]', '', 'g')
        when regexp_replace({{ expr }}, '[^0-9]', '', 'g') ~ '^1[0-9]{10}$'
            then '+' || regexp_replace({{ expr }}, '[^0-9]', '', 'g')
        when trim({{ expr }}) like '+%'
            and length(regexp_replace({{ expr }}, '[^0-9]', '', 'g')) between 8 and 15
            then '+' || regexp_replace({{ expr }}, '[^0-9]', '', 'g')
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
