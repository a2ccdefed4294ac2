"""Tenants in Dagster: the `tenant` dynamic partitions, the run tag, and a run's tenant.

Every asset is partitioned by tenant, so one run builds one tenant (its partition key is the
tenant's name) and the UI shows each tenant's materialisations and checks. The run queue in
`dagster.yaml` limits runs per unique value of `TENANT_TAG` and of `PARTITION_TAG` to one: runs
of different tenants (separate DuckDB files) execute side by side, runs of one tenant one at a
time. Both tags are limited because a run started from the UI (Materialize, a backfill) carries
only Dagster's `PARTITION_TAG`; the schedule and the landing sensor add `TENANT_TAG`.
"""

import dagster as dg

from medspa.tenants import DEFAULT_TENANT

#: Partition keys are tenant names; synced from the registry by `tenant_partitions_sensor`.
TENANT_PARTITIONS = dg.DynamicPartitionsDefinition(name="tenant")

#: Run tag naming the tenant (schedule and sensor runs); the queue admits one run per value.
TENANT_TAG = "medspa/tenant"

#: Dagster's own run tag for a single-partition run: every run of a tenant carries it, UI runs
#: included, so the queue admits one run per value of it too.
PARTITION_TAG = "dagster/partition"

#: Run tag: a landing file modified less than this many seconds before the load may still be
#: being copied in, and waits for the next run. The landing sensor and the nightly schedule set
#: it (their runs start on their own, maybe while an exporter writes); a run a person starts
#: from the UI or `medspa run` takes the folder as it is. It also marks the run as unattended:
#: such a run waits for its tenant's run lock (`orchestration.resources`).
SETTLE_TAG = "medspa/settle_seconds"


def tenant_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    """The tenant a step runs for: its partition key (checks read it from the run's tags)."""
    if context.has_partition_key:
        return context.partition_key
    return tenant_of_run(context.run)


def tenant_of_run(run: dg.DagsterRun) -> str:
    """The tenant of a finished or running run; `default` for a run without a partition."""
    tags = run.tags or {}
    return tags.get(PARTITION_TAG) or tags.get(TENANT_TAG) or DEFAULT_TENANT


def tenant_run_tags(name: str) -> dict[str, str]:
    """Tags the schedule and sensors add to a tenant's run (Dagster adds its partition tag)."""
    return {TENANT_TAG: name}
