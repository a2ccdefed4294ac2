"""The tenant registry: isolation starts with paths and keys that can never coincide."""

from pathlib import Path

import pytest

from medspa.settings import DemoKeyWarning, Settings
from medspa.tenants import (
    DEFAULT_TENANT,
    TenantRegistryError,
    demo_tenant_key,
    load_registry,
    refuse_shared_keys,
    resolve_tenants,
    tenant_settings,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _base(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", landing_dir=tmp_path / "data" / "landing")


def test_without_registry_the_default_tenant_uses_todays_paths_and_key(tmp_path: Path) -> None:
    base = _base(tmp_path)
    (tenant,) = resolve_tenants(base, None)
    assert tenant.name == DEFAULT_TENANT
    assert tenant_settings(base, tenant) == base


def test_each_tenant_gets_its_own_folders_landing_and_key(tmp_path: Path) -> None:
    registry = _write(
        tmp_path,
        """
tenants:
  - name: glow-austin
    landing: landings/austin
    phi_key_env: KEY_AUSTIN
    systems: [pms, pos]
  - name: demo-2
    landing: /abs/demo-2
    demo: true
""",
    )
    base = _base(tmp_path)
    austin, demo = load_registry(registry)
    env = {"KEY_AUSTIN": "a" * 40}
    austin_settings = tenant_settings(base, austin, env)
    demo_settings = tenant_settings(base, demo, env)

    assert austin.landing_dir == (tmp_path / "landings" / "austin").resolve()
    assert austin_settings.data_dir == base.data_dir / "tenants" / "glow-austin"
    assert austin_settings.warehouse_path == base.data_dir / "tenants/glow-austin/warehouse.duckdb"
    assert austin_settings.phi_key == "a" * 40
    assert austin_settings.declared_systems == ("pms", "pos")
    assert demo_settings.landing_dir == Path("/abs/demo-2")
    assert demo_settings.phi_key == demo_tenant_key("demo-2")
    assert demo_tenant_key("demo-2") != demo_tenant_key("demo-3")
    refuse_shared_keys({"glow-austin": austin_settings, "demo-2": demo_settings})


def test_a_demo_tenant_on_real_data_warns_as_the_demo_key_does(tmp_path: Path) -> None:
    """A demo tenant's key is derived from the public demo key: anyone can compute it, so a
    `demo: true` entry pointed at a clinic's real extracts pseudonymises nothing."""
    registry = _write(tmp_path, "tenants:\n  - {name: demo-2, landing: real, demo: true}\n")
    (tenant,) = load_registry(registry)
    settings = tenant_settings(_base(tmp_path), tenant, {})
    extract = tmp_path / "real" / "pms" / "locations" / "2026-11-20.csv"
    extract.parent.mkdir(parents=True)  # a landing folder the demo generator did not write
    extract.write_text("location_id\nL1\n", encoding="utf-8")
    assert settings.uses_demo_key and settings.demo_key_on_real_data
    with pytest.warns(DemoKeyWarning, match="demo tenant"):
        settings.warn_if_demo_key_on_real_data()


def test_a_missing_key_variable_names_the_variable_not_a_value(tmp_path: Path) -> None:
    registry = _write(tmp_path, "tenants:\n  - {name: a, landing: a, phi_key_env: MEDSPA_KEY_A}\n")
    (tenant,) = load_registry(registry)
    with pytest.raises(TenantRegistryError, match="MEDSPA_KEY_A"):
        tenant_settings(_base(tmp_path), tenant, {})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("tenants: []\n", "non-empty list"),
        ("tenants:\n  - {name: A!, landing: x, phi_key_env: K}\n", "must match"),
        ("tenants:\n  - {name: a, phi_key_env: K}\n", "landing"),
        ("tenants:\n  - {name: a, landing: x}\n", "phi_key_env` is required"),
        ("tenants:\n  - {name: a, landing: x, phi_key: s3cret}\n", "must not hold keys"),
        ("tenants:\n  - {name: a, landing: x, phi_key_env: K, colour: red}\n", "unknown"),
        (
            "tenants:\n  - {name: a, landing: x, phi_key_env: K}\n"
            "  - {name: a, landing: y, phi_key_env: L}\n",
            "same name",
        ),
        (
            "tenants:\n  - {name: a, landing: x, phi_key_env: K}\n"
            "  - {name: b, landing: x, phi_key_env: L}\n",
            "same landing dir",
        ),
        (
            "tenants:\n  - {name: a, landing: x, phi_key_env: K}\n"
            "  - {name: b, landing: y, phi_key_env: K}\n",
            "same phi key env",
        ),
    ],
)
def test_unsafe_or_malformed_registries_are_refused(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(TenantRegistryError, match=message):
        load_registry(_write(tmp_path, body))


def test_a_secret_in_the_registry_is_never_echoed(tmp_path: Path) -> None:
    registry = _write(tmp_path, "tenants:\n  - {name: a, landing: x, phi_key: s3cret-value}\n")
    with pytest.raises(TenantRegistryError) as error:
        load_registry(registry)
    assert "s3cret-value" not in str(error.value)


def test_two_tenants_with_one_key_value_are_refused(tmp_path: Path) -> None:
    registry = _write(
        tmp_path,
        "tenants:\n  - {name: a, landing: x, phi_key_env: KA}\n"
        "  - {name: b, landing: y, phi_key_env: KB}\n",
    )
    base = _base(tmp_path)
    env = {"KA": "k" * 40, "KB": "k" * 40}
    settings = {t.name: tenant_settings(base, t, env) for t in load_registry(registry)}
    with pytest.raises(TenantRegistryError, match="same pseudonymisation key"):
        refuse_shared_keys(settings)


def test_tenants_file_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEDSPA_TENANTS_FILE", str(tmp_path / "tenants.yml"))
    assert Settings.from_env(tmp_path / "data").tenants_file == tmp_path / "tenants.yml"
    monkeypatch.delenv("MEDSPA_TENANTS_FILE")
    assert Settings.from_env(tmp_path / "data").tenants_file is None


def test_every_tenant_shares_the_deployments_dagster_home(tmp_path: Path) -> None:
    """One instance for all tenants: one UI, and one run queue whose tag limit sees them all."""
    registry = _write(tmp_path, "tenants:\n  - name: demo-1\n    landing: l1\n    demo: true\n")
    base = _base(tmp_path)
    (tenant,) = load_registry(registry)
    settings = tenant_settings(base, tenant)
    assert settings.data_dir == base.data_dir / "tenants" / "demo-1"
    assert settings.dagster_home == base.dagster_home == base.data_dir / "dagster"
    assert settings.warehouse_path == base.data_dir / "tenants" / "demo-1" / "warehouse.duckdb"


def test_all_tenants_refuses_to_start_when_two_tenants_share_a_key(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """`medspa run --all-tenants` checks the keys before any tenant runs."""
    from medspa.cli import main

    registry = _write(
        tmp_path,
        "tenants:\n  - {name: a, landing: x, phi_key_env: KA}\n"
        "  - {name: b, landing: y, phi_key_env: KB}\n",
    )
    monkeypatch.setenv("KA", "k" * 40)
    monkeypatch.setenv("KB", "k" * 40)
    code = main(
        [
            "run",
            "--data-dir",
            str(tmp_path / "data"),
            "--tenants-file",
            str(registry),
            "--all-tenants",
        ]
    )
    assert code == 2
    assert "same pseudonymisation key" in capsys.readouterr().err
    assert not (tmp_path / "data" / "tenants").exists()  # nothing ran
