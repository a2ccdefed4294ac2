"""A change is coloured by what the page shows, not by its unrounded value: a change that
displays as zero is neutral, and is shown unsigned, never as "-0" or a red "+0.0 pts"."""

from __future__ import annotations

import re

import pytest

from dashboards.formatting import delta_sign, fmt_delta


@pytest.mark.parametrize(
    ("value", "name", "shown", "sign"),
    [
        (-0.4, "usd0", "$0", 0),  # rounds to $0: was "-$0"
        (-0.6, "usd0", "-$1", -1),
        (0.0004, "pct1", "0.0 pts", 0),  # 0.04 points: was "+0.0 pts"
        (-0.0004, "pct1", "0.0 pts", 0),  # was "-0.0 pts"
        (-0.0006, "pct1", "-0.1 pts", -1),
        (-0.0001, "rel", "0.0%", 0),  # was "-0.0%"
        (0.031, "rel", "+3.1%", 1),
        (-0.3, "num0", "0", 0),  # was "-0"
        (-0.04, "count", "0.0", 0),  # a count average's change, one decimal: was "-0.0"
        (0, "usd0", "$0", 0),
        (150, "usd0", "+$150", 1),
    ],
)
def test_a_change_is_signed_as_shown(value, name, shown, sign):
    assert fmt_delta(value, name) == shown
    assert delta_sign(value, name) == sign


def _tile(change: float, unit: str, direction: str) -> str:
    return f"""
        ```sql k
        select 'KPI' as label, 100.0 as value, {change} as change_vs_prior,
            '{unit}' as unit, '{direction}' as direction, true as is_final
        ```
        <BigValue data={{k}} />
        """


@pytest.mark.parametrize(
    ("change", "unit", "direction", "span"),
    [
        # -0.4 dollars is "$0" on the card: flat, was a red "-$0"
        (-0.4, "usd", "higher_is_better", '<span class="delta flat">$0</span>'),
        # +0.0004 is "0.0 pts": flat, was a red "+0.0 pts" for a lower-is-better rate
        (0.0004, "ratio", "lower_is_better", '<span class="delta flat">0.0 pts</span>'),
        # a change that shows stays judged
        (-0.6, "usd", "higher_is_better", '<span class="delta bad">-$1</span>'),
    ],
)
def test_big_value_colours_the_change_as_displayed(build_pages, change, unit, direction, span):
    report = build_pages({"bv.md": _tile(change, unit, direction)})
    assert report.ok, report.pages_failed
    html = (report.site_dir / "bv.html").read_text(encoding="utf-8")
    assert re.findall(r'<span class="delta [a-z]+">[^<]*</span>', html) == [span]
