"""Results stay browsable: JSON per suite, an index that accumulates runs and escapes values."""

from __future__ import annotations

import json

from quality.report import write_results
from quality.results import ExpectationResult, SuiteResult, observed_values


def _result(suite: str, success: bool, sample: list) -> SuiteResult:
    exp = ExpectationResult(
        key="ExpectColumnValuesToBeInSet:status",
        kind="ExpectColumnValuesToBeInSet",
        column="status",
        severity="error",
        description="value in the contract enum",
        success=success,
        observed={"unexpected_count": len(sample), "unexpected_sample": sample},
    )
    return SuiteResult(suite, "raw_pms.x", success, None if success else "error", [exp], 0.1)


def test_index_lists_every_suite_written_so_far_and_reruns_replace(tmp_path):
    write_results([_result("raw_pms__a", False, ["zz"])], tmp_path)
    write_results([_result("raw_pms__b", True, [])], tmp_path)
    write_results([_result("raw_pms__a", True, [])], tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count('href="raw_pms__a.json"') == 1 and 'href="raw_pms__b.json"' in page
    assert json.loads((tmp_path / "raw_pms__a.json").read_text())["success"] is True
    assert "FAIL" not in page


def test_observed_values_are_html_escaped(tmp_path):
    write_results([_result("raw_pms__a", False, ["<script>alert(1)</script>"])], tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_sensitive_results_keep_counts_only():
    gx_result = {
        "element_count": 3,
        "unexpected_count": 1,
        "partial_unexpected_list": ["jane@example.com"],
        "partial_unexpected_counts": [{"value": "jane@example.com", "count": 1}],
        "observed_value": "jane@example.com",
    }
    assert observed_values(gx_result, sensitive=True) == {"element_count": 3, "unexpected_count": 1}
    assert observed_values(gx_result, sensitive=False)["unexpected_sample"] == ["jane@example.com"]
