{#- Generic test: the model has exactly one row (e.g. int_data_as_of, even on an empty raw layer). -#}
{% test exactly_one_row(model) %}

select n_rows
from (select count(*) as n_rows from {{ model }}) as counted
where n_rows <> 1

{% endtest %}
