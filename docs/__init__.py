"""The project's reference documents (docs/*.md) and the code that keeps their tables current.

`docs/kpis.md` (the KPI catalogue) and `docs/landing-contract.md` (the landing folder
contract) are written from hand-written prose in `docs/templates/` plus tables generated from
the one home of each fact: `ingestion/contract.yml`, the `kpi_targets` seed and the KPI models'
dbt docs. May import `ingestion.contract` and the standard library; nothing imports it except
the `medspa docs` command and its test.
"""
