"""Sensor: keep the `tenant` dynamic partitions equal to the tenant registry.

New registry entries become partitions (a backfill over all tenants is then one click in the
UI); entries removed from the registry are removed as partitions, so no schedule or backfill
starts a run for them. Their files under `<data-dir>/tenants/<name>/` stay, and so do their
rows and login in PostgreSQL: deleting a clinic's data is an operator's decision, not a
sensor's (`medspa tenant remove`). Without a registry the one partition is
`default`.
"""

import dagster as dg

from medspa.settings import Settings
from medspa.tenants import resolve_tenants
from orchestration.tenancy import TENANT_PARTITIONS


def registry_names(settings: Settings) -> list[str]:
    """Tenant names of the configured registry (`default` without one), in registry order."""
    return [t.name for t in resolve_tenants(settings, settings.tenants_file)]


def partition_changes(wanted: list[str], existing: list[str]) -> tuple[list[str], list[str]]:
    """(to add, to delete) so that the partitions become exactly `wanted`."""
    return (
        [n for n in wanted if n not in existing],
        sorted(set(existing) - set(wanted)),
    )


@dg.sensor(
    name="tenant_partitions_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a `tenant` partition per registry entry (MEDSPA_TENANTS_FILE) and "
    "removes partitions of tenants no longer listed.",
)
def tenant_partitions_sensor(context: dg.SensorEvaluationContext):
    wanted = registry_names(Settings.from_env())
    existing = list(context.instance.get_dynamic_partitions(TENANT_PARTITIONS.name))
    add, delete = partition_changes(wanted, existing)
    if not add and not delete:
        return dg.SkipReason(f"tenant partitions match the registry ({len(wanted)} tenants)")
    requests = []
    if add:
        requests.append(TENANT_PARTITIONS.build_add_request(add))
    if delete:
        requests.append(TENANT_PARTITIONS.build_delete_request(delete))
    return dg.SensorResult(dynamic_partitions_requests=requests)
