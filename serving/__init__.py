"""The serving targets: where the published marts go for BI tools and the dashboards.

`serving.publish` writes `serving.duckdb` by write-audit-publish (marts and `ops` only, swapped
in atomically); the PostgreSQL target lives beside it. A plain library: it takes paths and
relations as arguments and may import `ingestion.contract` (the PHI columns it must never
publish), never `medspa` or `orchestration`.

The PostgreSQL target (postgres.py and the pg_* modules) copies the audited serving file into a
serving database with roles, row-level security and an atomic schema swap. Every function takes
what it needs as arguments (no Dagster, no environment reads), so the CLI, the orchestrator, the
benchmarks and the tests call it alike.
"""
