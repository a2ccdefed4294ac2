"""`medspa serving add-reader` / `remove-reader` without a serving target: `error:` and what
to do next (the CLI's convention, medspa/cli.py), exit status 2."""

from __future__ import annotations

import pytest

from medspa.cli import main as medspa


@pytest.mark.parametrize(
    "args",
    [
        ["serving", "add-reader", "austin_manager", "--password-env", "PW"],
        ["serving", "remove-reader", "austin_manager"],
    ],
    ids=["add-reader", "remove-reader"],
)
def test_without_a_serving_url_the_reader_commands_say_what_to_do(
    args, monkeypatch, tmp_path, capsys
):
    monkeypatch.delenv("MEDSPA_SERVING_URL", raising=False)
    monkeypatch.setenv("MEDSPA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PW", "x")
    assert medspa(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: MEDSPA_SERVING_URL is not set")
    assert "make pg" in err
    assert f'export MEDSPA_SERVING_URL="$(cat {tmp_path / "data" / "pg" / "serving_url"})"' in err
    assert "owner URL" in err
