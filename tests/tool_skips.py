"""Skips for a missing external tool: say which tool, and never skip in CI.

Outside CI a developer without Debian's chromium may skip the browser test; the skip reason
names the missing files and the command that installs them. In CI (`CI=true`) a missing tool
means the CI image is broken, and a skipped test would turn "not tested" into a green run, so
`pytest_runtest_makereport` (registered by `tests/conftest.py`) turns such skips into failures.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

#: Every skip for a missing tool starts with this; the CI hook recognises skips by it.
MISSING_TOOL = "missing tool"
#: `pytest.importorskip` reasons start with this: a missing Python package is a missing tool too.
MISSING_MODULE = "could not import"


def in_ci() -> bool:
    """CI services set `CI=true`; `.ci/run` runs there."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_tools(*paths: Path) -> list[Path]:
    """The given executables that are absent or not executable."""
    return [p for p in paths if not (p.is_file() and os.access(p, os.X_OK))]


def requires_tools(*paths: Path, install: str) -> pytest.MarkDecorator:
    """A skipif mark naming each missing executable and how to install it."""
    missing = missing_tools(*paths)
    names = ", ".join(str(p) for p in missing)
    return pytest.mark.skipif(
        bool(missing), reason=f"{MISSING_TOOL}: {names} absent; install with `{install}`"
    )


def _reason(report: pytest.TestReport) -> str:
    text = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return text.removeprefix("Skipped: ")


def is_missing_tool_skip(report: pytest.TestReport) -> bool:
    """Whether `report` is a skip (not an xfail) whose reason is a missing tool or module."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return False
    return _reason(report).startswith((MISSING_TOOL, MISSING_MODULE))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI, a skip for a missing tool is a failure that says so."""
    report = yield
    if in_ci() and is_missing_tool_skip(report):
        reason = _reason(report)
        report.outcome = "failed"
        report.longrepr = f"CI=true: a test may not skip for a missing tool ({reason})"
    return report
