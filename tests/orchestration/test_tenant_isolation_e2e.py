"""Tenants run side by side and stay apart: rows, files, logs, publish decisions and results.

One scenario (built once per session): two seeded demo chains and a third tenant whose landing
lacks a required table (`pms/appointments`), run with `medspa run --all-tenants --parallel 2`;
and tenant `demo-1` run alone in another data dir with a registry listing only itself.
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
from pathlib import Path

import pytest
from orch_e2e import query

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_tenants")]

TENANTS = ("demo-1", "demo-2")
BROKEN = "no-appointments"


def _registry(path: Path, entries: list[tuple[str, Path]]) -> Path:
    lines = ["tenants:"]
    for name, landing in entries:
        lines += [f"  - name: {name}", f"    landing: {landing}", "    demo: true"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tenants_run(defs, e2e_dir):
    from tests.run_once import once

    def build():
        from demo.config import ChainConfig
        from demo.tenants import generate_tenants
        from medspa.cli import main

        root = e2e_dir / "tenants"
        landings = root / "landings"
        generate_tenants(landings, len(TENANTS), ChainConfig.build("small"))
        broken = landings / BROKEN
        shutil.copytree(landings / "demo-1", broken)
        shutil.rmtree(broken / "pms" / "appointments")
        entries = [(n, landings / n) for n in TENANTS] + [(BROKEN, broken)]
        registry = _registry(root / "tenants.yml", entries)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(
                [
                    *("run", "--tenants-file", str(registry), "--all-tenants"),
                    *("--parallel", "2", "--data-dir", str(root / "data")),
                ]
            )
        alone = _registry(root / "alone.yml", [("demo-1", landings / "demo-1")])
        with contextlib.redirect_stdout(io.StringIO()):
            alone_code = main(
                [
                    *("run", "--tenants-file", str(alone), "--tenant", "demo-1"),
                    *("--data-dir", str(root / "alone")),
                ]
            )
        return root, code, out.getvalue(), alone_code

    return once(e2e_dir, "e2e-tenants", build)


def _tenant_dir(root: Path, name: str, data: str = "data") -> Path:
    return root / data / "tenants" / name


def test_failing_tenant_does_not_stop_the_others(tenants_run):
    root, code, summary, _ = tenants_run
    assert code == 1  # one tenant failed: the whole command says so ...
    lines = {line.split()[0]: line for line in summary.splitlines()[1:-1]}
    assert "published" in lines["demo-1"] and "published" in lines["demo-2"]
    assert "failed" in lines[BROKEN]
    assert "2 of 3 tenants published, 1 failed" in summary
    # ... and only the blocked tenant's publish was held back.
    for name in TENANTS:
        assert (_tenant_dir(root, name) / "serving.duckdb").is_file()
        assert (_tenant_dir(root, name) / "site" / "index.html").is_file()
    assert not (_tenant_dir(root, BROKEN) / "serving.duckdb").exists()
    assert (
        "pms.appointments" in (_tenant_dir(root, BROKEN) / "logs" / "last_cli_run.txt").read_text()
    )


def test_each_tenant_holds_only_its_own_rows(tenants_run):
    root = tenants_run[0]
    sql = "select distinct patient_key from marts.fct_appointments"
    keys = {
        n: {r[0] for r in query(_tenant_dir(root, n) / "warehouse.duckdb", sql)} for n in TENANTS
    }
    assert keys["demo-1"] and keys["demo-2"]
    assert keys["demo-1"].isdisjoint(keys["demo-2"])  # own key: pseudonyms never coincide
    card = "select * from marts.kpi_scorecard order by all"
    cards = {n: query(_tenant_dir(root, n) / "serving.duckdb", card) for n in TENANTS}
    assert cards["demo-1"] != cards["demo-2"]  # differently seeded chains, each its own


def test_no_file_or_log_line_of_one_tenant_under_another(tenants_run):
    root = tenants_run[0]
    assert not (root / "data" / "warehouse.duckdb").exists()  # nothing at the deployment level
    for name in TENANTS:
        others = [n for n in (*TENANTS, BROKEN) if n != name]
        folder = _tenant_dir(root, name)
        for path in folder.rglob("*"):
            assert not any(o in str(path.relative_to(root)) for o in others), path
            if path.is_file() and path.suffix in {".log", ".txt", ".json", ".html"}:
                text = path.read_text(encoding="utf-8", errors="replace")
                assert not any(f"tenants/{o}" in text or f"landings/{o}" in text for o in others), (
                    path
                )


def test_a_tenants_results_equal_running_it_alone(tenants_run):
    root, *_, alone_code = tenants_run
    assert alone_code == 0
    sql = "select * from marts.kpi_scorecard order by all"
    together = query(_tenant_dir(root, "demo-1") / "serving.duckdb", sql)
    alone = query(_tenant_dir(root, "demo-1", "alone") / "serving.duckdb", sql)
    assert together and len(together) == len(alone)
    for row, other in zip(together, alone, strict=True):
        assert len(row) == len(other)
        for cell, same in zip(row, other, strict=True):
            assert _same_cell(cell, same), (row[:4], cell, same)


def _same_cell(a: object, b: object) -> bool:
    """Equal; doubles to 1e-9 relative, since DuckDB sums on several threads in varying order,
    so the last bits of a double can differ between any two runs (alone or not)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b
