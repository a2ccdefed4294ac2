"""Free text the contract keeps but people type into (a patient's acquisition channel and the
spend channels it meets, a lead's campaign, a call-tracking label, a closure's reason;
catalogue names; macros/free_text.sql): a value carrying an email address, a phone-shaped number
or a full date, also typed with Unicode look-alikes, is withheld downstream; in a provider's name
only that contact data is replaced; a patient's sex reaches the marts only as F, M, X or unknown.

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
    ("Summer 2025 / 2026", WITHHELD),  # eight digits, any separators between: a phone's shape
    ("gads 12345678901", WITHHELD),  # eleven digits: a phone's shape, whatever it is
    ("1234567890123456", "1234567890123456"),  # sixteen digits: longer than any phone
    # look-alikes of digits, dashes and spaces count as theirs (contact_data_pattern)
    ("Referred by Jane Doe 415\u2013555\u20130199", WITHHELD),  # en dashes
    ("Referred by Jane Doe 415\u00a0555\u00a00199", WITHHELD),  # no-break spaces
    ("Referred by Jane Doe 415\u200b555\u200b0199", WITHHELD),  # zero-width spaces
    ("Referred by Jane Doe \uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff19\uff19", WITHHELD),
    ("call \u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0669\u0669", WITHHELD),  # Arabic-Indic
    ("mail jane\uff20example.com", WITHHELD),  # fullwidth @
    # any run of separators between a phone's digits
    ("Referred by Jane Doe 415 - 555 - 0199", WITHHELD),
    ("Referred by Jane Doe 415 -- 555 .. 0199", WITHHELD),
    ("Referred by Jane Doe 415/555/0199", WITHHELD),
    # an email with any characters but spaces and `@`
    ("Referred by jane.doe@b\u00fccher.de", WITHHELD),
    ("jane+spa@example.co.uk", WITHHELD),
    ("glow@spa", "glow@spa"),  # no dot after the `@`: no address
    # a full date, however few its digits
    ("Referred by Jane Doe DOB 3/4/1975", WITHHELD),
    ("DOB 03.04.75", WITHHELD),
    ("DOB 1975-3-4", WITHHELD),
    # digits written together are a phone's, whatever letters touch them
    ("ref by Jane Roe tel4155550199", WITHHELD),
    ("cell:4155550199x", WITHHELD),
    ("Referred by Jane Doe 415_555_0199", WITHHELD),  # an underscore separates, as a dash does
    # a date with its month in letters, day first or month first
    ("DOB March 4 1975", WITHHELD),
    ("DOB 4 Mar 75", WITHHELD),
    ("born Mar 4, 1975", WITHHELD),
    ("4th March 1975", WITHHELD),
    ("Spring sale March 2026", "Spring sale March 2026"),  # a month and a year: no full date
    ("Botox May 15", "Botox May 15"),  # a day and a month without a year
    ("Decor 10 2026", "Decor 10 2026"),  # `dec` inside a word is no month
    ("SKU12345 iPhone15", "SKU12345 iPhone15"),  # fewer than 7 digits beside letters
    # what people type that is none of these
    ("Google Ads 2026 Q4", "Google Ads 2026 Q4"),
    ("Spring promo 20% off", "Spring promo 20% off"),
    ("Instagram", "Instagram"),
    ("Botox 50 units", "Botox 50 units"),
    ("Anne\u2010Marie", "Anne\u2010Marie"),  # a look-alike alone changes nothing
    ("Room 3/4", "Room 3/4"),  # day and month without a year: no full date
    ("Laser 1064 nm / 755 nm", "Laser 1064 nm / 755 nm"),  # letters between the numbers
    (None, None),
]

#: what `contact_data_masked` leaves of a name: each email, phone or date replaced by MASK
MASK = "(withheld: contact data)"

# (typed name, what leaves staging), each decided by hand from the macro's rule
NAME_CASES: list[tuple[str | None, str | None]] = [
    ("Ann", "Ann"),
    ("Anne\u2010Marie", "Anne\u2010Marie"),  # no contact data: the name as typed
    ("Lee 415-555-0199", f"Lee {MASK}"),
    ("Lee ann.lee@example.com", f"Lee {MASK}"),
    ("Lee\u00a0415\u2013555\u20130199", f"Lee\u00a0{MASK}"),  # the rest as typed
    ("Lee (DOB 3/4/1975)", f"Lee (DOB {MASK})"),
    ("Ann 415-555-0199 415-555-0123 x@y.com Lee", f"Ann {MASK} {MASK} Lee"),  # one run of digits
    ("Ann 3/4/1975,5/6/1980", f"Ann {MASK},{MASK}"),  # the comma closes one, opens the other
    ("Taylor cell4155550199", f"Taylor cell{MASK}"),  # digits beside a letter
    ("Clark DOB March 4 1975", f"Clark DOB {MASK}"),
    ("Lee 415_555_0199", f"Lee {MASK}"),
    ("Dr. Lee, MD", "Dr. Lee, MD"),
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


def test_contact_data_in_a_name_is_replaced_and_the_name_kept(tmp_path: Path) -> None:
    """A provider's name is shown on the provider pages: only the contact data in it goes."""
    assert _show(tmp_path, "contact_data_masked", NAME_CASES) == NAME_CASES


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
        ("Lee (withheld: contact data)", None),
        (None, None),
    ]
    found = [value for _, value in _show(tmp_path, "is_withheld_text", cases)]
    assert found == [True, False, False, True, None]
