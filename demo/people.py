"""Synthetic people and their contacts, written the messy ways real systems write them.

A *person* number identifies a human across silos: a lead who converts becomes a patient with
the same person number, so the same phone and e-mail appear in the CRM, the PMS, the phone
system and the messaging platform, each in its own format. Numbers are 555 lines in a
rotating set of area codes (unique per person); e-mails use example.* domains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import catalog
from demo.rand import Stream, keyed_choice, keyed_uniform

AREAS = np.array(list(dict.fromkeys(catalog.AREA_CODES)))
#: Person numbers from here up are strangers who call in (never patients or leads).
UNKNOWN_CALLERS = (len(AREAS) - 1) * 10_000
MAX_PEOPLE = len(AREAS) * 10_000


def phone_digits(person: np.ndarray) -> pd.Series:
    """Ten-digit US numbers `AAA555LLLL`, unique per person number."""
    person = np.asarray(person, dtype=np.int64)
    if person.size and person.max() >= MAX_PEOPLE:
        raise ValueError("the demo chain ran out of synthetic phone numbers")
    line = (person % 10_000) * 7_919 % 10_000  # 7919 is prime to 10000: a permutation
    area = AREAS[(person // 10_000) % len(AREAS)]
    return pd.Series(area, dtype=object) + "555" + pd.Series(line).astype(str).str.zfill(4)


def format_phone(digits: pd.Series, style: np.ndarray) -> np.ndarray:
    """Render ten-digit numbers in one of six formats seen in the wild (style 0–5)."""
    d = digits.reset_index(drop=True)
    a, b, c = d.str[:3], d.str[3:6], d.str[6:]
    variants = [
        "+1 (" + a + ") " + b + "-" + c,
        "(" + a + ") " + b + "-" + c,
        d,
        "+1" + d,
        a + "." + b + "." + c,
        a + "-" + b + "-" + c,
    ]
    out = np.empty(len(d), dtype=object)
    style = np.asarray(style)
    for k, v in enumerate(variants):
        sel = style == k
        out[sel] = v.to_numpy(dtype=object)[sel]
    return out


def format_email(base: pd.Series, style: np.ndarray) -> np.ndarray:
    """Lower-case (0), Capitalised (1), upper (2) or padded with spaces (3)."""
    b = base.reset_index(drop=True)
    variants = [b, b.str.capitalize(), b.str.upper(), " " + b.str.capitalize() + " "]
    out = np.empty(len(b), dtype=object)
    style = np.asarray(style)
    for k, v in enumerate(variants):
        sel = style == k
        out[sel] = v.to_numpy(dtype=object)[sel]
    return out


def people(seed: int, person: np.ndarray) -> pd.DataFrame:
    """Names, sex, birth date offset, postal suffix and contacts of person numbers."""
    person = np.asarray(person, dtype=np.int64)
    u = [keyed_uniform(seed, Stream.PEOPLE, person, k) for k in range(7)]
    female = u[0] < 0.86
    f = np.array(catalog.FIRST_NAMES_F, dtype=object)[
        (u[1] * len(catalog.FIRST_NAMES_F)).astype(int)
    ]
    m = np.array(catalog.FIRST_NAMES_M, dtype=object)[
        (u[1] * len(catalog.FIRST_NAMES_M)).astype(int)
    ]
    first = np.where(female, f, m)
    last = np.array(catalog.LAST_NAMES, dtype=object)[(u[2] * len(catalog.LAST_NAMES)).astype(int)]
    domain = np.array(catalog.EMAIL_DOMAINS, dtype=object)[keyed_choice(u[3], [6, 3, 1])]
    email = (
        pd.Series(first).str.lower()
        + "."
        + pd.Series(last).str.lower()
        + pd.Series(person).astype(str)
        + "@"
        + pd.Series(domain)
    )
    age_years = 21 + np.minimum(u[4] * u[4] * 60 + u[5] * 14, 70)
    return pd.DataFrame(
        {
            "first_name": first,
            "last_name": last,
            "sex": np.where(female, "F", "M"),
            "email": email.to_numpy(dtype=object),
            "digits": phone_digits(person % MAX_PEOPLE).to_numpy(dtype=object),
            "age_days": (age_years * 365.25).astype(np.int64),
            "zip_suffix": (u[6] * 100).astype(int),
        }
    )
