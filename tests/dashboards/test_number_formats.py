"""Numbers on pages round a half up, as an owner rounds by hand and a spreadsheet does."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from dashboards.formatting import UNIT_FORMATS, fmt, fmt_delta, round_half_up


@pytest.mark.parametrize(
    ("value", "name", "shown"),
    [
        (588_492.50, "usd0", "$588,493"),  # Python's format gives $588,492 (half to even)
        (588_493.50, "usd0", "$588,494"),
        (2.675, "usd", "$2.68"),  # 2.67499... in binary, written and meant as 2.675
        (0.0735, "pct1", "7.4%"),  # 7.35 %: one decimal, half up
        (0.0725, "pct1", "7.3%"),
        (0.125, "pct0", "13%"),
        (1_234.5, "num0", "1,235"),
        (-3.5, "usd0", "-$4"),  # a half away from zero on either side
        (-0.00004, "pct1", "0.0%"),  # rounds to zero: no minus sign
        (0.625, "pctile", "63rd"),
        (Decimal("10.005"), "num2", "10.01"),
    ],
)
def test_a_half_rounds_up(value: float, name: str, shown: str) -> None:
    assert fmt(value, name) == shown


def test_changes_round_a_half_up_too() -> None:
    assert fmt_delta(0.0735, "pct1") == "+7.4 pts"
    assert fmt_delta(-0.03145, "rel") == "-3.1%"  # 3.145 -> 3.1 (one decimal of 3.145 %)
    assert fmt_delta(0.03150, "rel") == "+3.2%"
    assert fmt_delta(-0.5, "usd0") == "-$1"


def test_round_half_up() -> None:
    assert round_half_up(0.5, 0) == Decimal("1")
    assert round_half_up(1.5, 0) == Decimal("2")
    assert round_half_up(2.5, 0) == Decimal("3")
    assert round_half_up(-2.5, 0) == Decimal("-3")


def test_every_unit_the_seed_accepts_has_a_format_of_its_own() -> None:
    """kpi_targets.unit's accepted values (a dbt test) all have a format: a unit the pages do
    not know falls back to a bare number (573.89 instead of $574) without an error."""
    seeds = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "_seeds__models.yml"
    models = yaml.safe_load(seeds.read_text(encoding="utf-8"))["seeds"]
    targets = next(m for m in models if m["name"] == "kpi_targets")
    unit = next(c for c in targets["columns"] if c["name"] == "unit")
    accepted = next(t["accepted_values"] for t in unit["data_tests"] if "accepted_values" in t)
    units = accepted["arguments"]["values"]
    assert "usd" in units and "ratio" in units
    assert [u for u in units if u not in UNIT_FORMATS] == []


def test_a_value_off_target_is_never_shown_as_the_targets_edge():
    """Visits in the first year of 2.954 against 3–4 showed "3.0" beside "below target"; a
    retention of 64.97 % against ≥ 65 % showed "65%". One or two more decimals tell them apart;
    values inside the band, or already shown apart from the edge, keep their format."""
    from dashboards.formatting import fmt_beside_target

    assert fmt_beside_target(2.954, "count", 3, 4) == "2.95"
    assert fmt_beside_target(0.6497, "pct0", 0.65, None) == "64.97%"
    assert fmt_beside_target(0.6497, "pct1", 0.65, None) == "64.97%"
    assert fmt_beside_target(0.30004, "pct1", 0.2, 0.3) == "30.004%"
    assert fmt_beside_target(849.6, "usd0", 850, None) == "$849.60"  # money: cents
    assert fmt_beside_target(3.5, "count", 3, 4) == "3.5"  # inside the band
    assert fmt_beside_target(0.2999, "pct1", 0.1, 0.3) == "30.0%"  # inside: as fmt shows it
    assert fmt_beside_target(0.62, "pct1", 0.65, None) == "62.0%"  # already apart
    assert fmt_beside_target(2, "count", 3, 4) == "2"
    assert fmt_beside_target(None, "usd0", 850, None) == "—"
    assert fmt_beside_target(0.6497, "pct0", None, None) == "65%"  # no target: no judgement
