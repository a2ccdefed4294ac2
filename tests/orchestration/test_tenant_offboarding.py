"""`medspa tenant remove`: a tenant removed from the registry leaves the Dagster instance and,
on request, the data dir; nothing of the other tenant changes.

A real SQLite-backed instance under the data dir (where `medspa run` keeps it) with runs of a
small tenant-partitioned job for `alpha` and `gamma`; the registry lists alpha only. No
PostgreSQL here (`tests/serving/test_pg_tenant_offboarding.py` covers the database).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from medspa.cli import main
from medspa.commands.run import using_dagster_home
from medspa.run_lock import RUN_LOCK_NAME
from orchestration.defs.publish import tenant_freshness
from orchestration.defs.publish.assets import serving
from orchestration.run_pruning import prune_run_history
from orchestration.tenancy import TENANT_PARTITIONS
from orchestration.tenant_removal import runs_of

DAY = 86400.0


@dg.asset(key=["raw_pms", "visits"], partitions_def=TENANT_PARTITIONS)
def visits() -> None:
    """One step, so a run has events, a shard and step logs."""


def _nightly() -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[visits],
        jobs=[dg.define_asset_job("nightly", partitions_def=TENANT_PARTITIONS)],
        executor=dg.in_process_executor,
    )
    return defs.resolve_job_def("nightly")


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch):
    """Data dir with an instance holding 2 runs of gamma and 1 of alpha (gamma's serving
    published 30 h ago), a registry listing alpha only, and each tenant's folder."""
    for name in ("MEDSPA_SERVING_URL", "MEDSPA_DATA_DIR", "MEDSPA_RUN_HISTORY_DAYS"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    home = data_dir / "dagster"
    registry = tmp_path / "tenants.yml"
    (tmp_path / "landing" / "alpha").mkdir(parents=True)
    (tmp_path / "landing" / "gamma").mkdir(parents=True)
    (tmp_path / "landing" / "gamma" / "pms_patients.csv").write_text("patient_id\np1\n")
    registry.write_text("tenants:\n  - name: alpha\n    landing: landing/alpha\n    demo: true\n")
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(registry))
    for tenant in ("alpha", "gamma"):
        folder = data_dir / "tenants" / tenant
        (folder / "site").mkdir(parents=True)
        (folder / "warehouse.duckdb").write_bytes(b"raw rows")
        (folder / "site" / "index.html").write_text("<html></html>")
    with using_dagster_home(home), dg.DagsterInstance.from_config(str(home)) as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS.name, ["alpha", "gamma"])
        runs = {
            t: [_nightly().execute_in_process(instance=inst, partition_key=t).run_id]
            for t in ("alpha", "gamma")
        }
        runs["gamma"].append(
            _nightly().execute_in_process(instance=inst, partition_key="gamma").run_id
        )
        with freeze_time(time.time() - 30 * 3600):
            inst.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=serving.key, partition="gamma")
            )
        inst.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=serving.key, partition="alpha")
        )
    return {"data": data_dir, "home": home, "runs": runs, "root": tmp_path}


def _instance(home: Path):
    with using_dagster_home(home, install_config=False):
        return dg.DagsterInstance.from_config(str(home))


def _freshness(instance: dg.DagsterInstance) -> dg.AssetCheckResult:
    context = dg.build_asset_check_context(instance=instance)
    return tenant_freshness.every_tenant_published_recently(context)


def _remove(d, *flags: str) -> int:
    return main(["tenant", "remove", "gamma", "--data-dir", str(d["data"]), *flags])


