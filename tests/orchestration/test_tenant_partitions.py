"""Tenants in Dagster: every asset partitioned by tenant, partitions synced from the registry,
one nightly run per tenant with the tag the run queue limits on."""

from __future__ import annotations

import datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.automation.tenant_sensor import partition_changes
from orchestration.tenancy import TENANT_PARTITIONS, TENANT_TAG


def _registry(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "tenants.yml"
    entries = "".join(f"  - name: {n}\n    landing: {n}\n    demo: true\n" for n in names)
    path.write_text("tenants:\n" + entries, encoding="utf-8")
    return path


def test_every_asset_is_partitioned_by_tenant(asset_graph):
    keys = [k for k in asset_graph.get_all_asset_keys() if asset_graph.get(k).is_materializable]
    assert keys
    unpartitioned = [k for k in keys if asset_graph.get(k).partitions_def != TENANT_PARTITIONS]
    assert unpartitioned == [dg.AssetKey("kpi_benchmarks")]  # across tenants, by design


def test_partition_changes_add_new_and_remove_deleted_tenants():
    assert partition_changes(["a", "b", "c"], ["c", "x"]) == (["a", "b"], ["x"])
    assert partition_changes(["a"], ["a"]) == ([], [])


def test_sync_sensor_makes_the_partitions_equal_the_registry(
    defs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sensor = defs.resolve_sensor_def("tenant_partitions_sensor")
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(_registry(tmp_path, ["demo-1", "demo-2"])))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["default", "demo-1"])
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        requests = result.dynamic_partitions_requests
        assert [(type(r).__name__, list(r.partition_keys)) for r in requests] == [
            ("AddDynamicPartitionsRequest", ["demo-2"]),
            ("DeleteDynamicPartitionsRequest", ["default"]),
        ]


def test_without_a_registry_the_one_partition_is_default(defs, monkeypatch: pytest.MonkeyPatch):
    sensor = defs.resolve_sensor_def("tenant_partitions_sensor")
    monkeypatch.delenv("MEDSPA_TENANTS_FILE", raising=False)
    with dg.instance_for_test() as instance:
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        (request,) = result.dynamic_partitions_requests
        assert list(request.partition_keys) == ["default"]


def test_nightly_schedule_requests_one_tagged_run_per_tenant(
    defs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    schedule = defs.resolve_schedule_def("nightly_0200")
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(_registry(tmp_path, ["demo-1", "demo-2"])))
    with (
        dg.instance_for_test() as instance,
        dg.partition_loading_context(dynamic_partitions_store=instance),
    ):
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["demo-1", "demo-2"])
        context = dg.build_schedule_context(
            instance=instance,
            repository_def=defs.get_repository_def(),
            scheduled_execution_time=datetime.datetime(2026, 11, 30, 2, 0),
        )
        requests = schedule.evaluate_tick(context).run_requests
    assert [(r.partition_key, r.tags[TENANT_TAG]) for r in requests] == [
        ("demo-1", "demo-1"),
        ("demo-2", "demo-2"),
    ]
    assert all(r.tags["dagster/max_retries"] == "1" for r in requests)
    assert len({r.run_key for r in requests}) == 2
