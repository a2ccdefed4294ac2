"""Dagster's PostgreSQL storage as the Docker deployment configures it: runs stored, then pruned.

The storage section of deploy/docker/dagster.yaml is loaded as Dagster reads it (its `env:`
values from the environment), pointed at the test cluster, and real runs go through it: with
a plain `postgresql://` URL, SQLAlchemy 2.1 picks psycopg 3 and the first stored event fails.
`orchestration.run_pruning` reads and deletes in Dagster's index tables directly (the latest
event of every asset partition, the check executions of a run); the SQLite instance of
`make dev` is tested in tests/orchestration/test_run_pruning.py, PostgreSQL here.
"""

import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

from orchestration.run_pruning import prune_run_history
from orchestration.tenancy import TENANT_PARTITIONS

pytestmark = pytest.mark.xdist_group("pg")

DOCKER_INSTANCE = Path(__file__).resolve().parents[2] / "deploy" / "docker" / "dagster.yaml"

VISITS = dg.AssetKey(["raw_pms", "visits"])
CHECK_KEY = dg.AssetCheckKey(VISITS, "unique_keys")


@dg.asset(key=VISITS, partitions_def=TENANT_PARTITIONS)
def visits() -> None:
    """A tenant's raw table, materialized every night."""


@dg.asset_check(asset=VISITS, name="unique_keys")
def unique_keys() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _job() -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[visits],
        asset_checks=[unique_keys],
        jobs=[dg.define_asset_job("nightly", partitions_def=TENANT_PARTITIONS)],
        executor=dg.in_process_executor,
    )
    return defs.resolve_job_def("nightly")


def _docker_storage(monkeypatch: pytest.MonkeyPatch, port: int) -> dict:
    """deploy/docker/dagster.yaml's storage, its variables set for the test cluster."""
    for name, value in {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_USER": "dagster_hist",
        "DAGSTER_PG_PASSWORD": "hist-secret",
        "DAGSTER_PG_DB": "dagster_hist",
    }.items():
        monkeypatch.setenv(name, value)
    storage = yaml.safe_load(DOCKER_INSTANCE.read_text(encoding="utf-8"))["storage"]
    db = storage["postgres"]["postgres_db"]
    assert db["port"] == 5432  # compose's database; the test cluster listens elsewhere
    db["port"] = port
    db["params"] = {"sslmode": "require"}  # the test cluster takes TLS connections only
    return storage


def test_the_docker_instance_stores_runs_in_postgres_and_prunes_them(pg, tmp_path, monkeypatch):
    pg.cluster.psql_superuser(
        "create role dagster_hist login password 'hist-secret'; "
        "create database dagster_hist owner dagster_hist;"
    )
    overrides = {"storage": _docker_storage(monkeypatch, pg.cluster.port)}
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        instance.add_dynamic_partitions(TENANT_PARTITIONS.name, ["clinic-a"])
        runs = [
            _job().execute_in_process(instance=instance, partition_key="clinic-a").run_id
            for _ in range(3)
        ]

        report = prune_run_history(instance, 90, now=time.time() + 200 * 86400, min_runs_kept=1)

        assert report.deleted == runs[:2]  # the newest holds every latest event
        assert [instance.get_run_by_id(r) is not None for r in runs] == [False, False, True]
        table = AssetCheckExecutionsTable
        with instance.event_log_storage.index_connection() as conn:
            left = {row[0] for row in conn.execute(sa.select(table.c.run_id))}
        assert left == {runs[2]}
        (latest,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=VISITS, asset_partitions=["clinic-a"]), limit=1
        ).records
        assert latest.run_id == runs[2]
