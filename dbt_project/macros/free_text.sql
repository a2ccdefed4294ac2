{#-
    Free text the contract does not mark as PHI but that people type into: a patient's "how did
    you hear about us" (acquisition_channel), a lead's campaign and interest, a call-tracking
    label, a patient's sex. A front desk may write "referred by Jane Doe, 415-555-0199" there;
    that value must not leave the raw layer (docs/kpis.md, PHI). The raw row keeps it.
-#}

{#- What a value carrying contact data becomes downstream. -#}
{% macro withheld_text() -%}
    '(withheld: contact data)'
{%- endmacro %}

{#- `expr` as text, or withheld_text() when it holds an email address or a phone-like run of
    seven or more digits (separators allowed: `415-555-0199`, `(415) 555 0199`; a full date
    such as a date of birth too). A name alone has no shape to find: the spec keeps these
    columns, and a name typed into one reaches the marts as typed. The warn test
    `no_withheld_text` counts what was withheld, so nothing is hidden silently. `~` anchors
    both ends in DuckDB and PostgreSQL alike (`(?s)`: across line breaks). -#}
{% macro without_contact_data(expr) -%}
    case
        when cast({{ expr }} as varchar) ~ '(?s)^.*([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|([0-9][ ().+/-]*){7,}).*$'
            then {{ withheld_text() }}
        else cast({{ expr }} as varchar)
    end
{%- endmacro %}

{#- A patient's sex in a closed vocabulary: F, M, X (another, or not binary) or unknown (any
    other text, which may be anything typed, is not carried downstream); null stays null. -#}
{% macro sex_code(expr) -%}
    case
        when nullif(trim({{ expr }}), '') is null then null
        when upper(trim({{ expr }})) in ('F', 'FEMALE', 'W', 'WOMAN') then 'F'
        when upper(trim({{ expr }})) in ('M', 'MALE', 'MAN') then 'M'
        when upper(trim({{ expr }})) in ('X', 'O', 'OTHER', 'NONBINARY', 'NON-BINARY', 'NB', 'INTERSEX', 'DIVERSE')
            then 'X'
        else 'unknown'
    end
{%- endmacro %}
