"""Free text the contract keeps but people type into (a patient's acquisition channel and the
spend channels it meets, a lead's campaign, a call-tracking label, a closure's reason;
macros/free_text.sql): a value carrying an email address or a phone-shaped number is withheld
downstream, and a patient's sex reaches the marts only as F, M, X or unknown.

Rendered by dbt itself (`dbt show --inline`) and run in DuckDB: the SQL the staging models use.
"""

from __future__ import annotations

import json
from pathlib import Path

from dbt_runner import dbt

from medspa.pseudonymize import pseudonymize
from medspa.settings import DEMO_PHI_KEY

#: stands for "withheld": the label and the first 8 hex digits of the typed value's keyed hash
#: under the tests' key (`_expected`)
WITHHELD = "(withheld: contact data)"

# (typed value, what leaves staging), each decided by hand from the macro's rule
TEXT_CASES: list[tuple[str | None, str | None]] = [
    ("google_ads", "google_ads"),
    ("ig_summer_body", "ig_summer_body"),
    ("Promo 2026-11", "Promo 2026-11"),  # six digits: a month, not a number
    ("instagram @glowspa", "instagram @glowspa"),  # a handle is no email address
    ("referral from Jane Doe jane.doe@example.com", WITHHELD),
    ("Walk-in: Mary Smith 415-555-0123", WITHHELD),
    ("call (415) 555 0199", WITHHELD),
    ("+44 20 7946 0958", WITHHELD),
    ("DOB 1980-02-03", WITHHELD),  # eight digits: a full date, a birth date among them
    ("note\nMary 4155550123", WITHHELD),  # across a line break
    ("Q1 2025 10% off", "Q1 2025 10% off"),  # digits beside a letter or `%` are no phone
    ("Summer 2025 / 2026", "Summer 2025 / 2026"),  # three separators apart: two numbers
    ("gads 12345678901", WITHHELD),  # eleven digits: a phone's shape, whatever it is
    ("1234567890123456", "1234567890123456"),  # sixteen digits: longer than any phone
    (None, None),
]

SEX_CASES: list[tuple[str | None, str | None]] = [
    ("F", "F"),
    (" female ", "F"),
    ("m", "M"),
    ("Man", "M"),
    ("X", "X"),
    ("non-binary", "X"),
    ("U", "unknown"),
    ("F (Jane Roe, 1979-04-04)", "unknown"),
    ("", None),
    (None, None),
]


def _literal(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def _show(tmp_path: Path, macro: str, cases: list[tuple[str | None, str | None]]) -> list:
    values = ", ".join(f"({i}, {_literal(raw)})" for i, (raw, _) in enumerate(cases))
    sql = f"select i, {{{{ {macro}('v') }}}} as shown from (values {values}) as t(i, v) order by i"
    proc = dbt(
        ["--quiet", "show", "--inline", sql, "--output", "json", "--limit", "100"],
        tmp_path / "warehouse.duckdb",
        tmp_path,
    )
    return [(cases[row["i"]][0], row["shown"]) for row in json.loads(proc.stdout)["show"]]


def _expected(raw: str | None, shown: str | None) -> str | None:
    if shown != WITHHELD:
        return shown
    return f"(withheld: contact data {pseudonymize(raw or '', DEMO_PHI_KEY)[:8]})"


def test_typed_text_with_contact_data_is_withheld(tmp_path: Path) -> None:
    expected = [(raw, _expected(raw, shown)) for raw, shown in TEXT_CASES]
    assert _show(tmp_path, "without_contact_data", TEXT_CASES) == expected


def test_withheld_values_stay_apart_and_equal_ones_stay_equal(tmp_path: Path) -> None:
    """Two spend rows whose channels differ only in a phone number were one key downstream
    (both became the same label) and failed the spend table's uniqueness test, blocking the
    night; the same typed value must still meet itself (CAC joins patients' channels to spend
    channels)."""
    cases: list[tuple[str | None, str | None]] = [
        ("flyer 415-555-0199", None),
        ("flyer 415-555-0123", None),
        ("flyer 415-555-0199", None),
    ]
    shown = [value for _, value in _show(tmp_path, "without_contact_data", cases)]
    assert (
        shown[0]
        == f"(withheld: contact data {pseudonymize('flyer 415-555-0199', DEMO_PHI_KEY)[:8]})"
    )
    assert shown[0] != shown[1] and shown[0] == shown[2]


def test_sex_leaves_staging_in_a_closed_vocabulary(tmp_path: Path) -> None:
    assert _show(tmp_path, "sex_code", SEX_CASES) == SEX_CASES


def test_the_warn_check_finds_withheld_values(tmp_path: Path) -> None:
    """`no_withheld_text` counts rows by `is_withheld_text`: every withheld value, nothing else."""
    withheld = f"(withheld: contact data {pseudonymize('x 4155550199', DEMO_PHI_KEY)[:8]})"
    cases: list[tuple[str | None, str | None]] = [
        (withheld, None),
        ("google_ads", None),
        ("withheld: contact data", None),
        (None, None),
    ]
    found = [value for _, value in _show(tmp_path, "is_withheld_text", cases)]
    assert found == [True, False, False, None]
