"""No model, macro or dbt test reads the wall clock: KPI values depend on the data alone.

The as-of time is the newest `updated_at` loaded (int_data_as_of), never the time of the
build. A KPI model filtering on `scheduled_start <= now()` passes lint, the tests and the
build, and gives other numbers when the same data is rebuilt a day later (or none, on a
chain whose data runs past the machine's date). This test fails on any function or dbt
context value that returns the current time, in the code of every model, macro and data
test of the project (comments included: a commented-out `now()` is one edit from returning).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SQL_FOLDERS = ("dbt_project/models", "dbt_project/macros", "dbt_project/tests")

#: SQL functions and dbt context values that return the time of the build.
WALL_CLOCK = re.compile(
    r"\b(?:now\s*\(|today\s*\(|current_date\b|current_time\b|current_timestamp\b|"
    r"get_current_time\b|get_current_timestamp\b|localtimestamp\b|localtime\b|"
    r"transaction_timestamp\b|statement_timestamp\b|run_started_at\b|"
    r"modules\.datetime\b|dbt\.current_timestamp\b)",
    re.IGNORECASE,
)


def wall_clock_uses(text: str) -> list[tuple[int, str]]:
    """(line number, match) of every wall-clock read in `text`."""
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(0))
        for match in WALL_CLOCK.finditer(text)
    ]


def test_the_pattern_finds_each_spelling():
    assert wall_clock_uses("where scheduled_start <= now()") == [(1, "now(")]
    assert wall_clock_uses("select\n  CURRENT_DATE - 1") == [(2, "CURRENT_DATE")]
    assert wall_clock_uses("{{ run_started_at }}")[0][1] == "run_started_at"
    assert wall_clock_uses("{{ dbt.current_timestamp() }}") != []
    assert wall_clock_uses("select known_now, current_dates_seen, as_of_at") == []


def test_no_sql_reads_the_wall_clock():
    files = [p for folder in SQL_FOLDERS for p in sorted((REPO / folder).rglob("*.sql"))]
    assert len(files) > 50  # the walk found the project's SQL
    found = [
        f"{path.relative_to(REPO)}:{line}: {match}"
        for path in files
        for line, match in wall_clock_uses(path.read_text(encoding="utf-8"))
    ]
    assert found == [], (
        "KPI values must depend only on the data: use the as-of time (int_data_as_of), "
        f"not the wall clock: {found}"
    )
