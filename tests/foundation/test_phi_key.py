"""MEDSPA_PHI_KEY: set-but-empty or short stops every command that pseudonymises, and the
demo-key warning is raised wherever dbt runs, not only in `medspa run`."""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

import pytest

from demo.config import ChainConfig
from demo.state import Marker, write_marker
from medspa.commands import run as run_cmd
from medspa.commands import transform
from medspa.dbt_invocation import dbt_env
from medspa.dbt_phi_plugin import Plugin
from medspa.settings import DemoKeyWarning, PhiKeyError, Settings
from orchestration.resources import dbt_step_call
from orchestration.summary import RunSummary


@pytest.mark.parametrize("value", ["", "short-key", "x" * 31])
def test_empty_or_short_key_is_an_error_naming_the_variable(monkeypatch, tmp_path, value):
    monkeypatch.setenv("MEDSPA_PHI_KEY", value)
    settings = Settings.from_env(data_dir=tmp_path)
    with pytest.raises(PhiKeyError, match="MEDSPA_PHI_KEY") as raised:
        dbt_env(settings)
    assert not value or value not in str(raised.value)  # the key itself is never printed
    with pytest.raises(PhiKeyError, match="MEDSPA_PHI_KEY"):
        dbt_step_call(settings, tmp_path / "target")  # Dagster's dbt steps
    with pytest.raises(PhiKeyError, match="MEDSPA_PHI_KEY"):  # dbt's own connections
        Plugin.__new__(Plugin).initialize({})


def test_transform_and_run_stop_before_dbt_on_an_empty_key(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MEDSPA_PHI_KEY", "")
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    called = []
    monkeypatch.setattr(transform, "run_dbt_build", lambda *a, **k: called.append(a))
    args = argparse.Namespace(data_dir=str(tmp_path), full_refresh=False, select=None)
    assert transform.run(args) == 2
    args = argparse.Namespace(data_dir=str(tmp_path), landing=None, verbose=False)
    assert run_cmd.run(args) == 2
    out = capsys.readouterr().err
    assert out.count("MEDSPA_PHI_KEY is set but empty") == 2
    assert called == []


def test_demo_refuses_a_short_key_before_generating_anything(monkeypatch, tmp_path, capsys):
    """`medspa demo` used to write the whole demo chain, then stop at the run on the key."""
    from medspa.commands import demo

    monkeypatch.setenv("MEDSPA_PHI_KEY", "short")
    args = argparse.Namespace(
        data_dir=str(tmp_path / "data"), landing=None, verbose=False, scale="small"
    )
    assert demo.run(args) == 2
    assert "MEDSPA_PHI_KEY is set but only 5 bytes long" in capsys.readouterr().err
    assert not (tmp_path / "data" / "landing").exists() or not any(
        (tmp_path / "data" / "landing").iterdir()
    )


def test_key_of_32_bytes_is_accepted(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDSPA_PHI_KEY", "k" * 32)
    assert dbt_env(Settings.from_env(data_dir=tmp_path))["MEDSPA_PHI_KEY"] == "k" * 32


def test_demo_key_warns_wherever_dbt_runs(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDSPA_PHI_KEY", raising=False)
    landing = tmp_path / "landing"
    settings = Settings.from_env(data_dir=tmp_path, landing_dir=landing)
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    monkeypatch.setattr(transform, "run_dbt_build", lambda *a, **k: (True, Counter(), []))
    args = argparse.Namespace(data_dir=str(tmp_path), full_refresh=False, select=None)
    monkeypatch.setenv("MEDSPA_LANDING_DIR", str(landing))
    # No landing folder yet (a first run that finds nothing): no one's data, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dbt_step_call(settings, tmp_path / "target")
    assert not settings.demo_key_on_real_data
    clinic = landing / "pms" / "locations" / "2026-11-20.csv"
    clinic.parent.mkdir(parents=True)
    clinic.write_text("location_id\nL1\n", encoding="utf-8")  # a clinic's own extract
    assert settings.demo_key_on_real_data
    with pytest.warns(DemoKeyWarning):
        assert transform.run(args) == 0  # medspa transform
    # every dbt step of a Dagster run (schedule, sensor, UI) builds its call here
    with pytest.warns(DemoKeyWarning):
        dbt_step_call(settings, tmp_path / "target")
    cfg = ChainConfig.build("small")  # a demo chain's marker, listing the file it wrote
    files = {"pms/locations/2026-11-20.csv": clinic.stat().st_size}
    write_marker(landing, Marker(cfg, cfg.end_date, 0.0, files=files))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dbt_step_call(settings, tmp_path / "target")  # demo data: no warning
    assert not settings.demo_key_on_real_data


def test_run_summary_says_when_the_demo_key_was_used_on_real_data():
    summary = RunSummary(run_id="r1", success=True, demo_key_on_real_data=True)
    assert "non-demo data was pseudonymised with the public demo key" in summary.to_text()
    assert "demo key" not in RunSummary(run_id="r2", success=True).to_text()
