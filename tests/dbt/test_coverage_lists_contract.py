"""The coverage marts and the requirements seed agree with the landing contract and the marts.

`data_coverage.sql` loops over the dbt sources generated from contract.yml, and
`kpi_requirements.csv` names KPIs and tables by hand; these tests fail the day either drifts.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.contract import load_contract

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
SEED = DBT_DIR / "seeds" / "kpi_requirements.csv"

pytestmark = pytest.mark.xdist_group("e2e")


def _contract_tables() -> set[str]:
    return {f"{t.system}.{t.name}" for t in load_contract().tables}


def _requirements() -> list[dict[str, str]]:
    with SEED.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _accepted_kpis(yaml_path: Path, model: str) -> set[str]:
    spec = yaml.safe_load(yaml_path.read_text())
    (node,) = [m for m in spec["models"] if m["name"] == model]
    (column,) = [c for c in node["columns"] if c["name"] == "kpi"]
    for test in column["data_tests"]:
        if isinstance(test, dict) and "accepted_values" in test:
            return set(test["accepted_values"]["arguments"]["values"])
    raise AssertionError(f"{model}.kpi has no accepted_values test")


def test_data_coverage_lists_exactly_the_contract_tables(engagement_built: Path):
    con = duckdb.connect(str(engagement_built), read_only=True)
    try:
        listed = {r[0] for r in con.execute("select table_key from marts.data_coverage").fetchall()}
    finally:
        con.close()
    assert listed == _contract_tables()


def test_every_required_table_is_a_contract_table():
    unknown = {r["required_table"] for r in _requirements()} - _contract_tables()
    assert not unknown, unknown


def test_every_engagement_kpi_has_requirements():
    kpi_yaml = DBT_DIR / "models" / "marts" / "kpi" / "_kpi__models.yml"
    required = {r["kpi"] for r in _requirements()}
    for model in ("kpi_engagement", "kpi_by_channel"):
        missing = _accepted_kpis(kpi_yaml, model) - required
        assert not missing, (model, missing)


def test_any_of_groups_offer_a_real_choice():
    groups: dict[tuple[str, str], int] = {}
    for r in _requirements():
        if r["any_of"]:
            key = (r["kpi"], r["any_of"])
            groups[key] = groups.get(key, 0) + 1
    lonely = [key for key, n in groups.items() if n < 2]
    assert not lonely, f"an any_of group with one table is just a requirement: {lonely}"


def test_requirements_cover_the_whole_catalogue():
    # docs/kpis.md: 14 financial + 9 operational/patient + 12 engagement KPIs, plus
    # post_care_click_rate and the leads_unanswered count reported beside lead_response_minutes.
    assert len({r["kpi"] for r in _requirements()}) == 37


def test_every_kpi_with_a_target_row_has_requirements_and_back():
    """The scorecard's grid (int_kpi_grid) holds the KPIs of the targets seed that kpi_coverage
    calls computable: a KPI in one seed and not the other would silently never be filled."""
    with (DBT_DIR / "seeds" / "kpi_targets.csv").open(newline="") as fh:
        targets = {r["kpi"] for r in csv.DictReader(fh)}
    assert targets == {r["kpi"] for r in _requirements()}
