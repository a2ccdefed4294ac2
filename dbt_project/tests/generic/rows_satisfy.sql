{#- Generic test (severity warn where used): every row satisfies `expression`, a rule the
    landing contract states but the loader cannot check row by row (it needs several columns).
    Returns one row per offending row, `key` only (an id the marts publish anyway, never a
    value), so the check counts the rows and a reader can find them in the warehouse. -#}
{% test rows_satisfy(model, expression, key) %}

select {{ key }}
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
