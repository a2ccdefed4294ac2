"""Every KPI mart's dbt docs state which periods it reports, not only the README."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

KPI_DIR = Path(__file__).resolve().parents[2] / "dbt_project/models/marts/kpi"
RULE = "periods not started at the as-of time"


def _descriptions() -> dict[str, str]:
    docs: dict[str, str] = {}
    for path in KPI_DIR.glob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            docs[model["name"]] = " ".join(str(model.get("description", "")).lower().split())
    return docs


def test_every_kpi_mart_says_periods_not_started_are_not_reported():
    docs = _descriptions()
    marts = sorted(p.stem for p in KPI_DIR.glob("kpi_*.sql"))
    assert marts, "no KPI marts found"
    missing = [m for m in marts if RULE not in docs.get(m, "")]
    assert missing == []


def test_chain_wide_rule_is_stated_where_marts_have_chain_rows():
    docs = _descriptions()
    for mart in ("kpi_financial", "kpi_rooms", "kpi_providers", "kpi_operations"):
        assert re.search(r"'_all'.*started at any location", docs[mart]), mart
