"""Cards: running counts carry their units, and a red card says what to do (its play).

Units: "414,106 of 507,020" under the gross margin was dollars and "501 of 1,364" under the
productive share hours; the seed has each KPI's value unit only, so `count_units` lists the
numerator's and denominator's, and every KPI of the seed must be in it.
Plays: a red card outside the flash's alert tables carried no recommended action.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from dashboards.count_units import COUNT_UNITS, fmt_counts

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "kpi_targets.csv"


def test_every_kpi_of_the_seed_has_count_units() -> None:
    with SEED.open(encoding="utf-8") as f:
        kpis = {row["kpi"] for row in csv.DictReader(f)}
    assert kpis, "the seed lists no KPI"
    assert sorted(kpis - COUNT_UNITS.keys()) == []
    assert sorted(COUNT_UNITS.keys() - kpis) == []  # nor a unit for a KPI no longer seeded


@pytest.mark.parametrize(
    ("kpi", "numerator", "denominator", "shown"),
    [
        ("gross_margin", 414_106.4, 507_020.0, "$414,106 of $507,020"),
        ("provider_productive_share", 501.0, 1_364.0, "501 treatment hours of 1,364 shift hours"),
        ("room_utilization", 480.0, 1_023.0, "480 booked hours of 1,023 open room hours"),
        ("consult_conversion_rate", 0.0, 8.0, "0 of 8 consultations"),  # one noun: same thing
        ("contact_rate", 1.0, 1.0, "1 of 1 lead"),  # one: singular
        ("no_show_rate", 12.0, 150.0, "12 of 150 appointments"),
        ("not_a_kpi", 3.0, 4.0, "3 of 4"),  # unknown: bare numbers, as before
    ],
)
def test_counts_are_shown_with_their_units(kpi, numerator, denominator, shown) -> None:
    assert fmt_counts(numerator, denominator, kpi) == shown


def _card(build_pages, status: str, value: float, low: float, high: str) -> str:
    """One BigValue of a band KPI (membership share 20-30 %) with both plays, as `status`."""
    report = build_pages(
        {
            "card.md": f"""
            ```sql k
            select 'membership_revenue_share' as kpi, 'Membership share' as label,
                'ratio' as unit, 'band' as direction, {value} as value, {low} as target_low,
                {high} as target_high, '{status}' as status, true as is_final,
                'Promote memberships' as play,
                'Check that treatment revenue keeps pace' as play_above
            ```
            <BigValue data={{k}} />
            """
        }
    )
    assert report.ok, report.pages_failed
    html = (report.site_dir / "card.html").read_text(encoding="utf-8")
    return re.search(r'<div class="bigvalue.*?</div></div>', html).group(0)


def test_a_card_below_its_band_shows_the_play(build_pages) -> None:
    card = _card(build_pages, "below", 0.15, 0.2, "0.3")
    assert '<div class="bv-play">Play: Promote memberships</div>' in card


def test_a_card_above_its_band_shows_the_play_for_above(build_pages) -> None:
    card = _card(build_pages, "above", 0.35, 0.2, "0.3")
    assert '<div class="bv-play">Play: Check that treatment revenue keeps pace</div>' in card


def test_a_card_on_target_shows_no_play(build_pages) -> None:
    assert "bv-play" not in _card(build_pages, "on_target", 0.25, 0.2, "0.3")
