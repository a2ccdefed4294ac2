"""A tenant removed from the registry, removed from the Dagster instance: its partition, its runs.

The `tenant_partitions_sensor` deletes a removed tenant's partition, but only where the daemon
runs; `medspa run --all-tenants` only ever adds partitions. A partition left behind keeps the
tenant in every check that lists tenants: `every_tenant_published_recently`, evaluated in every
other tenant's run, would name it "not published yet" for ever, or, once it had published,
warn in every run from 26 h on. `remove_from_instance` deletes the partition and, when asked,
the tenant's finished runs (as a pruning deletes them: records, events, check executions, shard
files and captured logs). Without that, its runs stay until the pruning's retention
(`MEDSPA_RUN_HISTORY_DAYS`), which keeps none of a removed tenant's runs beyond it.
A run still queued or going is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from orchestration.run_pruning import FINISHED_STATUSES, delete_runs
from orchestration.tenancy import PARTITION_TAG, TENANT_PARTITIONS, TENANT_TAG


@dataclass
class InstanceRemoval:
    """What the instance held of one tenant: removed, or with `dry_run` what would be."""

    tenant: str
    dry_run: bool
    purge_history: bool
    partition: bool = False
    #: Finished runs deleted (with `purge_history`) or kept.
    finished: list[str] = field(default_factory=list)
    #: Runs queued or going: never deleted here.
    unfinished: list[str] = field(default_factory=list)
    bytes_removed: int = 0

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        out = [
            f"Dagster: {verb} partition {self.tenant!r} (no check lists it any more)"
            if self.partition
            else f"Dagster: no partition {self.tenant!r} left"
        ]
        if self.finished and self.purge_history:
            out.append(
                f"Dagster: {verb} {len(self.finished)} finished run(s) of the tenant"
                + (f" ({self.bytes_removed / 1e6:.1f} MB of files)" if not self.dry_run else "")
            )
        elif self.finished:
            out.append(
                f"Dagster: kept {len(self.finished)} finished run(s) of the tenant: they go once "
                "older than MEDSPA_RUN_HISTORY_DAYS (--purge-history deletes them now)"
            )
        if self.unfinished:
            out.append(
                f"Dagster: kept {len(self.unfinished)} run(s) still queued or going (they fail "
                "at their start: the tenant is not in the registry); run again once they ended"
            )
        return out


def runs_of(instance: dg.DagsterInstance, tenant: str) -> list[dg.RunRecord]:
    """Every run of `tenant`, by either tag that names it (newest first)."""
    seen: dict[str, dg.RunRecord] = {}
    for tag in (PARTITION_TAG, TENANT_TAG):
        for record in instance.get_run_records(filters=dg.RunsFilter(tags={tag: tenant})):
            seen.setdefault(record.dagster_run.run_id, record)
    return sorted(seen.values(), key=lambda r: r.storage_id, reverse=True)


def remove_from_instance(
    instance: dg.DagsterInstance, tenant: str, *, purge_history: bool, dry_run: bool
) -> InstanceRemoval:
    """Delete `tenant`'s partition and, with `purge_history`, its finished runs."""
    report = InstanceRemoval(tenant, dry_run, purge_history)
    report.partition = instance.has_dynamic_partition(TENANT_PARTITIONS.name, tenant)
    for record in runs_of(instance, tenant):
        run = record.dagster_run
        finished = run.status in FINISHED_STATUSES
        (report.finished if finished else report.unfinished).append(run.run_id)
    if dry_run:
        return report
    if report.partition:
        instance.delete_dynamic_partition(TENANT_PARTITIONS.name, tenant)
    if purge_history and report.finished:
        report.bytes_removed = delete_runs(instance, report.finished)
    return report
