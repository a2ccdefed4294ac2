"""Every MEDSPA_* value is checked when the settings are built, and a bad one is reported by
name before anything is created: `error: ...` on stderr and exit status 2 from the CLI.

One test (or one parametrized test) per defect found by the audit:
1. numeric settings (DuckDB threads and memory limit, quarantine share, lock timeout);
2. MEDSPA_SCHEDULE_TZ (empty = the documented default, an unknown zone is an error);
3. MEDSPA_SYSTEMS and a registry tenant's `systems:` against the landing contract;
4. a registry tenant's too-short key names the tenant's variable, not MEDSPA_PHI_KEY;
5. a configured landing folder that does not exist is an error, never created.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from medspa.cli import main
from medspa.settings import Settings, SettingsError
from medspa.tenants import TenantRegistryError, load_registry, tenant_settings

EXPECTED_THREADS = "set it to a whole number of threads, at least 1"
EXPECTED_SIZE = "set it to a size with a unit, e.g. 2GB, 512MB or 1.5GiB"
EXPECTED_SHARE = "set it to a share between 0 and 1"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MEDSPA_* variable of the developer's shell leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("MEDSPA_"):
            monkeypatch.delenv(name)


# -- 1. numeric settings ------------------------------------------------------------------


THREADS, MEMORY = "MEDSPA_DUCKDB_THREADS", "MEDSPA_DUCKDB_MEMORY_LIMIT"
SHARE, TIMEOUT = "MEDSPA_QUARANTINE_MAX_SHARE", "MEDSPA_SERVING_LOCK_TIMEOUT"
DAYS = "MEDSPA_RUN_HISTORY_DAYS"
EXPECTED_DAYS = "set it to a whole number of days, e.g. 90 (0 keeps everything)"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (THREADS, "abc", f"{THREADS}='abc' is not a whole number: {EXPECTED_THREADS}"),
        (THREADS, "1.5", f"{THREADS}='1.5' is not a whole number: {EXPECTED_THREADS}"),
        (THREADS, "-1", f"{THREADS}='-1' is below 1: {EXPECTED_THREADS}"),
        (THREADS, "0", f"{THREADS}='0' is below 1: {EXPECTED_THREADS}"),
        (THREADS, "", f"{THREADS} is set but empty: {EXPECTED_THREADS}, or unset it for "),
        (MEMORY, "abc", f"{MEMORY}='abc' is not a memory size: {EXPECTED_SIZE}"),
        (MEMORY, "0", f"{MEMORY}='0' has no unit: {EXPECTED_SIZE}"),  # bare bytes: refused
        (MEMORY, "2048", f"{MEMORY}='2048' has no unit: {EXPECTED_SIZE}"),
        (MEMORY, "-1GB", f"{MEMORY}='-1GB' is not a memory size: {EXPECTED_SIZE}"),
        (MEMORY, "0GB", f"{MEMORY}='0GB' is not above zero: {EXPECTED_SIZE}"),
        (MEMORY, "", f"{MEMORY} is set but empty: {EXPECTED_SIZE}"),
        (SHARE, "5", f"{SHARE}='5' is not between 0 and 1: {EXPECTED_SHARE}"),
        (SHARE, "-0.1", f"{SHARE}='-0.1' is not between 0 and 1: {EXPECTED_SHARE}"),
        (SHARE, "abc", f"{SHARE}='abc' is not a number: {EXPECTED_SHARE}"),
        (SHARE, "nan", f"{SHARE}='nan' is not a finite number: {EXPECTED_SHARE}"),
        (SHARE, "", f"{SHARE} is set but empty: {EXPECTED_SHARE}"),
        (TIMEOUT, "0", f"{TIMEOUT}='0' is not above zero: set it to a number of seconds"),
        (TIMEOUT, "soon", f"{TIMEOUT}='soon' is not a number: set it to a number of seconds"),
        (DAYS, "-1", f"{DAYS}='-1' is below 0: {EXPECTED_DAYS}"),
        (DAYS, "90d", f"{DAYS}='90d' is not a whole number: {EXPECTED_DAYS}"),
        (DAYS, "", f"{DAYS} is set but empty: {EXPECTED_DAYS}, or unset it for the default (90)"),
    ],
)
def test_numeric_settings_are_checked_and_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(tmp_path / "data")
    assert str(caught.value).startswith(message)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("MEDSPA_DUCKDB_THREADS", " 4 ", "duckdb_threads", 4),
        ("MEDSPA_DUCKDB_MEMORY_LIMIT", "512mb", "duckdb_memory_limit", "512MB"),
        ("MEDSPA_DUCKDB_MEMORY_LIMIT", "1.5gib", "duckdb_memory_limit", "1.5GiB"),
        ("MEDSPA_DUCKDB_MEMORY_LIMIT", "2 TB", "duckdb_memory_limit", "2TB"),
        ("MEDSPA_QUARANTINE_MAX_SHARE", "0", "quarantine_max_share", 0.0),
        ("MEDSPA_QUARANTINE_MAX_SHARE", "1", "quarantine_max_share", 1.0),
        ("MEDSPA_SERVING_LOCK_TIMEOUT", "7.5", "serving_lock_timeout_s", 7.5),
        ("MEDSPA_RUN_HISTORY_DAYS", "0", "run_history_days", 0),
        ("MEDSPA_RUN_HISTORY_DAYS", "400", "run_history_days", 400),
    ],
)
def test_good_numeric_values_are_kept_in_duckdbs_spelling(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
    value: str,
    attribute: str,
    expected: object,
) -> None:
    monkeypatch.setenv(name, value)
    assert getattr(Settings.from_env(tmp_path), attribute) == expected


def test_unset_numeric_settings_take_the_documented_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path)
    assert (settings.duckdb_threads, settings.duckdb_memory_limit) == (2, "2GB")
    assert (settings.quarantine_max_share, settings.serving_lock_timeout_s) == (0.01, 60.0)
    assert settings.run_history_days == 90


def test_the_cli_reports_a_bad_number_with_status_2_before_creating_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`medspa run` with MEDSPA_DUCKDB_THREADS=-1 used to create the data dir and the run
    lock, then fail with DuckDB's SyntaxException traceback."""
    monkeypatch.setenv("MEDSPA_DUCKDB_THREADS", "-1")
    assert main(["run", "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: MEDSPA_DUCKDB_THREADS='-1' is below 1: {EXPECTED_THREADS}\n"
    assert not (tmp_path / "data").exists()


# -- 2. MEDSPA_SCHEDULE_TZ ----------------------------------------------------------------


def test_schedule_time_zone_is_checked_and_empty_means_the_documented_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDSPA_SCHEDULE_TZ", "")  # README: default America/New_York
    assert Settings.from_env(tmp_path).schedule_timezone == "America/New_York"
    monkeypatch.setenv("MEDSPA_SCHEDULE_TZ", "Europe/Berlin")
    assert Settings.from_env(tmp_path).schedule_timezone == "Europe/Berlin"
    for zone in ("Mars/Olympus", "../../etc/passwd"):
        monkeypatch.setenv("MEDSPA_SCHEDULE_TZ", zone)
        with pytest.raises(SettingsError, match=rf"^MEDSPA_SCHEDULE_TZ='{zone}' is not a known"):
            Settings.from_env(tmp_path)
    # `medspa run` used to fail importing the definitions with a Dagster error
    monkeypatch.setenv("MEDSPA_SCHEDULE_TZ", "Mars/Olympus")
    assert main(["run", "--data-dir", str(tmp_path / "data")]) == 2
    assert capsys.readouterr().err.startswith(
        "error: MEDSPA_SCHEDULE_TZ='Mars/Olympus' is not a known time zone: "
    )
    assert not (tmp_path / "data").exists()


# -- 3. declared systems ------------------------------------------------------------------


def test_declared_systems_must_be_systems_of_the_contract(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDSPA_SYSTEMS", "pms,pos,fone")
    expected = "MEDSPA_SYSTEMS='pms,pos,fone': 'fone' is not a system of the landing contract"
    with pytest.raises(SettingsError, match=f"^{expected} \\(known: pms, pos, "):
        Settings.from_env(tmp_path / "data")
    assert main(["ingest", "--data-dir", str(tmp_path / "data")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {expected}")
    assert not (tmp_path / "data").exists()  # nothing was loaded, nothing created

    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n  - {name: clinic-a, landing: a, phi_key_env: K, systems: [pms, fone]}\n"
    )
    with pytest.raises(TenantRegistryError) as caught:
        load_registry(registry)
    assert str(caught.value).startswith(
        f"{registry}: tenant 'clinic-a': `systems` lists 'fone', not a system of the landing "
        "contract (known: pms, pos, "
    )


# -- 4. a tenant's short key --------------------------------------------------------------


def test_a_tenants_short_key_names_the_tenants_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").mkdir()
    registry = tmp_path / "tenants.yml"
    registry.write_text("tenants:\n  - {name: clinic-a, landing: a, phi_key_env: CLINIC_A_KEY}\n")
    (tenant,) = load_registry(registry)
    base = Settings.from_env(tmp_path / "data")
    expected = (
        "tenant 'clinic-a': environment variable CLINIC_A_KEY (its pseudonymisation key) is "
        "set but only 5 bytes long: set it to a secret of at least 32 bytes"
    )
    with pytest.raises(TenantRegistryError) as caught:
        tenant_settings(base, tenant, {"CLINIC_A_KEY": "short"})
    assert str(caught.value) == expected  # no MEDSPA_PHI_KEY, no "unset it for the demo key"
    with pytest.raises(TenantRegistryError, match=r"CLINIC_A_KEY .* is set but empty"):
        tenant_settings(base, tenant, {"CLINIC_A_KEY": ""})
    assert tenant_settings(base, tenant, {"CLINIC_A_KEY": "k" * 32}).phi_key == "k" * 32

    monkeypatch.setenv("CLINIC_A_KEY", "short")
    args = ["run", "--data-dir", str(tmp_path / "data"), "--tenants-file", str(registry)]
    assert main(args) == 2
    assert capsys.readouterr().err == f"error: {expected}\n"  # errors on stderr, as every command
    assert not (tmp_path / "data").exists()


# -- 5. a configured landing folder that does not exist -----------------------------------


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_data_dir_that_cannot_be_a_folder_is_named_as_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    # It failed deep in the run with "FileExistsError: File exists" and advice to free space.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    data = blocker if where == "a file" else blocker / "data"
    assert main(["run", "--data-dir", str(data)]) == 2
    why = (
        "is not a folder: point it at a folder, or at a path where one can be created"
        if where == "a file"
        else "cannot be created (Not a directory): create the folder, or choose another path"
    )
    assert (
        capsys.readouterr().err
        == f"error: data dir {data} (--data-dir, or MEDSPA_DATA_DIR) {why}\n"
    )


def test_a_missing_configured_landing_folder_is_an_error_not_an_empty_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, typo = tmp_path / "data", tmp_path / "typo"
    # `medspa run --landing /typo` used to create the folder and report SUCCESS, "no new extract"
    assert main(["run", "--data-dir", str(data), "--landing", str(typo)]) == 2
    assert capsys.readouterr().err == (
        f"error: landing folder {typo} (set by --landing) does not exist: fix the path or "
        "create the folder; only the default <data-dir>/landing is created when missing\n"
    )
    assert not typo.exists() and not data.exists()

    monkeypatch.setenv("MEDSPA_LANDING_DIR", str(typo))
    with pytest.raises(SettingsError, match=r"\(set by MEDSPA_LANDING_DIR\) does not exist"):
        Settings.from_env(data).ensure_dirs()
    with pytest.raises(SettingsError, match=r"\(set by MEDSPA_LANDING_DIR\) does not exist"):
        Settings.from_env(data).check_landing()
    assert not typo.exists() and not data.exists()

    # a registry tenant's landing folder is never created either
    registry = tmp_path / "tenants.yml"
    registry.write_text("tenants:\n  - {name: clinic-a, landing: nope, demo: true}\n")
    monkeypatch.delenv("MEDSPA_LANDING_DIR")
    base = Settings.from_env(data)
    (tenant,) = load_registry(registry)
    with pytest.raises(SettingsError, match="set by `landing:` of tenant 'clinic-a' in "):
        tenant_settings(base, tenant).ensure_dirs()
    assert not (tmp_path / "nope").exists()

    # only the default <data-dir>/landing is created
    default = Settings.from_env(data)
    assert default.landing_source is None
    default.ensure_dirs()
    assert (data / "landing").is_dir()


def test_the_landing_sensor_names_a_missing_landing_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dagster as dg

    from orchestration.manifest import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    typo = tmp_path / "typo"
    monkeypatch.setenv("MEDSPA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEDSPA_LANDING_DIR", str(typo))
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tenant", ["default"])
        ctx = dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def())
        result = sensor.evaluate_tick(ctx)
    assert not result.run_requests
    assert result.skip_message.startswith(
        f"landing folder(s) do not exist: tenant 'default': {typo} "
    )
    assert not typo.exists()


def test_demo_still_generates_into_a_landing_folder_that_does_not_exist_yet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`medspa demo --landing NEW` (and `make demo` on a fresh clone, the default folder):
    the demo generates the folder first, so the run that follows finds it."""
    from medspa.commands import demo, run

    generated: list[Path] = []

    def fake_generate(landing: Path, config: object) -> argparse.Namespace:
        (landing / "pms" / "locations").mkdir(parents=True)
        (landing / "pms" / "locations" / "1.csv").write_text("a\n1\n")
        generated.append(landing)
        return argparse.Namespace(total_rows=1, files=[landing])

    def fake_execute(data_dir, landing, verbose=False, **kwargs):
        settings = Settings.from_env(data_dir, landing)
        settings.ensure_dirs()  # what `execute` does before the run
        summary = argparse.Namespace(success=True, to_text=lambda: "ok")
        return summary, settings

    monkeypatch.setattr("demo.run.generate", fake_generate)
    monkeypatch.setattr(run, "execute", fake_execute)
    for landing in (str(tmp_path / "new-landing"), None):
        args = argparse.Namespace(
            data_dir=str(tmp_path / "data"), landing=landing, verbose=False, scale="small"
        )
        assert demo.run(args) == 0
    assert generated == [tmp_path / "new-landing", tmp_path / "data" / "landing"]
    assert all(p.is_dir() for p in generated)


# -- 6. the PostgreSQL settings ------------------------------------------------------------


def test_a_bad_role_prefix_stops_the_run_before_the_load_not_at_the_postgres_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The prefix was only checked when the PostgreSQL step built its roles: a run loaded,
    ran dbt and published serving.duckdb, and then failed."""
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", "Bad-Prefix")
    assert main(["run", "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: MEDSPA_SERVING_ROLE_PREFIX='Bad-Prefix' must start with ")
    assert not (tmp_path / "data").exists()
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", "a" * 16)
    with pytest.raises(SettingsError, match="at most 15 characters"):
        Settings.from_env(tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://owner:Ab#cd?ef@127.0.0.1:5433/serving",  # libpq reads `#`, `?` as written
        "postgres://owner@db.example/serving?sslmode=require",
        "postgresql:///serving?host=/run/pg&port=5433",  # a socket folder
        "host=db.example dbname=serving user=owner password=Kw0rd",  # keyword form
    ],
)
def test_every_connection_string_libpq_reads_is_a_serving_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    monkeypatch.setenv("MEDSPA_SERVING_URL", url)
    assert Settings.from_env(tmp_path).serving_url == url


@pytest.mark.parametrize(
    "url", ["https://db.example/serving", "db.example:5432", "host='unterminated pw=S3cret"]
)
def test_a_serving_url_libpq_cannot_read_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    monkeypatch.setenv("MEDSPA_SERVING_URL", url)
    with pytest.raises(SettingsError, match=r"^MEDSPA_SERVING_URL is not a PostgreSQL") as err:
        Settings.from_env(tmp_path)
    assert "db.example" not in str(err.value) and "S3cret" not in str(err.value)


def test_a_bad_postgres_port_fails_only_the_command_that_uses_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MEDSPA_PG_PORT was read with a bare int() while the CLI's parser was built: a bad
    value crashed every command with a ValueError traceback."""
    monkeypatch.setenv("MEDSPA_PG_PORT", "abc")
    assert main(["history", "--data-dir", str(tmp_path / "data"), "--dry-run"]) == 0
    capsys.readouterr()
    assert main(["serving", "pg-start", "--data-dir", str(tmp_path / "data")]) == 2
    expected = "set it to a TCP port between 1 and 65535, e.g. 5433"
    assert (
        capsys.readouterr().err
        == f"error: MEDSPA_PG_PORT='abc' is not a whole number: {expected}\n"
    )
    monkeypatch.setenv("MEDSPA_PG_PORT", "70000")
    assert main(["serving", "pg-start", "--data-dir", str(tmp_path / "data")]) == 2
    assert "MEDSPA_PG_PORT=70000 is above 65535" in capsys.readouterr().err