def test_the_partition_goes_so_the_freshness_check_stops_naming_the_tenant(deployment, capsys):
    inst = _instance(deployment["home"])
    try:
        before = _freshness(inst)
        assert not before.passed and before.metadata["stale_tenants"].value == ["gamma"]
    finally:
        inst.dispose()
    assert _remove(deployment, "--dry-run") == 0
    assert "Dagster: would delete partition 'gamma'" in capsys.readouterr().out
    inst = _instance(deployment["home"])
    try:
        assert inst.has_dynamic_partition(TENANT_PARTITIONS.name, "gamma")  # dry run
    finally:
        inst.dispose()

    assert _remove(deployment) == 0
    out = capsys.readouterr().out
    assert "Dagster: deleted partition 'gamma'" in out
    assert "kept 2 finished run(s)" in out
    assert f"KEPT {deployment['data'] / 'tenants' / 'gamma'}" in out and "(raw PHI)" in out
    assert "MEDSPA_SERVING_URL is not set" in out
    inst = _instance(deployment["home"])
    try:
        assert list(inst.get_dynamic_partitions(TENANT_PARTITIONS.name)) == ["alpha"]
        after = _freshness(inst)
        assert after.passed and after.metadata["tenants"].value == 1
        assert "gamma" not in (after.description or "")
        assert len(runs_of(inst, "gamma")) == 2  # kept without --purge-history...
        # ...but no longer protected: the pruning takes them at the retention, alpha's stay
        # (its newest run, and the one holding its latest materialization).
        report = prune_run_history(inst, 90, now=time.time() + 200 * DAY)
        assert sorted(report.deleted) == sorted(deployment["runs"]["gamma"])
        assert [r.dagster_run.run_id for r in runs_of(inst, "alpha")] == deployment["runs"]["alpha"]
    finally:
        inst.dispose()
    assert (deployment["data"] / "tenants" / "gamma" / "warehouse.duckdb").is_file()

    assert _remove(deployment) == 0  # again: nothing left
    assert "no partition 'gamma' left" in capsys.readouterr().out
    # `medspa status` reads the registry: the removed tenant is not among the tenants it checks.
    main(["status", "--data-dir", str(deployment["data"])])
    out = capsys.readouterr().out
    assert "alpha" in out and "gamma" not in out


def test_purge_history_deletes_the_tenants_runs_and_no_other(deployment, capsys):
    assert _remove(deployment, "--purge-history") == 0
    out = capsys.readouterr().out
    assert "deleted 2 finished run(s) of the tenant" in out
    inst = _instance(deployment["home"])
    try:
        assert runs_of(inst, "gamma") == []
        assert all(inst.get_run_by_id(r) is None for r in deployment["runs"]["gamma"])
        assert [r.dagster_run.run_id for r in runs_of(inst, "alpha")] == deployment["runs"]["alpha"]
        assert not inst.has_dynamic_partition(TENANT_PARTITIONS.name, "gamma")
    finally:
        inst.dispose()


def test_purge_data_is_refused_while_a_run_holds_the_tenants_lock(deployment, capsys):
    gamma_dir = deployment["data"] / "tenants" / "gamma"
    # A run of gamma that began before the registry changed holds its run lock (another
    # process: a descriptor of our own on the file stands for it).
    fd = os.open(gamma_dir / RUN_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.pwrite(fd, b"4242\na nightly run\n", 0)
        assert _remove(deployment, "--purge-data", "--purge-history") == 1
        err = capsys.readouterr().err
        assert "a run of tenant gamma is going on" in err and "pid 4242" in err
        assert (gamma_dir / "warehouse.duckdb").is_file()  # nothing was changed
        inst = _instance(deployment["home"])
        try:
            assert inst.has_dynamic_partition(TENANT_PARTITIONS.name, "gamma")
            assert len(runs_of(inst, "gamma")) == 2
        finally:
            inst.dispose()
    finally:
        os.close(fd)

    assert _remove(deployment, "--purge-data", "--dry-run") == 0
    assert f"would delete {gamma_dir}" in capsys.readouterr().out
    assert gamma_dir.is_dir()
    assert _remove(deployment, "--purge-data") == 0
    out = capsys.readouterr().out
    assert f"data: deleted {gamma_dir}" in out and "landing: not touched" in out
    assert not gamma_dir.exists()
    alpha_dir = deployment["data"] / "tenants" / "alpha"
    assert (alpha_dir / "warehouse.duckdb").read_bytes() == b"raw rows"
    landing = deployment["root"] / "landing" / "gamma" / "pms_patients.csv"
    assert landing.read_text() == "patient_id\np1\n"  # the clinic's own folder


def test_a_tenant_still_in_the_registry_or_without_one_is_refused(deployment, capsys, monkeypatch):
    assert main(["tenant", "remove", "alpha", "--data-dir", str(deployment["data"])]) == 2
    assert "still listed" in capsys.readouterr().err
    assert main(["tenant", "remove", "../x", "--data-dir", str(deployment["data"])]) == 2
    assert "must match" in capsys.readouterr().err
    monkeypatch.delenv("MEDSPA_TENANTS_FILE")
    assert _remove(deployment, "--purge-data") == 2
    assert "needs the tenant registry" in capsys.readouterr().err
    assert (deployment["data"] / "tenants" / "alpha").is_dir()
    assert (deployment["data"] / "tenants" / "gamma").is_dir()
