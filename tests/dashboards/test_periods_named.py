"""Every page says which week or month it shows and how current the data is.

The audit: Financial, Rooms, Providers, Patients and Engagement never said which week or month
they showed; no page said how current the data was; the flash email's title was "Weekly flash"
every week. The fixture: last complete week 2026-11-09 to 2026-11-15, last complete month
October 2026, data as of 2026-11-17 07:40:12 UTC (`reporting_periods.as_of_at`).
"""

from __future__ import annotations

import pytest
from dash_serving_fixture import page_text as _text


@pytest.mark.parametrize(
    ("page", "says"),
    [
        ("financial.html", "Money in the last complete week, 2026-11-09 to 2026-11-15"),
        ("rooms.html", "the last complete week, 2026-11-09 to 2026-11-15; the busy hours: "
         "the four weeks 2026-10-19 to 2026-11-15"),
        ("providers.html", "in the last complete week, 2026-11-09 to 2026-11-15"),
        ("patients.html", "the last complete month, October 2026 (2026-10-01 to 2026-10-31)"),
        ("engagement.html", "the last four complete weeks, 2026-10-19 to 2026-11-15"),
    ],
)  # fmt: skip
def test_each_page_names_its_period(shipped_site, page, says):
    assert says in _text((shipped_site.site_dir / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", ["index.html", "weekly_flash.html", "data_quality.html"])
def test_data_as_of_is_stated_in_utc(shipped_site, page):
    text = _text((shipped_site.site_dir / page).read_text(encoding="utf-8"))
    assert "Data as of 2026-11-17 07:40 UTC" in text


def test_the_flash_email_title_names_the_week(shipped_site):
    mail = (shipped_site.site_dir / "weekly-flash-email.html").read_text(encoding="utf-8")
    assert "<title>Weekly flash: week of 2026-11-09 to 2026-11-15</title>" in mail
    # the page itself keeps its short title (menu, browser tab)
    page = (shipped_site.site_dir / "weekly_flash.html").read_text(encoding="utf-8")
    assert "<title>Weekly flash · medspa dashboards</title>" in page
