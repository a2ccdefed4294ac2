"""`medspa ingest --tenant NAME` loads the tenant's landing folder into the tenant's warehouse,
the folders `medspa run --tenant NAME` uses, and nothing anywhere else."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ingest_fixtures import write_required

from medspa.cli import main


def test_ingest_tenant_loads_its_landing_into_its_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR", "MEDSPA_SYSTEMS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDSPA_TEST_KEY_ALPHA", "alpha-clinic-secret-" + "a" * 32)
    monkeypatch.setenv("MEDSPA_TEST_KEY_BETA", "beta-clinic-secret-" + "b" * 32)
    write_required(tmp_path / "landings" / "alpha")
    (tmp_path / "landings" / "beta").mkdir()
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n"
        "  - {name: alpha, landing: landings/alpha, phi_key_env: MEDSPA_TEST_KEY_ALPHA}\n"
        "  - {name: beta, landing: landings/beta, phi_key_env: MEDSPA_TEST_KEY_BETA}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"

    argv = ["ingest", "--data-dir", str(data), "--tenants-file", str(registry)]
    assert main([*argv, "--tenant", "alpha"]) == 0

    con = duckdb.connect(str(data / "tenants" / "alpha" / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select appointment_id from raw_pms.appointments").fetchall() == [
            ("A1",)
        ]
    finally:
        con.close()
    assert sorted(p.name for p in data.iterdir()) == ["tenants"]  # no warehouse of the base
    assert sorted(p.name for p in (data / "tenants").iterdir()) == ["alpha"]
