"""Dagster definitions, one folder per domain; `orchestration.definitions` collects them."""
