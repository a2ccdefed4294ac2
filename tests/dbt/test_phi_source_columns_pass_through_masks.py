"""A PHI source column is read past the raw layer only through a masking macro.

The other PHI guards match on column names: the dbt test `assert_no_phi_columns_outside_raw`
and the publish audit look for a contract PHI column's name outside the raw layer. A model
that selects `patient_notes as visit_notes` passes both, and the notes are published. This
test reads the code instead: in every model built from a source table with PHI columns, each
mention of such a column must be the quoted argument of a macro that masks it (a keyed hash,
the 3-digit ZIP), as `{{ pseudonymize(normalize_email('email')) }}` is. Any other use (a
plain select, a rename, a cast, a comparison) fails here, naming the model, column and line.
Columns derived in the project's macros from a PHI column (the age band from the date of
birth) are the macros' to keep masked; this test holds the models.
"""

from __future__ import annotations

import re

from ingestion.contract import load_contract
from orchestration.manifest import load_manifest

#: Macros whose quoted argument may name a PHI column: each turns it into a keyed hash or
#: a coarser value (macros/pseudonymize.sql, macros/contacts.sql, macros/zip3.sql).
MASKS = ("pseudonymize", "normalize_email", "normalize_phone", "contact_hash", "safe_harbor_zip3")

_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_MASKED_ARGUMENT = re.compile(r"(?:" + "|".join(MASKS) + r")\(\s*'(?:\w+\.)?$")


def _code_without_comments(raw: str) -> str:
    """The model's code with comments blanked, line numbers kept."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _SQL_COMMENT.sub(blank, _JINJA_COMMENT.sub(blank, raw))


def unmasked_mentions(code: str, column: str) -> list[int]:
    """Line numbers where `column` is named other than as a mask's quoted argument."""
    lines = []
    for match in re.finditer(rf"(?<![\w$]){re.escape(column)}(?![\w$])", code):
        before = code[max(0, match.start() - 80) : match.start()]
        after = code[match.end() : match.end() + 1]
        if not (_MASKED_ARGUMENT.search(before) and after == "'"):
            lines.append(code.count("\n", 0, match.start()) + 1)
    return lines


def test_unmasked_mentions_are_found_and_masked_ones_pass():
    hashed = "{{ pseudonymize(normalize_email('email')) }} as email_hash"
    assert unmasked_mentions(hashed, "email") == []
    zip3 = "{{ safe_harbor_zip3('patients.postal_code') }} as zip3"
    assert unmasked_mentions(zip3, "postal_code") == []
    assert unmasked_mentions("select\n    cast(notes as varchar) as visit_notes", "notes") == [2]
    assert unmasked_mentions("select notes as visit_notes", "notes") == [1]
    assert unmasked_mentions("where email is not null", "email") == [1]
    assert unmasked_mentions("select email_hash, phone_number", "email") == []


def test_phi_source_columns_leave_the_raw_layer_only_masked():
    manifest = load_manifest()
    contract = load_contract()
    phi = {
        f"source.medspa.{table.dataset}.{table.name}": table.phi_columns
        for table in contract.tables
        if table.phi_columns
    }
    leaks, models_read = [], 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        columns = {c for source in node["depends_on"]["nodes"] for c in phi.get(source, [])}
        if not columns:
            continue
        models_read += 1
        code = _code_without_comments(node["raw_code"])
        for column in sorted(columns):
            for line in unmasked_mentions(code, column):
                leaks.append(f"{node['original_file_path']}:{line}: {column}")
    assert models_read >= 5  # the staging models of patients, calls, messages, leads, reviews
    assert leaks == [], (
        "a PHI column is used other than through a masking macro "
        f"({', '.join(MASKS)}); mask it or drop it: {leaks}"
    )
