"""Suite-wide test infrastructure.

- Heavy groups are marked (`e2e`, `browser`, `dagster_ui`; registered in pyproject.toml):
  `make test-fast` deselects them, `make test` runs everything.
- In CI (`CI=true`) a skip for a missing tool fails the test (`tool_skips`).
- Expensive session fixtures build once per run across xdist workers (`run_once`).
"""

from tests.tool_skips import pytest_runtest_makereport  # noqa: F401  (a hook: pytest finds it here)
