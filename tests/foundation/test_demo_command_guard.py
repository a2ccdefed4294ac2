"""`medspa demo` never generates its chain into a data dir whose warehouse loaded other data.

Someone who set MEDSPA_DATA_DIR for a clinic's extracts (loaded with `--landing` from
elsewhere) and later types `make demo` to show a colleague would otherwise merge a fake chain
into the real warehouse, the same ids replacing real rows, and publish it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.raw_schema import ensure_meta_tables
from medspa.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR", "MEDSPA_PHI_KEY"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    return data


def test_demo_refuses_a_warehouse_that_loaded_other_extracts(data_dir: Path, capsys) -> None:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    ensure_meta_tables(con)
    con.execute(
        "insert into raw_meta.loaded_files values ('L1', 'pms/appointments/2026-11-20.csv', "
        "'deadbeef', 'pms', 'appointments', '2026-11-20', 'loaded', null, 3, 3, 0, 0, 0, "
        "now())"
    )
    con.close()
    assert main(["demo", "--data-dir", str(data_dir)]) == 2
    out = capsys.readouterr().err
    assert "has already loaded 1 landing file(s)" in out
    assert "Run the demo in a data dir of its own" in out
    assert not (data_dir / "landing").exists()  # nothing generated


def test_demo_refuses_a_warehouse_it_cannot_read(data_dir: Path, capsys) -> None:
    (data_dir / "warehouse.duckdb").write_bytes(b"not a database")
    assert main(["demo", "--data-dir", str(data_dir)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert not (data_dir / "landing").exists()
