"""Serving targets: where the audited marts are published for BI tools and analysts.

Plain library code (no Dagster, no environment reads): every function takes what it needs
as arguments, so the CLI, the orchestrator, the benchmarks and the tests call it alike.
"""
