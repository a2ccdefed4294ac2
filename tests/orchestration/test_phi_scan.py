"""The PHI scanner's reading of files, on hand-made bytes: binary files are read as their
runs of written text, so chance bytes of compressed data are not taken for a name, while
a value written into a binary file's text, or anywhere in a text file, is still found.
"""

from __future__ import annotations

from pathlib import Path

from phi_values import MIN_BINARY_TEXT, PhiValues, scan

#: A short first name, as the demo chain's patients have them.
NAME = "Mei"


def _phi() -> PhiValues:
    return PhiValues(whole_values={NAME}, emails={"mei.tanaka@example.org"})


def _scan(tmp_path: Path, name: str, data: bytes) -> dict[str, dict[str, int]]:
    path = tmp_path / name
    path.write_bytes(data)
    return scan(_phi(), [path], tmp_path)


def test_fragments_around_invalid_bytes_are_not_glued_into_a_name(tmp_path):
    """The shape a DuckDB block once had: separator, vertical tab, `Me`, a byte that is not
    UTF-8, `i`, separator. Decoded leniently it read `Mei`; the file held no PHI."""
    block = b"\x96%U\x00\n\x0bMe\xe3i\n\x13\x96e\x9b6i\xda"
    assert _scan(tmp_path, "serving.bin", block) == {}
    long_runs = b'\x00{"label": "Me\xe3i", "n": 3}\x00'  # the same inside longer text
    assert _scan(tmp_path, "runs.bin", long_runs) == {}


def test_a_short_run_alone_among_binary_bytes_is_not_text(tmp_path):
    assert len(NAME) < MIN_BINARY_TEXT
    assert _scan(tmp_path, "block.bin", b"\x00\x9a\n" + NAME.encode() + b"\n\x00\xff") == {}


def test_a_value_written_into_a_binary_files_text_is_found(tmp_path):
    """Dagster's SQLite keeps event JSON as text between binary record headers."""
    record = b'\x00\x81\x07{"label": "Mei", "n": 3}\x00\xa5'
    assert _scan(tmp_path, "index.db", record) == {"index.db": {"whole_value": 1}}
    email = b"\x00\x03\xc1contact mei.tanaka@example.org now\x00"
    assert _scan(tmp_path, "runs.db", email) == {"runs.db": {"email": 1}}


def test_a_text_file_is_read_whole_even_with_a_stray_invalid_byte(tmp_path):
    """A short value on its own line of a log is found; a Latin-1 byte elsewhere in the
    file does not turn the file into binary or glue its neighbours."""
    log = b"caf\xe9 opened\n" + NAME.encode() + b"\nclosed\n"
    assert _scan(tmp_path, "run.log", log) == {"run.log": {"whole_value": 1}}
    glued = b"M\xe9ei\n"  # not `Mei` once the stray byte is replaced, not dropped
    assert _scan(tmp_path, "other.log", glued) == {}
