"""Dagster wrapping of the plain libraries (ingestion, dbt, quality, dashboards).

`orchestration.definitions:defs` is the one entry point; `defs/` holds a folder per domain
(raw landing, dbt models, mart checks, publishing, automation), like dagster-open-platform.
Modules outside `defs/` (manifest, publish, freshness, summary) are plain Python a test can
call without starting Dagster.
"""
