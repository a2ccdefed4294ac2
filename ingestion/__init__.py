"""Loading landing extracts into the warehouse's raw layer.

Here: the landing contract as data (`contract.yml`, `contract.py`, the one home of every source
table's shape), the raw schema it creates, file readers, validation and quarantine, merge
planning, the dlt load (`pipeline.ingest`) and its report, and the generated dbt sources YAML.

A plain library: entry points take paths and values (`IngestSettings`, a dbt project folder);
it imports only itself, never `medspa`, `orchestration` or the other libraries. Everything
else may import `ingestion.contract`.
"""
