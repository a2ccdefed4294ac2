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


def _model_sql(name: str) -> str:
    (path,) = (DBT / "models").rglob(f"{name}.sql")
    return path.read_text(encoding="utf-8")


def test_every_target_model_file_exists_and_names_its_kpi():
    # The KPI is named in its mart or in an events model the mart rolls up (int_*_kpi_events).
    for row in _seed("kpi_targets.csv"):
        sql = _model_sql(row["model"])
        events = [r for r in re.findall(r"ref\('(\w+)'\)", sql) if r.endswith("kpi_events")]
        texts = [sql, *(_model_sql(e) for e in events)]
        assert any(row["kpi"] in t for t in texts), f"{row['kpi']} not found in {row['model']}"


def test_requirements_cover_exactly_the_targeted_kpis():
    targeted = {row["kpi"] for row in _seed("kpi_targets.csv")}
    required = {row["kpi"] for row in _seed("kpi_requirements.csv")}
    assert targeted == required


def _money_parts(part: str) -> set[str]:
    """The KPIs `kpi_money_parts()` (macros/kpi.sql) lists for `part`: rounded to whole cents
    by kpi_select and checked so by the dbt test assert_scorecard_money_in_whole_cents."""
    sql = (DBT / "macros" / "kpi.sql").read_text(encoding="utf-8")
    body = sql[sql.index("macro kpi_money_parts") :]
    listed = re.search(rf"'{part}': \[(.*?)\]", body, re.DOTALL)
    assert listed, f"no {part} list in kpi_money_parts"
    return set(re.findall(r"'(\w+)'", listed.group(1)))


def test_every_usd_kpi_has_its_money_rounded_to_cents():
    """A new KPI in dollars left out of kpi_money_parts would publish binary noise
    (64839.65000000001) that no test looks at: the seed's unit says which KPIs are money."""
    usd = {row["kpi"] for row in _seed("kpi_targets.csv") if row["unit"] == "usd"}
    assert "net_revenue" in usd
    assert sorted(usd - _money_parts("numerator")) == []
