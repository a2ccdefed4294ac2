{#- Generic test (severity warn where used): values withheld as contact data
    (macros/free_text.sql). Each failing row is a raw value that carried an email address or a
    phone-like number in a column people type into: the raw row keeps it; fix it at the source.
    Returns counts only, never a value. -#}
{% test no_withheld_text(model, column_name) %}

select count(*) as withheld_values
from {{ model }}
where {{ is_withheld_text(column_name) }}
having count(*) > 0

{% endtest %}
