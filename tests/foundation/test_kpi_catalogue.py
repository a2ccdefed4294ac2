"""The targets seed, the requirements seed and the scorecard agree on which KPIs exist."""

import csv
import re
from pathlib import Path

DBT = Path(__file__).resolve().parents[2] / "dbt_project"


def _seed(name: str) -> list[dict[str, str]]:
    with open(DBT / "seeds" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_targets_model_is_unioned_into_the_scorecard():
    sql = (DBT / "models/marts/kpi/kpi_scorecard.sql").read_text(encoding="utf-8")
    families = set(re.findall(r"'(kpi_[a-z_]+)'", sql[: sql.index("] %}")]))
    assert {row["model"] for row in _seed("kpi_targets.csv")} == families


def test_every_target_model_file_exists_and_names_its_kpi():
    for row in _seed("kpi_targets.csv"):
        sql = (DBT / "models/marts/kpi" / f"{row['model']}.sql").read_text(encoding="utf-8")
        assert row["kpi"] in sql, f"{row['kpi']} not found in {row['model']}.sql"


def test_requirements_cover_exactly_the_targeted_kpis():
    targeted = {row["kpi"] for row in _seed("kpi_targets.csv")}
    required = {row["kpi"] for row in _seed("kpi_requirements.csv")}
    assert targeted == required
