"""Helpers for the end-to-end scenarios: landing copies, runs, and looking inside DuckDB files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contract import load_contract


@dataclass
class Outcome:
    """One `medspa run` execution: its summary and where its files are."""

    summary: object  # orchestration.summary.RunSummary
    data_dir: Path
    landing: Path

    @property
    def serving(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"


def copy_landing(src: Path, dst: Path, drop: tuple[str, ...] = ()) -> Path:
    """A copy of a landing folder without the given `<system>` or `<system>/<table>` folders."""
    shutil.copytree(src, dst)
    for rel in drop:
        shutil.rmtree(dst / rel)
    return dst


def run(data_dir: Path, landing: Path) -> Outcome:
    from medspa.commands.run import execute

    summary, _ = execute(data_dir, landing)
    return Outcome(summary, data_dir, landing)


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def break_primary_keys(csv_path: Path, rows: int) -> None:
    """Append `rows` rows whose primary key is empty: each one must be quarantined."""
    columns = csv_path.read_text(encoding="utf-8").splitlines()[0].count(",") + 1
    with open(csv_path, "a", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write("," * 11 + f"status-{i}" + "," * (columns - 12) + "\n")


def phi_column_names() -> set[str]:
    return {c for t in load_contract().tables for c in t.phi_columns} | {"body", "raw_record"}


def failure_messages(result: object) -> str:
    """Every failed step's error chain of an in-process run as text (the asset's own exception
    is a cause of Dagster's)."""
    texts = []
    for event in result.all_events:  # type: ignore[attr-defined]
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
    return " ".join(texts)
