"""The `medspa` command line, and what both shells (CLI and Dagster) share.

- `medspa.cli` and `medspa.commands.*`: the CLI; it may import every package of the project
  (`medspa run` executes the Dagster job).
- `medspa.settings` (run-time settings from options and `MEDSPA_*`), `medspa.dbt_invocation`
  (dbt's arguments and environment), `medspa.pseudonymize` and the dbt-duckdb plugin
  `medspa.dbt_phi_plugin`: the shells' base, which `orchestration` imports too. These import
  no CLI or Dagster module. Libraries never import anything from here.
"""
