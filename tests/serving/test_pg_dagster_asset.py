"""The `serving_postgres` asset: publishes after `serving`, skips without a URL, never when blocked.

A stand-in `serving` asset (same key) writes the fixture serving.duckdb, or fails as a blocked
run's `serving` does, so the real asset and its check run in a real Dagster run without dbt.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dagster as dg
import psycopg
import pytest
from pg_fixtures import BI_PASSWORD

from orchestration.defs.publish.postgres import (
    SKIP_REASON,
    served_version_is_built_version,
    serving_postgres,
)
from orchestration.resources import MedspaSettings
from orchestration.tenancy import TENANT_PARTITIONS
from serving import pg_roles, pg_tenants, postgres

pytestmark = pytest.mark.xdist_group("pg")


def _stand_in_serving(source: Path | None):
    @dg.asset(key="serving", partitions_def=TENANT_PARTITIONS)
    def serving(context, medspa: MedspaSettings) -> None:
        if source is None:
            raise RuntimeError("not publishing: blocking check(s) failed: kpi_scorecard:gx")
        target = medspa.settings(context).serving_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)

    return serving


def _run(
    tmp_path: Path, source: Path | None, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    instance = instance or dg.DagsterInstance.ephemeral()
    if not instance.has_dynamic_partition(TENANT_PARTITIONS.name, "default"):
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["default"])
    return dg.materialize(
        [_stand_in_serving(source), serving_postgres, served_version_is_built_version],
        resources={"medspa": MedspaSettings(data_dir=str(tmp_path / "data"))},
        raise_on_error=False,
        instance=instance,
        partition_key="default",
    )


@pytest.fixture
def restore_v2(pg, serving_db, docs):
    """Put the session's published version back for the tests that follow."""
    yield
    postgres.publish_postgres(serving_db, pg.url, "v2", docs, bi_password=BI_PASSWORD)


def test_publishes_with_metadata_and_the_version_check_passes(
    pg, published, serving_db, tmp_path, monkeypatch, restore_v2
):
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    monkeypatch.setenv("MEDSPA_BI_PASSWORD", BI_PASSWORD)
    result = _run(tmp_path, serving_db)
    assert result.success
    mat = result.asset_materializations_for_node("serving_postgres")[0]
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert meta["version"] == result.run_id == postgres.served_version(pg.url)
    assert meta["dagster/row_count"] == sum(published.rows.values())
    assert meta["duration_s"] > 0 and meta["url"].endswith("/serving")
    assert "medspa_owner" not in meta["url"]  # host, port and database only: no user either
    assert pg.url.split("@")[0].split(":")[-1] not in str(meta)  # no password in metadata
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("served_version_is_built_version", True)]


def test_blocked_run_touches_nothing_in_postgres(pg, published, tmp_path, monkeypatch):
    before = postgres.served_version(pg.url)
    monkeypatch.setenv("MEDSPA_SERVING_URL", pg.url)
    result = _run(tmp_path, None)
    assert not result.success
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert started == ["serving"]  # serving_postgres never started
    assert postgres.served_version(pg.url) == before


def test_a_failed_publish_never_shows_the_password_in_the_event_log(
    serving_db, tmp_path, monkeypatch
):
    """libpq quotes a malformed URL's password; the asset's failure must not carry it (the
    settings refuse such a URL before anything connects, without echoing it)."""
    monkeypatch.setenv(
        "MEDSPA_SERVING_URL", "postgresql://medspa_owner:50%off!pw@127.0.0.1:1/serving"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(tmp_path, serving_db, instance)
        logs = repr(list(instance.all_logs(result.run_id)))
    assert not result.success
    assert "MEDSPA_SERVING_URL is not a PostgreSQL connection string" in logs  # the failure
    assert "off!pw" not in logs


def test_without_url_the_asset_is_skipped_and_says_why(serving_db, tmp_path, monkeypatch):
    monkeypatch.delenv("MEDSPA_SERVING_URL", raising=False)
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(tmp_path, serving_db, instance)
        messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert result.success
    assert result.asset_materializations_for_node("serving_postgres") == []
    assert any(SKIP_REASON in m for m in messages)
    skipped = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"]
    assert skipped == ["serving_postgres_served_version_is_built_version"]  # no check on nothing


def test_with_a_tenant_registry_each_tenant_run_publishes_its_own_rows(
    pg, serving_db, tmp_path, monkeypatch
):
    """Two tenants' runs into one database: a version row per tenant, each check per tenant."""
    owner_password = unquote(urlsplit(pg.url).password or "")
    pg.cluster.psql_superuser(
        pg_roles.bootstrap_sql("serving_dagster", "medspa_owner", owner_password)
    )
    url = pg.url.replace("/serving?", "/serving_dagster?")
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n  - name: north\n    landing: n\n    demo: true\n"
        "  - name: south\n    landing: s\n    demo: true\n"
    )
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(registry))
    monkeypatch.setenv("MEDSPA_SERVING_URL", url)
    # A second deployment on the server of the `serving` database: its own role names.
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", "medspa_dg")
    runs = {}
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["north", "south"])
        for tenant in ("north", "south"):
            runs[tenant] = dg.materialize(
                [_stand_in_serving(serving_db), serving_postgres, served_version_is_built_version],
                resources={"medspa": MedspaSettings(data_dir=str(tmp_path / "data"))},
                raise_on_error=False,
                instance=instance,
                partition_key=tenant,
            )
    for tenant, result in runs.items():
        assert result.success, tenant
        meta = result.asset_materializations_for_node("serving_postgres")[0].metadata
        assert meta["tenant"].value == tenant
        checks = result.get_asset_check_evaluations()
        assert [(c.check_name, c.passed) for c in checks] == [
            ("served_version_is_built_version", True)
        ], tenant
        assert (tmp_path / "data" / "tenants" / tenant / "serving.duckdb").is_file()
    assert pg_tenants.served_versions(url) == {t: r.run_id for t, r in runs.items()}
    with psycopg.connect(url, autocommit=True) as conn:
        connect = conn.execute(
            "select r.rolname from pg_database d cross join lateral aclexplode(d.datacl) a "
            "join pg_roles r on r.oid = a.grantee "
            "where d.datname = current_database() and a.privilege_type = 'CONNECT' "
            "and a.grantee <> d.datdba"
        ).fetchall()
    # The asset passed the prefix on: only this deployment's read group may connect.
    assert connect == [("medspa_dg_read",)]
