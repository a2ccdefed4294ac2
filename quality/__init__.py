"""Data quality rules: GX Core suites evaluated inside DuckDB, quarantine, freshness.

- `quality.suites.raw_suites()` / `mart_suites()`: suites as plain data (no GX import).
- `quality.runner.run_suite(s)`: evaluate them with GX's SQL datasource on a read-only warehouse;
  `incremental=True` (the Dagster checks) narrows row-local rules to newer loads (`quality.delta`).
- `quality.quarantine`: warn on quarantined rows, block when a table's latest load rejects more
  than the share limit (`table_verdicts`).
- `quality.freshness`: per-system freshness judged from the data (windows from the contract),
  and the age after which a mart counts as stale.

A plain library: functions take the warehouse path and thresholds. It may import
`ingestion.contract`, never `medspa` or `orchestration` (which wraps these into asset checks).
"""
