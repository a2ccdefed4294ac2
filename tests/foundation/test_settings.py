"""Settings: every generated path hangs off the data directory; the demo key warns on real data."""

import warnings
from pathlib import Path

import pytest

from medspa.settings import DEMO_PHI_KEY, DemoKeyWarning, Settings


def test_paths_derive_from_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDSPA_LANDING_DIR", raising=False)
    s = Settings.from_env(data_dir=tmp_path)
    assert s.warehouse_path == tmp_path / "warehouse.duckdb"
    assert s.serving_path == tmp_path / "serving.duckdb"
    assert s.landing_dir == tmp_path / "landing"
    assert s.site_dir == tmp_path / "site"


def test_env_var_sets_data_dir_and_option_overrides_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSPA_DATA_DIR", str(tmp_path / "from-env"))
    assert Settings.from_env().data_dir == tmp_path / "from-env"
    assert Settings.from_env(data_dir=tmp_path / "opt").data_dir == tmp_path / "opt"


def test_declared_systems_parsed_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDSPA_SYSTEMS", "pms, pos ,phone")
    assert Settings.from_env(data_dir=tmp_path).declared_systems == ("pms", "pos", "phone")
    monkeypatch.delenv("MEDSPA_SYSTEMS")
    assert Settings.from_env(data_dir=tmp_path).declared_systems is None


def test_demo_key_warns_only_on_non_demo_data(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDSPA_PHI_KEY", raising=False)
    s = Settings.from_env(data_dir=tmp_path)
    assert s.phi_key == DEMO_PHI_KEY
    with warnings.catch_warnings():  # an empty landing folder holds no one's data
        warnings.simplefilter("error")
        s.warn_if_demo_key_on_real_data(landing_is_demo=False)
    extract = Path(s.landing_dir) / "pms" / "locations" / "2026-11-20.csv"
    extract.parent.mkdir(parents=True)
    extract.write_text("location_id\nL1\n", encoding="utf-8")
    with pytest.warns(DemoKeyWarning):
        s.warn_if_demo_key_on_real_data(landing_is_demo=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.warn_if_demo_key_on_real_data(landing_is_demo=True)


def test_phi_key_is_not_in_repr(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDSPA_PHI_KEY", "s3cret-value")
    assert "s3cret-value" not in repr(Settings.from_env(data_dir=tmp_path))
