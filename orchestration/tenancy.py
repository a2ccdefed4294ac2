"""Tenants in Dagster: the `tenant` dynamic partitions, the run tag, and a run's tenant.

Every asset is partitioned by tenant, so one run builds one tenant (its partition key is the
tenant's name) and the UI shows each tenant's materialisations and checks. The run queue in
`dagster.yaml` limits runs per unique value of `TENANT_TAG` to one: runs of different tenants
(separate DuckDB files) execute side by side, runs of one tenant one at a time.
"""

import dagster as dg

from medspa.tenants import DEFAULT_TENANT

#: Partition keys are tenant names; synced from the registry by `tenant_partitions_sensor`.
TENANT_PARTITIONS = dg.DynamicPartitionsDefinition(name="tenant")

#: Run tag naming the tenant; the queue's tag limit keys on it (one run per tenant at a time).
TENANT_TAG = "medspa/tenant"

#: Dagster's own run tag for a single-partition run.
PARTITION_TAG = "dagster/partition"


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
    """Tags every tenant run carries: the queue's per-tenant limit reads `TENANT_TAG`."""
    return {TENANT_TAG: name}
