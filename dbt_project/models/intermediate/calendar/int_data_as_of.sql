{#-
    The data's as-of time: the newest `updated_at` over every raw contract table that has rows.
    Every KPI window and `is_final` flag is measured against this instant, never the wall
    clock, so a rebuild over the same raw layer gives the same marts. One row; `as_of_at` is
    null only when the whole raw layer is empty (then every downstream model is empty too).
    tests/dbt/test_as_of_covers_contract.py proves this list matches ingestion/contract.yml.
-#}
{%- set contract_tables = [
    ('raw_pms', 'locations'), ('raw_pms', 'location_hours'), ('raw_pms', 'location_closures'),
    ('raw_pms', 'rooms'), ('raw_pms', 'devices'), ('raw_pms', 'providers'),
    ('raw_pms', 'provider_shifts'), ('raw_pms', 'services'), ('raw_pms', 'patients'),
    ('raw_pms', 'appointments'), ('raw_pms', 'intake_forms'), ('raw_pms', 'membership_plans'),
    ('raw_pms', 'memberships'),
    ('raw_pos', 'products'), ('raw_pos', 'invoices'), ('raw_pos', 'invoice_lines'),
    ('raw_phone', 'calls'),
    ('raw_messaging', 'messages'),
    ('raw_crm', 'leads'), ('raw_crm', 'marketing_spend'),
    ('raw_reviews', 'reviews'), ('raw_reviews', 'surveys'),
] -%}

with

table_maxima as (
    {%- for source_name, table_name in contract_tables %}
        select max(updated_at) as max_updated_at from {{ source(source_name, table_name) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select cast(max(max_updated_at) as timestamptz) as as_of_at
    from table_maxima
)

select * from final
