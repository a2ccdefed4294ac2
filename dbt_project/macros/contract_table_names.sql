{#- GENERATED from ingestion/contract.yml by `medspa contract sync`: do not edit by hand.
    The landing contract's tables as (source name, table name), sorted: a static list, so a
    model looping over it (macro contract_tables) calls source() for each while dbt
    parses, and dbt lists every raw table among that model's parents (its lineage in
    Dagster, and what tells a nightly that the model's inputs changed). -#}
{% macro contract_table_names() -%}
    {{ return([
        ['raw_crm', 'leads'],
        ['raw_crm', 'marketing_spend'],
        ['raw_messaging', 'messages'],
        ['raw_phone', 'calls'],
        ['raw_pms', 'appointments'],
        ['raw_pms', 'devices'],
        ['raw_pms', 'intake_forms'],
        ['raw_pms', 'location_closures'],
        ['raw_pms', 'location_hours'],
        ['raw_pms', 'locations'],
        ['raw_pms', 'membership_plans'],
        ['raw_pms', 'memberships'],
        ['raw_pms', 'patients'],
        ['raw_pms', 'provider_shifts'],
        ['raw_pms', 'providers'],
        ['raw_pms', 'rooms'],
        ['raw_pms', 'services'],
        ['raw_pos', 'invoice_lines'],
        ['raw_pos', 'invoices'],
        ['raw_pos', 'products'],
        ['raw_reviews', 'reviews'],
        ['raw_reviews', 'surveys'],
    ]) }}
{%- endmacro %}
