"""The serving URL and BI password are secrets: read from the environment, never printed."""

from __future__ import annotations

from medspa.settings import Settings
from serving.pg_url import mask_secrets, mask_url, with_user

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


def test_mask_url_hides_a_password_written_as_a_parameter_or_in_keyword_form():
    # psycopg and DuckDB accept all three forms; any of them may be in MEDSPA_SERVING_URL.
    query = "postgresql://medspa_owner@db.example/serving?password=Qu3ry&sslmode=require"
    assert (
        mask_url(query)
        == "postgresql://medspa_owner@db.example/serving?password=***&sslmode=require"
    )
    upper = "postgresql://db.example/serving?sslmode=require&PASSWORD=a%20b&sslpassword=Ke7"
    assert mask_url(upper) == (
        "postgresql://db.example/serving?sslmode=require&PASSWORD=***&sslpassword=***"
    )
    keywords = "host=db.example dbname=serving password=Kw0rd user=medspa_owner"
    assert mask_url(keywords) == "host=db.example dbname=serving password=*** user=medspa_owner"
    quoted = "host=db.example password = 'with space \\' quote' user=medspa_owner"
    assert mask_url(quoted) == "host=db.example password = *** user=medspa_owner"
    for url in (query, upper, keywords, quoted):
        secrets = ("Qu3ry", "a%20b", "Ke7", "Kw0rd", "space")
        assert not any(secret in mask_url(url) for secret in secrets)


def test_mask_url_keeps_an_ipv6_host_usable():
    assert (
        mask_url("postgresql://o:pw@[::1]:5433/serving") == "postgresql://o:***@[::1]:5433/serving"
    )


def test_settings_read_the_role_prefix(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDSPA_SERVING_ROLE_PREFIX", raising=False)
    assert Settings.from_env(tmp_path).serving_role_prefix == "medspa"
    monkeypatch.setenv("MEDSPA_SERVING_ROLE_PREFIX", "staging")
    assert Settings.from_env(tmp_path).serving_role_prefix == "staging"


def test_with_user_quotes_the_password():
    url = with_user(URL, "medspa_bi", "p@ss:w/rd")
    assert url == "postgresql://medspa_bi:p%40ss%3Aw%2Frd@db.example:5433/serving?sslmode=require"


def test_mask_secrets_hides_every_form_of_the_password_in_an_error_text():
    # libpq quotes a malformed URL's password as written; DuckDB prints whole URLs.
    bad = "postgresql://medspa_owner:50%off!pw@127.0.0.1:5433/serving"
    assert mask_secrets('invalid percent-encoded token: "50%off!pw"', bad) == (
        'invalid percent-encoded token: "***"'
    )
    assert mask_secrets(f"at {URL}: refused", URL) == f"at {mask_url(URL)}: refused"
    assert "Sup3r/secret" not in mask_secrets("password Sup3r/secret rejected", URL)
    other = 'Unable to connect to Postgres at "postgresql://u:other-pw@h:1/db"'
    assert (
        mask_secrets(other, None) == 'Unable to connect to Postgres at "postgresql://u:***@h:1/db"'
    )
    assert mask_url("postgresql://o:pw@db.example:54x/serving") == (
        "postgresql://o:***@db.example:54x/serving"  # a malformed port must not stop the mask
    )
