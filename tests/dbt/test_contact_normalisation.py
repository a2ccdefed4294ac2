"""The contact normalisation calls and messages are matched on (macros/contacts.sql).

Why it matters: two spellings of one contact must hash alike, and two different contacts must
not. A US number without a country code gains +1; a number written with '+' keeps the country
code it was given, even when it happens to have ten digits like a US number.

The macro is rendered by dbt itself (`dbt show --inline`) and run in DuckDB, so the test checks
the SQL every staging model uses, not a re-implementation of it.
"""

from __future__ import annotations

import json
from pathlib import Path

from dbt_runner import dbt

# (raw contact, normalised form) worked out by hand from the rules in the macro's docstring
CASES: list[tuple[str | None, str | None]] = [
    ("(555) 123-4567", "+15551234567"),  # ten digits, no country code: US
    ("555.123.4567", "+15551234567"),
    ("1-555-123-4567", "+15551234567"),  # eleven digits starting 1: US with its code
    ("+1 (555) 123-4567", "+15551234567"),
    ("+46 8 123 4567", "+4681234567"),  # Swedish, ten digits: not a US number
    (" +44 20 7946 0958 ", "+442079460958"),
    ("+49 30 1234567890123", None),  # sixteen digits: longer than E.164 allows
    ("+1234567", None),  # seven digits after '+': too short
    ("555-1234", None),  # seven digits, no code: not a full number
    ("44 20 7946 0958", None),  # twelve digits without '+': the country code is ambiguous
    (" Ana.Lee@Example.ORG ", "ana.lee@example.org"),
    ("no contact", None),
    (None, None),
]


def _sql_literal(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def test_contacts_normalise_to_e164_or_lower_case_email(tmp_path: Path) -> None:
    values = ", ".join(f"({i}, {_sql_literal(raw)})" for i, (raw, _) in enumerate(CASES))
    sql = (
        "select i, {{ normalize_contact('c') }} as normalised "
        f"from (values {values}) as t(i, c) order by i"
    )
    proc = dbt(
        ["--quiet", "show", "--inline", sql, "--output", "json", "--limit", "100"],
        tmp_path / "warehouse.duckdb",
        tmp_path,
    )
    rows = json.loads(proc.stdout)["show"]
    got = [(CASES[row["i"]][0], row["normalised"]) for row in rows]
    assert got == CASES
