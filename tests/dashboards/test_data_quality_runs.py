"""The data-quality page shows runs that did not publish, with the check that blocked them,
and says when the public demo key pseudonymised non-demo data."""

from __future__ import annotations

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
