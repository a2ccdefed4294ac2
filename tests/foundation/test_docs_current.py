"""The committed reference docs are what `medspa docs` renders from today's sources."""

from __future__ import annotations

import csv

from docs.generate import TARGETS_SEED, kpi_definitions, render_docs
from ingestion.contract import load_contract


def test_committed_docs_match_their_sources():
    stale = [
        path.name
        for path, text in render_docs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"out of date (run `medspa docs`): {stale}"


def test_every_targeted_kpi_has_a_definition_and_every_definition_a_target():
    with TARGETS_SEED.open(newline="") as fh:
        seeded = {row["kpi"] for row in csv.DictReader(fh)}
    assert set(kpi_definitions()) == seeded


def test_contract_doc_names_every_table_and_marks_every_phi_column():
    text = render_docs()[next(p for p in render_docs() if p.name == "landing-contract.md")]
    for table in load_contract().tables:
        assert f"`{table.qualified_name}`" in text
        section = text.split(f"`{table.qualified_name}`", 1)[1].split("#### ", 1)[0]
        for column in table.phi_columns:
            row = next(line for line in section.splitlines() if line.startswith(f"| `{column}` |"))
            assert "**PHI**" in row, (table.qualified_name, column)
