"""The Patients page says how many of the earliest cohorts' patients were on file before the
history begins, so the later cohorts' lower retention is not read as a fall.

A cohort is the month of a patient's first completed visit on file. A patient whose record is
older than the first appointment on file was a patient before the history: that first visit
on file is not their first. In the demo chain nine in ten of the first cohort are such
patients. Here: the history begins 2026-08-03 09:00 UTC (an appointment added then); of the
fixture's 10 patients a cohort, 8 of 2026-08 and 1 of 2026-09 were created before it (10 %: a
cohort is marked * from 10 %), none of 2026-10.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from dash_serving_fixture import build_shipped_pages, make_serving_db
from dash_serving_fixture import page_text as _text


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("early-cohorts")
    serving = make_serving_db(root / "serving.duckdb")
    con = duckdb.connect(str(serving))
    try:
        con.execute(
            """insert into marts.fct_appointments (appointment_id, location_id, scheduled_start)
            values ('appt_first', 'loc_a', timestamptz '2026-08-03 09:00:00+00');
            update marts.dim_patients set created_at = timestamptz '2025-05-01 12:00:00+00'
            where (cohort_month = date '2026-08-01'
                    and patient_key not in ('pk_0_8', 'pk_0_9'))
                or patient_key = 'pk_1_0';
            -- created a minute after the first appointment: not before the history
            update marts.dim_patients set created_at = timestamptz '2026-08-03 09:01:00+00'
            where patient_key = 'pk_2_0'"""
        )
    finally:
        con.close()
    build_shipped_pages(serving, root, "patients.md")
    return (root / "site" / "patients.html").read_text(encoding="utf-8")


def test_the_page_names_each_early_cohorts_patients_on_file_before_the_history(page):
    text = _text(page)
    assert "The history on file begins on 2026-08-03" in text
    assert (
        "Cohorts marked * are at least 10 % such patients: 8 of 10 in 2026-08, 1 of 10 in "
        "2026-09." in text
    )
    assert "the later cohorts' lower numbers are not a fall" in text


def test_the_cohort_charts_mark_the_early_cohorts(page):
    def labels(title: str) -> list[str]:
        at = page.index(f'<div class="c-title">{title}')
        svg = page[at : page.index("</svg>", at)]
        return [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t.startswith("20")]

    assert labels("Share of each cohort with another visit") == [
        "2026-08 *",
        "2026-09 *",
        "2026-10",
    ]
    assert labels("Completed visits in the first year") == ["2026-08 *", "2026-09 *", "2026-10"]


def test_no_note_when_no_cohort_predates_the_history(shipped_site):
    html = (shipped_site.site_dir / "patients.html").read_text(encoding="utf-8")
    assert "The earliest cohorts are not like the later ones" not in html
    assert not re.search(r">20\d\d-\d\d \*<", html)  # no cohort label marked
