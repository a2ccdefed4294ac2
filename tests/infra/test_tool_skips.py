"""The CI hook: a skip for a missing tool fails under `CI=true`; other skips stay skips.

Each case runs a tiny pytest session in a subprocess (a fresh plugin manager, the real hook
loaded from a conftest exactly as `tests/conftest.py` loads it), once with and once without CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.tool_skips import in_ci

TESTS_DIR = Path(__file__).resolve().parents[1]

CASES = """
import sys
from pathlib import Path

import pytest

from tests.tool_skips import requires_tools


@requires_tools(Path("/nonexistent/medspa-tool"), install="make browser")
def test_needs_an_absent_tool():
    pass


@requires_tools(Path(sys.executable), install="nothing")
def test_needs_a_present_tool():
    pass


def test_needs_an_absent_module():
    pytest.importorskip("medspa_no_such_module")


def test_skips_for_another_reason():
    pytest.skip("not relevant on this platform")


@pytest.mark.xfail(reason="known gap", strict=True)
def test_known_gap():
    assert False
"""


def _session(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        "from tool_skips import pytest_runtest_makereport  # noqa: F401\n", encoding="utf-8"
    )
    (tmp_path / "test_cases.py").write_text(textwrap.dedent(CASES), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(TESTS_DIR)
    if ci is not None:
        env["CI"] = ci
    cmd = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-rA"]
    cmd += ["--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_cases.py")]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)


def test_outside_ci_a_missing_tool_skips_and_names_the_tool_and_the_fix(tmp_path: Path):
    result = _session(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "missing tool: /nonexistent/medspa-tool absent; install with `make browser`" in (
        result.stdout
    )
    assert "3 skipped" in result.stdout and "1 passed" in result.stdout, result.stdout[-2000:]


def test_in_ci_a_missing_tool_or_module_fails_and_other_outcomes_are_kept(tmp_path: Path):
    result = _session(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "CI=true: a test may not skip for a missing tool" in result.stdout
    # A skipif mark skips in setup, so that failure reports as an error; importorskip skips in
    # the call, so a failure. The unrelated skip, the pass and the xfail are untouched.
    summary = "1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error"
    assert summary in result.stdout, result.stdout[-2000:]
    assert "ERROR test_cases.py::test_needs_an_absent_tool" in result.stdout
    assert "FAILED test_cases.py::test_needs_an_absent_module" in result.stdout
    assert "not relevant on this platform" in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("TRUE", True), ("false", False), ("", False)],
)
def test_what_counts_as_ci(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool):
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected
