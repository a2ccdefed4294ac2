"""The serving targets: where the published marts go for BI tools and the dashboards.

`serving.publish` writes `serving.duckdb` by write-audit-publish (marts and `ops` only, swapped
in atomically); the PostgreSQL target lives beside it. A plain library: it takes paths and
relations as arguments and may import `ingestion.contract` (the PHI columns it must never
publish), never `medspa` or `orchestration`.
"""
