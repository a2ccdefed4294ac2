"""Dagster wiring: the libraries (ingestion, dbt, quality, serving, dashboards) as assets,
checks, schedules and sensors. No business rule lives here.

`orchestration.definitions:defs` is the one entry point (`[tool.dagster]` in pyproject);
`defs/` holds a folder per domain (raw landing, dbt models, mart checks, publishing,
automation). Outside `defs/`: `resources` (settings and the dbt CLI as resources), `manifest`
(dbt's manifest, built ahead or on first use), `run_events` and `summary` (what a run did).

May import the libraries and the shells' base (`medspa.settings`, `medspa.dbt_invocation`);
never the CLI (`medspa.cli`, `medspa.commands`), and no library imports it.
"""
