"""Data quality: GX Core suites evaluated inside DuckDB, and the quarantine gate.

- `quality.suites.raw_suites()` / `mart_suites()`: suites as plain data (no GX import).
- `quality.runner.run_suite(s)`: evaluate them with GX's SQL datasource on a read-only warehouse.
- `quality.quarantine.evaluate()`: warn on quarantined rows, block above the share limit.
Nothing here knows Dagster; `orchestration` wraps these into asset checks.
"""
