{#-
    Free text the contract does not mark as PHI but that people type into: a patient's "how did
    you hear about us" (acquisition_channel, and the spend channels it is matched to for CAC,
    filtered alike so the two still meet), a lead's campaign and interest, a call-tracking
    label, a closure's reason, a patient's sex; and the catalogues' names shown on marts and
    pages (locations, rooms, devices, services, membership plans, products and their
    categories; a provider's name keeps the name, loses only contact data). A front desk may
    write "referred by Jane Doe, 415-555-0199" there; that value must not leave the raw layer
    (docs/kpis.md, PHI). The raw row keeps it.
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

{#- SQL: true when `expr` is or holds a value withheld by `without_contact_data` or
    `contact_data_masked`. -#}
{% macro is_withheld_text(expr) -%}
    {{ expr }} like '%(withheld: contact data%'
{%- endmacro %}

{#- The regular expressions (RE2, DuckDB's) that find contact data, look-alikes included: a
    digit is any Unicode decimal digit (`\p{Nd}`: `４`, `٤`, `४` ...); a separator any run of
    spaces (`\p{Z}`: the no-break space, U+2000-200A, U+3000 ...), dashes (`\p{Pd}`: U+2010-2015,
    U+FE58, U+FE63, U+FF0D ...; and the minus U+2212), invisible format characters (`\p{Cf}`:
    zero-width spaces, the soft hyphen), dots, parentheses, slashes and underscores, fullwidth
    ones too. Matching the look-alikes where they stand, rather than first mapping them to ASCII
    with `translate`, costs a regular expression's time, not a hundredfold more, and leaves the
    rest of a masked name untouched (contact_data_masked).
    `email`: `x@y.zz`, with any characters but spaces and `@` (`jane.doe@bücher.de`,
    `jane＠example.com`); not a handle (`@glowspa`).
    `number`: a phone-shaped number or a full date with neither an ASCII letter, a digit nor `%`
    right before or after it (groups 1 and 3; group 2 is the number). A phone: 7 to 15 digits,
    an optional leading `+`, any run of separators between them (`415 - 555 - 0199`,
    `(415) 555 0199`, `415–555–0199`, `415_555_0199`). A date: `3/4/1975`, `03.04.75`,
    `1975-3-4`, and with the month in English letters, day first or month first (`March 4
    1975`, `Mar 4, 1975`, `4th Mar '75`).
    `run`: 7 to 15 digits written together, whatever letters touch them (`tel4155550199`,
    `cell:4155550199x`): a phone typed without separators is a phone beside a letter too.
    `numbers`, `runs`: as `number` and `run`, but a run of more than 15 digits is one match,
    not a phone-long piece of it (what contact_data_masked replaces). -#}
{% macro contact_data_pattern(kind) -%}
    {%- set digit = '\\p{Nd}' -%}
    {%- set dash = '\\p{Pd}\\x{2212}' -%}
    {%- set separator = '[\\s\\p{Z}\\p{Cf}' ~ dash ~ '()./_\\x{FF08}\\x{FF09}\\x{FF0E}\\x{FF0F}\\x{FF3F}]' -%}
    {%- set date_separator = '[/.' ~ dash ~ '\\x{FF0E}\\x{FF0F}]' -%}
    {%- set boundary = '[^A-Za-z' ~ digit ~ '%]' -%}
    {%- set not_space_or_at = '[^\\s\\p{Z}@\\x{FF20}\\x{FE6B}]' -%}
    {%- set month = "(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?" -%}
    {%- set day = digit ~ "{1,2}(?i:st|nd|rd|th)?" -%}
    {%- set year = "(?:" ~ digit ~ "{4}|[''\\x{2019}]?" ~ digit ~ "{2})" -%}
    {%- set word_separator = '[\\s\\p{Z},/' ~ dash ~ ']+' -%}
    {%- if kind == 'email' -%}
        {{ not_space_or_at }}+[@\x{FF20}\x{FE6B}]{{ not_space_or_at }}+[.\x{FF0E}\x{3002}]{{ not_space_or_at }}{2,}
    {%- elif kind in ('run', 'runs') -%}
        (^|[^{{ digit }}])([+\x{FF0B}]?{{ digit }}{{ '{7,}' if kind == 'runs' else '{7,15}' }})($|[^{{ digit }}])
    {%- else -%}
        (^|{{ boundary }})([+\x{FF0B}]?{{ digit }}(?:{{ separator }}*{{ digit }}){{ '{6,}' if kind == 'numbers' else '{6,14}' }}|{{ digit }}{1,2}{{ date_separator }}{{ digit }}{1,2}{{ date_separator }}{{ digit }}{2,4}|{{ digit }}{4}[{{ dash }}]{{ digit }}{1,2}[{{ dash }}]{{ digit }}{1,2}|{{ day }}{{ word_separator }}{{ month }}{{ word_separator }}{{ year }}|{{ month }}{{ word_separator }}{{ day }}{{ word_separator }}{{ year }})($|{{ boundary }})
    {%- endif -%}
{%- endmacro %}

{#- SQL: true when the text `expr` holds an email address, a phone-shaped number or a full date
    (contact_data_pattern). `~` is a full match in DuckDB, hence `^.*` and `.*$` (`(?s)`:
    across line breaks). -#}
{% macro has_contact_data(expr) -%}
    {{ expr }} ~ '(?s)^.*({{ contact_data_pattern('email') }}|{{ contact_data_pattern('number') }}|{{ contact_data_pattern('run') }}).*$'
{%- endmacro %}

{#- `expr` as text, or withheld_text(expr) when it holds an email address, a phone-shaped number
    or a full date, a date of birth among them (contact_data_pattern): `415-555-0199`,
    `415–555–0199`, `415 - 555 - 0199`, `(415) 555 0199`, `+44 20 7946 0958`, `４１５５５５０１９９`,
    `DOB 3/4/1975`, `DOB March 4 1975`, `tel4155550199`, `jane.doe@bücher.de`. Not withheld: `Q1 2025 10% off`, `Google Ads 2026 Q4`,
    `Botox 50 units`, `Promo 2026-11`, `instagram @glowspa`. Two years apart
    (`Summer 2025 / 2026`) have a phone's shape and are withheld, as is a numeric campaign id
    of 7-15 digits. A name alone has no shape to find: the landing contract keeps these columns, and a name
    typed into one reaches the marts as typed. The warn test `no_withheld_text` counts what was
    withheld, so nothing is hidden silently. -#}
{% macro without_contact_data(expr) -%}
    case
        when {{ has_contact_data('cast(' ~ expr ~ ' as varchar)') }}
            then {{ withheld_text('cast(' ~ expr ~ ' as varchar)') }}
        else cast({{ expr }} as varchar)
    end
{%- endmacro %}

{#- `expr` as text with each email address, phone-shaped number or full date in it (the rules of
    without_contact_data) replaced by `(withheld: contact data)`, the rest kept as typed: for a
    name that must stay readable (a provider's, shown on the provider pages). The numbers are
    replaced twice: a number's closing boundary character is the next one's opening one, so in
    `3/4/1975,5/6/1980` the second date needs a second pass; then the digits written together
    beside a letter (`cell4155550199`). Whatever still looks like contact data after that
    withholds the whole value (withheld_text). -#}
{% macro contact_data_masked(expr) -%}
    {%- set text = 'cast(' ~ expr ~ ' as varchar)' -%}
    {%- set numbers = ", '" ~ contact_data_pattern('numbers') ~ "', '\\1(withheld: contact data)\\3', 'g')" -%}
    {%- set no_email = "regexp_replace(" ~ text ~ ", '" ~ contact_data_pattern('email') ~ "', '(withheld: contact data)', 'g')" -%}
    {%- set runs = ", '" ~ contact_data_pattern('runs') ~ "', '\\1(withheld: contact data)\\3', 'g')" -%}
    {%- set masked = "regexp_replace(regexp_replace(regexp_replace(" ~ no_email ~ numbers ~ numbers ~ runs -%}
    case
        when {{ has_contact_data(text) }} then
            case
                when {{ has_contact_data(masked) }} then {{ withheld_text(text) }}
                else {{ masked }}
            end
        else {{ text }}
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
