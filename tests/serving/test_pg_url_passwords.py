"""Passwords libpq accepts unencoded (`#`, `?`, `/`, `@`) never reach a log, an error or the
Dagster UI: masked whole in URLs and error texts, and absent from the run's target label."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from serving.pg_url import mask_secrets, mask_url, masked_errors, server_label

#: (URL, the password as written in it, its decoded form)
PASSWORDS = [
    ("postgresql://leaktest:Ab#cd?ef@127.0.0.1:5491/leakdb", "Ab#cd?ef", "Ab#cd?ef"),
    ("postgresql://leaktest:Ab?cd#ef@127.0.0.1:5491/leakdb?sslmode=require", "Ab?cd#ef", None),
    ("postgresql://leaktest:se/cr3t@127.0.0.1:5491/leakdb", "se/cr3t", None),
    ("postgresql://leaktest:p@ss@w0rd@127.0.0.1:5491/leakdb", "p@ss@w0rd", None),
    ("postgresql://leaktest:Ab%23cd%3Fef@127.0.0.1:5491/leakdb", "Ab%23cd%3Fef", "Ab#cd?ef"),
]
IDS = ["hash-query", "query-hash", "slash", "at", "percent-encoded"]


@pytest.mark.parametrize(("url", "written", "decoded"), PASSWORDS, ids=IDS)
def test_mask_url_hides_the_whole_password(url, written, decoded):
    # Nothing of the password is left: the masked URL is exactly user, *** and the rest.
    assert mask_url(url) == url.replace(f":{written}@", ":***@")


def test_libpq_really_reads_these_passwords_whole():
    # The reason for the masking above: libpq connects with the whole text as the password.
    assert conninfo_to_dict(PASSWORDS[0][0])["password"] == "Ab#cd?ef"
    assert conninfo_to_dict(PASSWORDS[4][0])["password"] == "Ab#cd?ef"


@pytest.mark.parametrize(("url", "written", "decoded"), PASSWORDS, ids=IDS)
def test_mask_secrets_hides_every_form_in_an_error_text(url, written, decoded):
    plain = decoded or written
    text = (
        f'connection to {url} failed: password "{plain}" rejected; '
        f"written {written}; encoded {plain.replace('#', '%23').replace('?', '%3F')}"
    )
    masked = mask_secrets(text, url)
    for form in {written, plain, plain.replace("#", "%23").replace("?", "%3F")}:
        assert form not in masked, masked
    assert "127.0.0.1:5491/leakdb" in masked  # the rest stays readable


@pytest.mark.parametrize(("url", "written", "decoded"), PASSWORDS, ids=IDS)
def test_masked_errors_reraises_without_the_password(url, written, decoded):
    plain = decoded or written
    with pytest.raises(ValueError) as err, masked_errors(url):
        try:
            raise KeyError(f"inner {plain}")
        except KeyError as inner:
            raise ValueError(f"publish to {url} failed: {plain}") from inner
    assert written not in str(err.value) and plain not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_keyword_conninfo_is_masked_and_labelled():
    conninfo = "host=db.example port=5491 dbname=leakdb user=leaktest password='Ab#cd? ef'"
    assert mask_url(conninfo) == (
        "host=db.example port=5491 dbname=leakdb user=leaktest password=***"
    )
    assert "Ab#cd" not in mask_secrets(f"bad password Ab#cd? ef for {conninfo}", conninfo)
    assert server_label(conninfo) == "db.example:5491/leakdb"


@pytest.mark.parametrize(("url", "written", "decoded"), PASSWORDS, ids=IDS)
def test_the_run_log_label_has_no_user_information(url, written, decoded):
    # What the Dagster asset logs and records as metadata "url".
    assert server_label(url) == "127.0.0.1:5491/leakdb"


def test_server_label_of_other_urls():
    assert server_label("postgresql://o:pw@[::1]:5433/serving") == "[::1]:5433/serving"
    assert server_label("postgresql://o:pw@db.example:54x/serving") == "db.example:54x/serving"
    assert server_label("postgresql://o@db.example/serving?password=s3cr3t") == (
        "db.example/serving"
    )
    assert server_label("postgresql:///serving?host=/run/pg&port=5433") == "/run/pg:5433/serving"
    assert server_label(None) == ""
