"""The data-quality page shows runs that did not publish, with the check that blocked them,
and says when the public demo key pseudonymised non-demo data."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from dashboards import build_site


def test_blocked_run_is_listed_with_its_check(shipped_site):
    html = (shipped_site.site_dir / "data_quality.html").read_text(encoding="utf-8")
    assert "Runs that did not publish" in html
    assert "run_0" in html and "blocked" in html
    assert "raw_pms/appointments:quarantine_share" in html
    assert "public demo key" not in html


def test_last_run_blocked_on_demo_key_says_both(fixture_serving: Path, tmp_path: Path):
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(fixture_serving.read_bytes())
    con = duckdb.connect(str(serving))
    con.execute(
        """update ops.run_log set status = 'blocked', demo_key_on_real_data = true,
        blocked_by = 'raw_pms/appointments:quarantine_share' where run_id = 'run_1'"""
    )
    con.close()
    report = build_site(serving, tmp_path / "site")
    assert report.ok, report.pages_failed
    html = (tmp_path / "site" / "data_quality.html").read_text(encoding="utf-8")
    assert "It did not publish (blocked by raw_pms/appointments:quarantine_share)" in html
    assert "pseudonymised with the public demo key" in html


def test_a_published_runs_check_counts_say_they_are_the_ones_before_the_publish(shipped_site):
    """The run's row is written as it publishes: the freshness checks of the marts and of the
    publish come after it, so its counts are smaller than `medspa run`'s summary (the audit's
    352 against 394) and the page says why."""
    html = (shipped_site.site_dir / "data_quality.html").read_text(encoding="utf-8")
    assert "failed before it published (the freshness checks of the marts and of the" in html
    assert "Run <code>run_1</code> published" in html


def test_checks_are_the_latest_result_of_each_and_a_day_of_runs_is_one_bar(
    fixture_serving: Path, tmp_path: Path
):
    """`ops.check_results` holds each check's latest result: a check of a model the last run
    left out keeps an earlier run's result. The page says so, counts the last run's own, dates
    a failure, and sums the rows of two runs on one day into that day's bar."""
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(fixture_serving.read_bytes())
    con = duckdb.connect(str(serving))
    con.execute(
        """insert into ops.check_results values
        ('unique_fct_calls_call_id', 'fct_calls', 'ERROR', true, 'unique',
         timestamptz '2026-11-15 07:00:00+00', 'run_0'),
        ('no_withheld_text_stg_crm__leads_campaign', 'stg_crm__leads', 'WARN', false,
         '2 withheld values', timestamptz '2026-11-15 07:00:00+00', 'run_0')"""
    )
    con.execute(
        """insert into ops.run_log values ('run_2', timestamptz '2026-11-16 09:00:00+00',
        timestamptz '2026-11-16 09:05:00+00', 600, 2, 0, 0, 'published', null, false)"""
    )
    con.execute("update ops.check_results set run_id = 'run_2' where run_id = 'run_1'")
    con.close()
    report = build_site(serving, tmp_path / "site")
    assert report.ok, report.pages_failed
    html = (tmp_path / "site" / "data_quality.html").read_text(encoding="utf-8")
    assert "Checks by severity (latest result of each)" in html
    # ERROR: 2 passed, 1 of them in the last run (run_2); WARN: 0 passed, 2 failed, 1 in run_2
    rows = re.findall(r"<tr[^>]*><td>(ERROR|WARN)</td>((?:<td[^>]*>[^<]*</td>)+)</tr>", html)
    counts = {sev: re.findall(r">([^<]*)</td>", cells) for sev, cells in rows}
    assert counts == {"ERROR": ["2", "0", "1"], "WARN": ["0", "2", "1"]}
    failed = html[html.index("Checks whose latest result failed or warned") :]
    assert "no_withheld_text_stg_crm__leads_campaign" in failed
    assert "2026-11-15 07:00" in failed  # an earlier run's result, dated
    # run_1 (3,400 rows) and run_2 (600 rows) on 2026-11-16: one bar of 4,000
    chart = html[html.index("Rows loaded per day") :]
    assert "4,000" in chart and "3,400" not in chart
