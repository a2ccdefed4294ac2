{#-
    Generic test: the combination of `columns` is unique (a composite primary key), without
    dbt_utils (the project builds offline, no `dbt deps`). Rows with a null in any key column
    are failures too: a primary key has no nulls.
    Usage (model level):
        data_tests:
          - unique_combination:
              arguments: {columns: [location_id, weekday, valid_from]}
-#}
{% test unique_combination(model, columns) %}

with

keys as (
    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
),

failures as (
    select * from keys
    where n_rows > 1
    {%- for column in columns %}
        or {{ column }} is null
    {%- endfor %}
)

select * from failures

{% endtest %}
