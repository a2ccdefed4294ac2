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

from dashboards.count_units import COUNT_UNITS, fmt_basis, fmt_counts

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
        ("gross_margin", 414_106.4, 507_020.0, "$414,106 gross profit of $507,020 net revenue"),
        ("retail_revenue_share", 61_000.0, 507_020.0, "$61,000 retail of $507,020 net revenue"),
        ("cac", 9_000.0, 45.0, "$9,000 of 45 new patients"),
        # the numerator is no part the denominator's noun names: both said
        ("reactivation_rate", 2.0, 389.0, "2 reactivated of 389 lapsed patients contacted"),
        ("provider_productive_share", 501.0, 1_364.0, "501 treatment hours of 1,364 shift hours"),
        ("room_utilization", 480.0, 1_023.0, "480 completed hours of 1,023 open room hours"),
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


def test_a_score_says_how_many_answers_it_stands_on() -> None:
    """NPS is no rate (no "x of y"), but 14 from 3 answers and 14 from 300 are different news."""
    assert fmt_basis(22.0, "nps") == "from 22 responses"
    assert fmt_basis(1.0, "nps") == "from 1 response"
    assert fmt_basis(None, "nps") is None
    assert fmt_basis(300.0, "avg_revenue_per_appointment") is None


@pytest.mark.parametrize(
    ("status", "change", "tone"),
    [
        ("above", 0.047, "bad"),  # over the band and rising: further out
        ("above", -0.02, "good"),  # over the band and falling: back towards it
        ("below", -0.018, "bad"),
        ("below", 0.01, "good"),
        ("on_target", 0.03, "flat"),  # inside the band neither way is news
    ],
)
def test_a_band_kpis_change_is_judged_by_the_side_it_is_on(
    build_pages, status: str, change: float, tone: str
) -> None:
    report = build_pages(
        {
            "band.md": f"""
            ```sql k
            select 'membership_revenue_share' as kpi, 'Membership share' as label,
                'ratio' as unit, 'band' as direction, 0.25 as value, 0.20 as target_low,
                0.30 as target_high, '{status}' as status, true as is_final,
                {change} as change_vs_prior
            ```
            <BigValue data={{k}} />
            """
        }
    )
    assert report.ok, report.pages_failed
    html = (report.site_dir / "band.html").read_text(encoding="utf-8")
    assert re.search(rf'<span class="delta {tone}">[^<]*</span> vs prior', html), html


def test_an_nps_card_shows_its_responses(build_pages) -> None:
    report = build_pages(
        {
            "nps.md": """
            ```sql k
            select 'nps' as kpi, 'Net promoter score' as label, 'score' as unit,
                'higher_is_better' as direction, 14.0 as value, 308.0 as numerator,
                22.0 as denominator, 'no_target' as status, true as is_final
            ```
            <BigValue data={k} />
            """
        }
    )
    assert report.ok, report.pages_failed
    html = (report.site_dir / "nps.html").read_text(encoding="utf-8")
    assert '<div class="bv-n">from 22 responses</div>' in html
