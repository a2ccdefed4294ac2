"""`medspa ingest`, `transform` and `site` work on one tenant as `medspa run --tenant` does.

With a registry, `--tenant NAME` finds the tenant's data dir, landing folder and key; a tenant's
own folder given as `--data-dir` (which would rebuild its warehouse under MEDSPA_PHI_KEY, every
pseudonym changed) and a `--landing` the registry would override are refused, exit status 2.
Everything goes through `medspa.cli.main`, as a person types it.
"""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

import pytest

from medspa.cli import main
from tests.raw_intake_forms import read_intake_pseudonyms, write_raw_intake_forms

ALPHA_KEY = "alpha-clinic-secret-" + "a" * 32
BETA_KEY = "beta-clinic-secret-" + "b" * 32
#: A valid key of the deployment: what a tenant's folder given as --data-dir would be built with.
DEPLOYMENT_KEY = "deployment-wide-key-" + "d" * 32
PATIENT_IDS = ["P-000123", "P-000124", "é-ünïcode"]
MODEL = "stg_pms__intake_forms"  # hashes patient_id and reads no other model
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A registry of two tenants (their landing folders exist), keys in the environment."""
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDSPA_PHI_KEY", DEPLOYMENT_KEY)
    monkeypatch.setenv("MEDSPA_TEST_KEY_ALPHA", ALPHA_KEY)
    monkeypatch.setenv("MEDSPA_TEST_KEY_BETA", BETA_KEY)
    for name in ("alpha", "beta"):
        (tmp_path / "landings" / name).mkdir(parents=True)
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n"
        "  - {name: alpha, landing: landings/alpha, phi_key_env: MEDSPA_TEST_KEY_ALPHA}\n"
        "  - {name: beta, landing: landings/beta, phi_key_env: MEDSPA_TEST_KEY_BETA}\n",
        encoding="utf-8",
    )
    return {"data": tmp_path / "data", "registry": registry, "root": tmp_path}


def _medspa(deployment: dict[str, Path], command: str, *argv: str) -> int:
    data, registry = str(deployment["data"]), str(deployment["registry"])
    return main([command, "--data-dir", data, "--tenants-file", registry, *argv])


def _hmac(value: str, key: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


@pytest.mark.e2e
def test_transform_tenant_pseudonymises_with_the_tenants_key(deployment) -> None:
    """A process of its own (`python -m medspa.cli`, the console command's `main`): dbt's
    adapter keeps one DuckDB instance per process, which this test then could not open."""
    tenant_dir = deployment["data"] / "tenants" / "alpha"
    write_raw_intake_forms(tenant_dir / "warehouse.duckdb", PATIENT_IDS)
    data, registry = str(deployment["data"]), str(deployment["registry"])
    argv = ["transform", "--data-dir", data, "--tenants-file", registry, "--tenant", "alpha"]

    proc = subprocess.run(
        [sys.executable, "-m", "medspa.cli", *argv, "--select", MODEL],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "dbt build: ok" in proc.stdout
    assert "DemoKeyWarning" not in proc.stderr

    rows = read_intake_pseudonyms(tenant_dir / "warehouse.duckdb")
    assert [r[0] for r in rows] == PATIENT_IDS
    assert [r[1] for r in rows] == [_hmac(p, ALPHA_KEY) for p in PATIENT_IDS]
    assert not (deployment["data"] / "warehouse.duckdb").exists()  # nothing outside the tenant
    assert not (deployment["data"] / "tenants" / "beta").exists()


@pytest.mark.parametrize("command", ["ingest", "transform", "site"])
def test_a_tenants_folder_as_data_dir_is_refused_naming_tenant(
    deployment, capsys, command: str
) -> None:
    tenant_dir = deployment["data"] / "tenants" / "alpha"
    write_raw_intake_forms(tenant_dir / "warehouse.duckdb", PATIENT_IDS)
    before = (tenant_dir / "warehouse.duckdb").read_bytes()
    argv = [command, "--data-dir", str(tenant_dir), "--tenants-file", str(deployment["registry"])]

    assert main(argv) == 2

    captured = capsys.readouterr()
    message = captured.out + captured.err
    assert f"{tenant_dir} is the data dir of tenant 'alpha'" in message
    assert "use --tenant alpha" in message
    assert "MEDSPA_TEST_KEY_ALPHA" in message
    assert ALPHA_KEY not in message and DEPLOYMENT_KEY not in message
    assert (tenant_dir / "warehouse.duckdb").read_bytes() == before
    assert not (tenant_dir / "dbt_target").exists()  # dbt never started


def test_the_registry_from_the_environment_protects_a_tenants_folder_too(
    deployment, capsys, monkeypatch
) -> None:
    """MEDSPA_TENANTS_FILE (as the deployment sets it) is enough: no --tenants-file needed."""
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(deployment["registry"]))
    tenant_dir = deployment["data"] / "tenants" / "beta"
    tenant_dir.mkdir(parents=True)
    assert main(["transform", "--data-dir", str(tenant_dir), "--select", MODEL]) == 2
    assert "use --tenant beta" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "--tenant", "alpha"],
        ["run", "--tenant", "alpha"],
        ["run", "--all-tenants"],
    ],
    ids=["ingest", "run", "run-all-tenants"],
)
def test_landing_with_a_tenant_is_refused(deployment, capsys, argv: list[str]) -> None:
    other = deployment["root"] / "other-landing"
    other.mkdir()
    assert _medspa(deployment, *argv, "--landing", str(other)) == 2
    captured = capsys.readouterr()
    message = captured.out + captured.err
    assert "--landing does not go with --tenant" in message
    assert str(deployment["registry"]) in message
    assert not (deployment["data"] / "tenants").exists()  # nothing loaded, nothing created


@pytest.mark.parametrize("command", ["ingest", "transform", "site"])
def test_a_missing_key_variable_is_named_never_a_value(
    deployment, capsys, monkeypatch, command: str
) -> None:
    monkeypatch.delenv("MEDSPA_TEST_KEY_ALPHA")
    write_raw_intake_forms(
        deployment["data"] / "tenants" / "alpha" / "warehouse.duckdb", PATIENT_IDS
    )
    assert _medspa(deployment, command, "--tenant", "alpha") == 2
    captured = capsys.readouterr()
    message = captured.out + captured.err
    assert "tenant 'alpha': environment variable MEDSPA_TEST_KEY_ALPHA" in message
    assert "is not set" in message
    assert DEPLOYMENT_KEY not in message and BETA_KEY not in message


def test_a_short_key_is_refused_without_echoing_it(deployment, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MEDSPA_TEST_KEY_ALPHA", "too-short-secret")
    write_raw_intake_forms(
        deployment["data"] / "tenants" / "alpha" / "warehouse.duckdb", PATIENT_IDS
    )
    assert _medspa(deployment, "transform", "--tenant", "alpha") == 2
    out = capsys.readouterr().err
    assert "MEDSPA_TEST_KEY_ALPHA (its pseudonymisation key) is set but only 16 bytes" in out
    assert "too-short-secret" not in out


def test_several_tenants_and_no_tenant_named_asks_for_one(deployment, capsys) -> None:
    """As `medspa run` does: the base data dir is no tenant's, so it is never transformed."""
    assert _medspa(deployment, "transform") == 2
    out = capsys.readouterr().err
    assert "the registry lists 2 tenants: pick one with --tenant NAME" in out
    assert "--all-tenants" not in out  # medspa run's alone


def test_an_unknown_tenant_and_a_tenant_without_registry_are_refused(deployment, capsys) -> None:
    assert _medspa(deployment, "transform", "--tenant", "gamma") == 2
    assert "no tenant 'gamma' in the registry; known: alpha, beta" in capsys.readouterr().err
    data = str(deployment["data"])
    assert main(["transform", "--data-dir", data, "--tenant", "alpha"]) == 2
    assert "--tenant alpha needs a tenant registry" in capsys.readouterr().err


def test_transform_of_a_tenant_not_loaded_yet_says_how_to_load_it(deployment, capsys) -> None:
    assert _medspa(deployment, "transform", "--tenant", "beta") == 2
    out = capsys.readouterr().out
    assert str(deployment["data"] / "tenants" / "beta" / "warehouse.duckdb") in out
    assert "`medspa ingest --tenant beta`" in out


def test_site_tenant_renders_from_the_tenants_serving_file(deployment, capsys) -> None:
    """No serving file yet: the error names the tenant's, not the deployment's."""
    assert _medspa(deployment, "site", "--tenant", "beta") == 1
    serving = deployment["data"] / "tenants" / "beta" / "serving.duckdb"
    assert str(serving) in capsys.readouterr().err


def test_ingest_tenant_reads_the_tenants_landing_folder(deployment, capsys) -> None:
    """An empty landing folder: the loader stops on the required tables, naming nothing of
    the deployment's default landing (which does not exist and is never created)."""
    assert _medspa(deployment, "ingest", "--tenant", "alpha") == 2
    assert "pms.appointments" in capsys.readouterr().err
    assert not (deployment["data"] / "landing").exists()


def test_demo_refuses_a_registry(deployment, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(deployment["registry"]))
    assert main(["demo", "--data-dir", str(deployment["data"])]) == 2
    assert "`medspa demo` runs one demo chain without a tenant registry" in capsys.readouterr().out
    assert not (deployment["data"] / "landing").exists()  # nothing generated
