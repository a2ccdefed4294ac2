{#-
    Free text the contract does not mark as PHI but that people type into: a patient's "how did
    you hear about us" (acquisition_channel, and the spend channels it is matched to for CAC,
    filtered alike so the two still meet), a lead's campaign and interest, a call-tracking
    label, a closure's reason, a patient's sex. A front desk may write "referred by Jane Doe, 415-555-0199" there;
    that value must not leave the raw layer (docs/kpis.md, PHI). The raw row keeps it.
-#}

{#- What a value carrying contact data (`expr`, text) becomes downstream: a fixed label and the
    first 8 hex digits of the value's keyed hash (macros/pseudonymize.sql). Two different
    values stay two values, so a column that is part of a key (a spend row's channel) keeps its
    rows apart instead of failing its uniqueness test and blocking the night, and equal values
    stay equal (a patient's channel still meets the spend channel typed the same way); without
    the key, the digits say nothing of the value. -#}
{% macro withheld_text(expr) -%}
    '(withheld: contact data ' || left({{ pseudonymize(expr) }}, 8) || ')'
{%- endmacro %}

{#- SQL: true when `expr` is a value withheld by `without_contact_data`. -#}
{% macro is_withheld_text(expr) -%}
    {{ expr }} like '(withheld: contact data %)'
{%- endmacro %}

{#- `expr` as text, or withheld_text(expr) when it holds an email address or a phone-shaped number:
    7 to 15 digits, an optional leading `+`, at most two separators (` ().+/-`) between digits,
    and no letter, digit or `%` right before or after it (`415-555-0199`, `(415) 555 0199`,
    `+44 20 7946 0958`; a full date such as a date of birth too, but not `Q1 2025 10% off` or
    `Summer 2025 / 2026`). A numeric campaign id of 7-15 digits is withheld too: it has a
    phone's shape. A name alone has no shape to find: the spec keeps these columns, and a name
    typed into one reaches the marts as typed. The warn test `no_withheld_text` counts what was
    withheld, so nothing is hidden silently. `~` anchors both ends in DuckDB and PostgreSQL
    alike (`(?s)`: across line breaks). -#}
{% macro without_contact_data(expr) -%}
    case
        when cast({{ expr }} as varchar) ~ '(?s)^.*([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|(^|[^A-Za-z0-9%])[+]?[0-9]([ ().+/-]{0,2}[0-9]){6,14}($|[^A-Za-z0-9%])).*$'
            then {{ withheld_text('cast(' ~ expr ~ ' as varchar)') }}
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
