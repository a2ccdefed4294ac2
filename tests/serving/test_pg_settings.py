"""The serving URL and BI password are secrets: read from the environment, never printed."""

from __future__ import annotations

from medspa.settings import Settings
from serving.pg_url import mask_url, with_user

URL = "postgresql://medspa_owner:Sup3r%2Fsecret@db.example:5433/serving?sslmode=require"


def test_settings_read_the_serving_variables_and_keep_them_out_of_repr(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDSPA_SERVING_URL", URL)
    monkeypatch.setenv("MEDSPA_BI_PASSWORD", "bi-secret")
    monkeypatch.setenv("MEDSPA_SERVING_LOCK_TIMEOUT", "7.5")
    settings = Settings.from_env(tmp_path)
    assert settings.serving_url == URL and settings.bi_password == "bi-secret"
    assert settings.serving_lock_timeout_s == 7.5
    assert "Sup3r" not in repr(settings) and "bi-secret" not in repr(settings)


def test_unset_serving_url_means_duckdb_only(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDSPA_SERVING_URL", raising=False)
    monkeypatch.setenv("MEDSPA_BI_PASSWORD", "")
    settings = Settings.from_env(tmp_path)
    assert settings.serving_url is None and settings.bi_password is None


def test_mask_url_hides_only_the_password():
    assert mask_url(URL) == "postgresql://medspa_owner:***@db.example:5433/serving?sslmode=require"
    assert mask_url("postgresql://db.example/serving") == "postgresql://db.example/serving"
    assert mask_url(None) == ""


def test_with_user_quotes_the_password():
    url = with_user(URL, "medspa_bi", "p@ss:w/rd")
    assert url == "postgresql://medspa_bi:p%40ss%3Aw%2Frd@db.example:5433/serving?sslmode=require"
