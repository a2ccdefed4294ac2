{#-
    The data's as-of time: the newest `updated_at` over every raw contract table that has rows.
    Every KPI window and `is_final` flag is measured against this instant, never the wall
    clock, so a rebuild over the same raw layer gives the same marts. One row; `as_of_at` is
    null only when the whole raw layer is empty (then every downstream model is empty too).
    The tables are the landing contract's sources (macro contract_tables).
-#}
with

table_maxima as (
    -- typed and empty: a raw layer without contract tables still has an (empty) as-of row
    select cast(null as timestamptz) as max_updated_at
    where 1 = 0
    {%- for table in contract_tables() %}

        union all

        select max(updated_at) as max_updated_at from {{ table.relation }}
    {%- endfor %}
),

final as (
    select cast(max(max_updated_at) as timestamptz) as as_of_at
    from table_maxima
)

select * from final
