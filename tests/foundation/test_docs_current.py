"""The committed reference docs are what `medspa docs` renders from today's sources."""

from __future__ import annotations

import csv

import pytest
import yaml

from docs.generate import KPI_MODELS_YAML, TARGETS_SEED, kpi_definitions, kpi_table, render_docs
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
        heading = f"#### `{table.qualified_name}`"
        assert heading in text
        # the table's own section, from its heading (the name is mentioned in prose before it)
        section = text.split(heading, 1)[1].split("#### ", 1)[0]
        for column in table.phi_columns:
            rows = [line for line in section.splitlines() if line.startswith(f"| `{column}` |")]
            assert rows, f"{table.qualified_name}.{column}: no row in its section"
            assert "**PHI**" in rows[0], (table.qualified_name, column)


def test_a_definition_filed_under_another_model_than_the_seeds_is_refused(tmp_path):
    """The catalogue names the model a KPI's definition is filed under: one filed under the
    wrong model (no_show_rate under kpi_financial; the seed says kpi_operations) is refused."""
    spec = yaml.safe_load(KPI_MODELS_YAML.read_text(encoding="utf-8"))
    models = {m["name"]: m for m in spec["models"]}
    moved = models["kpi_operations"]["config"]["meta"]["kpi_definitions"].pop("no_show_rate")
    models["kpi_financial"]["config"]["meta"]["kpi_definitions"]["no_show_rate"] = moved
    wrong = tmp_path / "_kpi__models.yml"
    wrong.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert kpi_table(models_yaml=KPI_MODELS_YAML)  # the project's own file passes
    misplaced = r"no_show_rate \(seed: kpi_operations, defined under kpi_financial\)"
    with pytest.raises(ValueError, match=misplaced):
        kpi_table(models_yaml=wrong)


def test_the_readmes_kpi_map_lists_every_targeted_kpi_as_the_seed_does():
    """README's "The KPIs" table is written by hand: each seed KPI, in seed order, with the
    seed's label, unit and model (a new KPI added everywhere else is caught here)."""
    readme = (TARGETS_SEED.parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## The KPIs\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    listed = [
        (kpi.strip("`"), label, unit, model.strip("`")) for kpi, label, unit, _, model in rows
    ]
    with TARGETS_SEED.open(newline="", encoding="utf-8") as fh:
        seeded = [(r["kpi"], r["label"], r["unit"], r["model"]) for r in csv.DictReader(fh)]
    assert listed == seeded
