"""`medspa generate` reports what it wrote and refuses to harm folders it does not own."""

from __future__ import annotations

import argparse

from demo.state import MARKER
from medspa.commands import generate


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    generate.add_arguments(parser)
    return generate.run(parser.parse_args(list(argv)))


def test_generate_refuses_a_folder_with_other_files(tmp_path, capsys):
    keep = tmp_path / "clinic_export.csv"
    keep.write_text("id\n1\n")
    assert _run("--out", str(tmp_path)) == 2
    assert "not empty" in capsys.readouterr().err
    assert keep.read_text() == "id\n1\n"
    assert not (tmp_path / MARKER).exists()


def test_advance_needs_an_existing_chain(tmp_path, capsys):
    assert _run("--out", str(tmp_path), "--advance", "2") == 2
    assert MARKER in capsys.readouterr().err


def test_generate_refuses_to_overwrite_a_chain(snapshot_chain, capsys):
    assert _run("--out", str(snapshot_chain[0])) == 2
    assert "--advance" in capsys.readouterr().err


def test_generate_prints_rows_written_and_rate(tmp_path, capsys):
    out = tmp_path / "landing"
    assert _run("--out", str(out), "--years", "0.06", "--seed", "3") == 0
    printed = capsys.readouterr().out
    assert "pms.appointments" in printed and "rows/s" in printed
    assert (out / MARKER).is_file()
