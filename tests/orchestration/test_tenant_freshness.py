"""One clinic whose nightly stopped must not hide behind the other clinics' runs.

`serving`'s all-tenant freshness check sees the newest publish of any tenant; the per-tenant
check names each tenant whose newest publish is older than 26 h (one that never published is
listed, not failed: on a first night every tenant but the first is in that state for minutes).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._core.test_utils import freeze_time

from orchestration.defs.publish import tenant_freshness
from orchestration.defs.publish.assets import serving
from orchestration.tenancy import TENANT_PARTITIONS

HOUR = 3600.0
NOW = 1_800_000_000.0


def test_stale_tenants_by_hand():
    published = {"a": NOW - 25 * HOUR, "b": NOW - 27 * HOUR, "c": None, "d": NOW - 26 * HOUR}
    # 26 h exactly is still within the window; 27 h is not; c never published (not stale).
    assert tenant_freshness.stale_tenants(published, NOW) == {"b": "last published 27.0 h ago"}
    assert tenant_freshness.stale_tenants({}, NOW) == {}


def _evaluate(instance: dg.DagsterInstance) -> dg.AssetCheckResult:
    context = dg.build_asset_check_context(instance=instance)
    return tenant_freshness.every_tenant_published_recently(context)


def _publish(instance: dg.DagsterInstance, tenant: str, at: float) -> None:
    """A `serving` materialization of `tenant` recorded at `at` (Dagster's clock frozen)."""
    with freeze_time(at):
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=serving.key, partition=tenant)
        )


def test_the_check_names_the_tenant_whose_nightly_stopped(monkeypatch):
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["north", "south", "west"])
        _publish(instance, "north", NOW)
        _publish(instance, "south", NOW)  # west never published
        monkeypatch.setattr(tenant_freshness, "_now", lambda: NOW + HOUR)
        result = _evaluate(instance)
        assert result.passed and result.description == "not published yet: west"
        assert result.metadata["never_published"].value == ["west"]
        # South's nightly stops; north's keeps running. 27 h later the newest publish of *any*
        # tenant is 3 h old (what the all-tenant freshness check sees), but south is stale.
        _publish(instance, "north", NOW + 24 * HOUR)
        monkeypatch.setattr(tenant_freshness, "_now", lambda: NOW + 27 * HOUR)
        result = _evaluate(instance)
        assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
        assert result.metadata["stale_tenants"].value == ["south"]
        assert result.description == "south: last published 27.0 h ago; not published yet: west"
        # Once every tenant published within the window, it passes.
        _publish(instance, "south", NOW + 26 * HOUR)
        _publish(instance, "west", NOW + 26 * HOUR)
        result = _evaluate(instance)
        assert result.passed and result.description == "all 3 tenant(s) published within the window"


def test_the_check_warns_and_never_blocks_publishing():
    spec = next(iter(tenant_freshness.every_tenant_published_recently.check_specs))
    assert spec.blocking is False and spec.asset_key == serving.key
    assert dt.timedelta(hours=26) == tenant_freshness.MART_MAX_AGE
