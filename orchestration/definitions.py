"""The Dagster code location `medspa` (`[tool.dagster]` in pyproject.toml; see `make dev`).

Every asset, check, job, schedule and sensor is listed here, once; each comes from the
folder of its domain under `orchestration/defs/`. Steps run in one process (DuckDB takes a
single writer per file) and `dagster.yaml` queues one run per tenant at a time, two tenants
side by side (every asset is partitioned by tenant: `orchestration.tenancy`).
"""

import dagster as dg

from orchestration import event_batch, instance_sqlite
from orchestration.defs.automation.jobs import NIGHTLY, SCHEDULES, SENSORS
from orchestration.defs.dbt.assets import DBT_ASSETS
from orchestration.defs.marts.checks import FRESHNESS_CHECKS, FRESHNESS_SENSOR, GX_MART_CHECKS
from orchestration.defs.publish.assets import serving, site
from orchestration.defs.publish.benchmarks import PEER_BENCHMARKS, kpi_benchmarks
from orchestration.defs.publish.postgres import served_version_is_built_version, serving_postgres
from orchestration.defs.publish.tenant_freshness import every_tenant_published_recently
from orchestration.defs.raw.assets import raw_landing
from orchestration.defs.raw.checks import GX_RAW_CHECKS, raw_quarantine
from orchestration.defs.raw.freshness import raw_freshness
from orchestration.resources import RESOURCES

# Every process that loads the code location (a run, `medspa run`, `dagster dev`'s workers)
# stores its events in WAL mode without a sync per event: `orchestration.instance_sqlite`.
instance_sqlite.install()
# ... and writes the ~580 events planned at a run's creation in one transaction per file.
event_batch.install()

defs = dg.Definitions(
    assets=[raw_landing, *DBT_ASSETS, serving, serving_postgres, site, kpi_benchmarks],
    asset_checks=[
        *GX_RAW_CHECKS,
        raw_quarantine,
        raw_freshness,
        *GX_MART_CHECKS,
        *FRESHNESS_CHECKS,
        served_version_is_built_version,
        every_tenant_published_recently,
    ],
    jobs=[NIGHTLY, PEER_BENCHMARKS],
    schedules=SCHEDULES,
    sensors=[*SENSORS, FRESHNESS_SENSOR],
    resources=RESOURCES,
    executor=dg.in_process_executor,
)
