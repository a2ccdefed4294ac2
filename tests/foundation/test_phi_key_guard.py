"""A warehouse refuses a pseudonymisation key other than the one its models were built with."""

from __future__ import annotations

import duckdb
import pytest

from medspa.cli import main
from medspa.phi_key_guard import PhiKeyChangedError, accept_key, check_key_in_use, fingerprint
from medspa.settings import DEMO_PHI_KEY, PhiKeyError

KEY = "a-clinic-secret-of-at-least-32-bytes-0001"


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_the_first_key_is_recorded_and_another_is_refused_until_accepted(warehouse):
    check_key_in_use(warehouse, KEY)  # first build: recorded
    check_key_in_use(warehouse, KEY)  # the same key: fine
    with pytest.raises(PhiKeyChangedError, match="medspa rekey") as refused:
        check_key_in_use(warehouse, KEY + "\n")  # a secret mounted with a trailing newline
    assert isinstance(refused.value, PhiKeyError)  # every caller's handler: exit status 2
    assert KEY not in str(refused.value)

    rotated = "a-rotated-secret-of-at-least-32-bytes-002"
    assert accept_key(warehouse, rotated) is not None  # a rotation on purpose
    check_key_in_use(warehouse, rotated)
    with pytest.raises(PhiKeyChangedError):
        check_key_in_use(warehouse, KEY)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.execute("select * from raw_meta.phi_key_in_use").fetchall()
    assert [row[0] for row in stored] == [fingerprint(rotated)]  # one row, not the key
    assert all(KEY not in str(v) and rotated not in str(v) for row in stored for v in row)


def test_a_warehouse_built_with_the_demo_key_says_so_when_a_key_is_set(warehouse):
    # A first run without MEDSPA_PHI_KEY (it warned), then the key set: the refusal spoke of
    # trailing newlines and another tenant's variable, never of the demo key.
    check_key_in_use(warehouse, DEMO_PHI_KEY)
    with pytest.raises(PhiKeyChangedError) as refused:
        check_key_in_use(warehouse, KEY)
    text = str(refused.value)
    assert text.startswith("this warehouse's models were built with the public demo key")
    assert "run `medspa rekey` (with the same --tenant / --data-dir) once" in text
    assert "trailing newline" not in text


def test_no_warehouse_yet_has_nothing_to_guard(tmp_path):
    check_key_in_use(tmp_path / "warehouse.duckdb", KEY)
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_medspa_rekey_records_the_rotated_key(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    warehouse = data / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    check_key_in_use(warehouse, KEY)
    rotated = "a-rotated-secret-of-at-least-32-bytes-002"
    monkeypatch.setenv("MEDSPA_PHI_KEY", rotated)

    assert main(["rekey", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "The next run rebuilds every model that holds a patient_key or lead_key" in out
    assert rotated not in out
    check_key_in_use(warehouse, rotated)

    monkeypatch.setenv("MEDSPA_PHI_KEY", "short")
    assert main(["rekey", "--data-dir", str(data)]) == 2  # an unusable key is never recorded
    check_key_in_use(warehouse, rotated)

    capsys.readouterr()
    monkeypatch.delenv("MEDSPA_PHI_KEY")  # forgotten in the shell: the public demo key
    assert main(["rekey", "--data-dir", str(data)]) == 2
    assert "would be the public demo key" in capsys.readouterr().out
    check_key_in_use(warehouse, rotated)  # still the secret key


def test_the_cli_prints_the_demo_key_warning_as_one_plain_line(monkeypatch, capsys):
    """Not Python's `run.py:250: DemoKeyWarning: ...` and the source line that raised it."""
    import warnings

    from medspa import cli
    from medspa.settings import DemoKeyWarning

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored after
    cli._plain_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("ids pseudonymised with a public demo key", DemoKeyWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err == "warning: ids pseudonymised with a public demo key\n"
