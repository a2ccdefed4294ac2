"""The names extra (drift) columns are stored under, and the files whose names would collide.

dlt stores every column under its own normal form of the name (lower-case snake_case:
`Promo Code` becomes `promo_code`, pandas' `Unnamed: 0` becomes `unnamed_0`). Left to dlt,
two different names of one file that share a normal form land in one column, and one value is
lost without a word; worse, an extra column `Plan ID` or `Updated At` lands on the contract
column `plan_id` or `updated_at` and overwrites the validated key or version with an unchecked
value. So the validator renames each extra column to its stored name itself (the drift report
then names the column an analyst will find) and refuses a file whose extra columns would
collide with each other, with a contract column or with a column the loader writes.

dlt's form keeps only ASCII letters and digits: `Promo Code` and `promo_code` are one column
spelled two ways, but `備考` and `紹介者` (a note and a referrer) are both `x`, and files
delivered on different nights merged them into one column without a word. A name that loses
what tells it apart (`drift_stored_name`) is stored with a short hash of the name added, the
same on every load, so no two such names ever share a column, in one file or across files.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from functools import cache

from ingestion.readers import LOADER_COLUMNS, FileRefused

#: Columns dlt adds to every raw table (`_dlt_*` names are refused in any file by the readers).
_DLT_COLUMNS = frozenset({"_dlt_load_id", "_dlt_id"})


@cache
def _normalize() -> object:
    # deferred: importing dlt costs ~1 s that `medspa --help` should not pay
    import dlt
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    # Column names go through the path normaliser (`__` is dlt's nesting separator, kept as
    # it is), shortened to DuckDB's identifier limit, as dlt does with a resource's hints.
    limit = dlt.destinations.duckdb().capabilities().max_column_identifier_length
    return NamingConvention(max_length=limit).normalize_path


def stored_name(column: str) -> str:
    """The name dlt stores `column` under in the raw table."""
    return _normalize()(column)  # type: ignore[operator]


#: Hex digits of the name's hash a lossy drift name is stored with (`drift_stored_name`):
#: 32 bits, so two names of one table share a column with a chance of one in four billion.
DRIFT_HASH_DIGITS = 8


def _spelled_in_ascii(column: str) -> bool:
    """Whether dlt's form of `column` keeps what tells it apart: every character is ASCII and at
    least one is a letter or digit. dlt then only changes case and turns the rest (spaces,
    punctuation) into `_`, so names that share a form are one column spelled differently
    (`Promo Code`, `promo_code`). Any other character becomes `_` too, whichever it was, and a
    name without a letter or digit becomes `x`."""
    return column.isascii() and any(ch.isalnum() for ch in column)


def drift_stored_name(column: str) -> str:
    """The name the extra column `column` is stored under in the raw table.

    dlt's form (`stored_name`) when `_spelled_in_ascii`; otherwise that form with `_` and
    `DRIFT_HASH_DIGITS` hex digits of a hash of the name added (`備考` -> `x_` + 8 digits),
    which depends on the name only (in Unicode's composed form, so `ü` typed either way is one
    name): every load stores the same name in the same column. The result is in dlt's form
    already (dlt normalises it again when it loads, and must keep it as it is).
    """
    if _spelled_in_ascii(column):
        return stored_name(column)
    composed = unicodedata.normalize("NFC", column)
    digest = hashlib.sha256(composed.encode("utf-8", "surrogatepass")).hexdigest()
    return stored_name(f"{stored_name(composed)}_{digest[:DRIFT_HASH_DIGITS]}")


def value_column_name(position: int) -> str:
    """The stored name of an extra column whose name looks like a value (`looks_like_a_value`):
    its position in the file (`drift_col_13`). dlt writes every stored name into the schema
    files it keeps beside the warehouse (`.dlt/<pipeline>/schemas/`), outside the raw layer, so
    a contact used as a JSON key must not become one; raw_meta.schema_drift keeps the name as
    the file spells it (`name_in_file`), inside the raw layer."""
    return f"drift_col_{position}"


def stored_drift_names(
    contract: Sequence[str], drift: Sequence[str], positions: Sequence[int]
) -> list[str]:
    """The stored name of each extra column in `drift` (file order, `drift_stored_name`; at
    `positions`, 1-based, in the file), or FileRefused when two would share one, or one would
    land on a contract or loader column, or one would be stored under an empty name (a name of
    only whitespace). A name that looks like a value is stored under its position
    (`value_column_name`).

    Only contract and loader names are printed: an extra column's own name could be a value
    (a file without a header row).
    """
    owned = set(contract) | (LOADER_COLUMNS - {"__row"}) | _DLT_COLUMNS
    if any(not c.strip() for c in drift):
        # the readers refuse such names first: dlt would store them under an empty name, which
        # failed the file on every run
        raise FileRefused(
            "an extra column's name is empty or only whitespace, so it cannot name a column "
            "(name the column in the export)"
        )
    stored = [
        value_column_name(position) if looks_like_a_value(c) else drift_stored_name(c)
        for c, position in zip(drift, positions, strict=True)
    ]
    taken = sorted({s for s in stored if s in owned})
    if taken:
        raise FileRefused(
            f"extra column(s) would be stored as {', '.join(taken)} (names are stored in "
            "lower-case snake_case), a column the contract or the loader owns: its values "
            "would overwrite the checked ones (rename the column in the export)"
        )
    shared = sum(1 for s in set(stored) if stored.count(s) > 1)
    if shared:
        raise FileRefused(
            f"extra columns would share a stored name ({shared} such name(s); names are stored "
            "in lower-case snake_case, so `Promo Code` and `promo_code` are one column): one "
            "value would be lost (rename the columns in the export)"
        )
    return stored


def looks_like_a_value(name: str) -> bool:
    """Whether a file's column name reads like a value rather than a header: an e-mail address
    (`@`), a phone or other number (seven digits or more), or text longer than any header.

    A JSON line keyed by a contact (`{"jane.doe@example.com": ...}`) or a CSV whose header row
    holds a record makes such a name a drift column; the load reports drift outside the raw
    layer (the run's report, Dagster's metadata), where a value must never appear.
    Look-alikes count as what they look like (compatibility normalisation: a fullwidth `＠`
    or the small `﹫` is an `@`; `isdigit` already counts fullwidth and other scripts' digits).
    """
    plain = unicodedata.normalize("NFKC", name)
    return "@" in plain or sum(ch.isdigit() for ch in plain) >= 7 or len(name) > 64


def drift_labels(
    file_names: Sequence[str], stored: Sequence[str], positions: Sequence[int]
) -> list[str]:
    """How the load report names each drift column: its stored name, or, for one whose name
    looks like a value, only its position in the file (the stored name is in
    raw_meta.schema_drift, inside the raw layer)."""
    return [
        f"column {position} (its name looks like a value: see raw_meta.schema_drift)"
        if looks_like_a_value(name)
        else stored_as
        for name, stored_as, position in zip(file_names, stored, positions, strict=True)
    ]
