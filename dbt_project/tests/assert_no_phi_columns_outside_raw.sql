-- Fails when a column carrying a PHI field name (docs/landing-contract.md marks them PHI) exists in any schema
-- the pipeline builds past the raw layer. Catches a staging model that forwards a contact or a
-- name by `select *` or by mistake. Staff names (providers) are not PHI and are allowed.
{{ config(severity='error') }}

select
    table_schema,
    table_name,
    column_name
from information_schema.columns
where
    table_schema in ('staging', 'intermediate', 'marts')
    and (
        lower(column_name) in (
            'email',
            'phone',
            'date_of_birth',
            'postal_code',
            'external_number',
            'contact_address',
            'body',
            'reviewer_name'
        )
        or (
            lower(column_name) in ('first_name', 'last_name')
            and table_name not in ('stg_pms__providers', 'dim_providers')
        )
    )
