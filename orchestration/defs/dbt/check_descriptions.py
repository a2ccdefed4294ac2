"""What a dbt test checks, in words, for its asset check in the Dagster UI.

dagster-dbt describes a test's check only from the test's `meta.description`, which none of
the project's ~300 generated tests has: the UI listed them with a name and no text, and a
failed one said nothing until its step's log was opened. The generic tests say what they
assert from their arguments; a singular test from the first sentence of the comment that
opens its SQL file (each one starts by saying what it fails on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

#: A generic test's arguments -> what it asserts (`column` is the tested column's name).
_GENERIC: dict[str, str] = {
    "not_null": "`{column}` is never null",
    "unique": "no two rows share a `{column}`",
    "accepted_values": "`{column}` is one of: {values}",
    "relationships": "every `{column}` is a `{field}` of {to}",
    "unique_combination": "no two rows share ({columns}), the table's key; no null in it",
    "exactly_one_row": "the table has exactly one row",
    "no_withheld_text": "no `{column}` value was withheld as contact data (an email or "
    "phone number typed where the column does not hold one)",
}

_LEADING_COMMENT = re.compile(
    r"^\s*(?:\{#-?(?P<block>.*?)-?#\}|(?P<lines>(?:\s*--[^\n]*\n)+))", re.S
)


def describe_dbt_test(props: Mapping[str, Any]) -> str | None:
    """A sentence for the dbt test node `props` (a manifest node), or None when nothing can be
    said; the severity says whether a failure stops the build."""
    own = (props.get("description") or "").strip()
    test = props.get("test_metadata") or {}
    if own:
        what = own
    elif test:
        what = _generic_sentence(test.get("name", ""), test.get("kwargs") or {})
    else:
        what = _first_sentence(props.get("raw_code") or "")
    if not what:
        return None
    severity = str((props.get("config") or {}).get("severity") or "error").lower()
    effect = (
        "a failure stops the build of what depends on it"
        if severity == "error"
        else "a failure warns"
    )
    return f"{what[0].upper()}{what[1:]} (dbt test, severity {severity}: {effect})."


def _generic_sentence(name: str, kwargs: Mapping[str, Any]) -> str:
    template = _GENERIC.get(name)
    column = kwargs.get("column_name") or ""
    if template is None:
        arguments = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model")
        return f"dbt test {name}({arguments})"
    values = kwargs.get("values") or []
    return template.format(
        column=column,
        values=", ".join(str(v) for v in values[:12]) + (", ..." if len(values) > 12 else ""),
        field=kwargs.get("field", ""),
        to=_ref_name(str(kwargs.get("to", ""))),
        columns=", ".join(f"`{c}`" for c in kwargs.get("columns") or []),
    )


def _ref_name(expression: str) -> str:
    """`ref('stg_crm__leads')` -> `stg_crm__leads`."""
    found = re.search(
        r"""(?:ref|source)\(\s*['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?""", expression
    )
    if not found:
        return expression
    return f"`{found.group(2) or found.group(1)}`"


def _first_sentence(sql: str) -> str:
    """The first sentence of the comment a singular test's SQL opens with."""
    found = _LEADING_COMMENT.match(sql)
    if not found:
        return ""
    text = found.group("block") or re.sub(r"^\s*--\s?", "", found.group("lines") or "", flags=re.M)
    words = " ".join(text.split())
    return re.split(r"(?<=\.)\s", words, maxsplit=1)[0].rstrip(".")


def described_results(events: Iterable[Any], specs: Mapping[Any, str | None]) -> Iterator[Any]:
    """Pass dbt's events through, giving each test's result the words its check has.

    dagster-dbt yields a test's result with no description: the UI showed a failed check with
    only a row count in its metadata. Each result now says how many rows failed and what the
    test asserts (`specs`: check key -> the check's description), as the run summary does.
    """
    import dagster as dg

    from orchestration.run_events import failed_rows_text

    for event in events:
        if isinstance(event, dg.AssetCheckResult) and not event.description:
            what = specs.get(dg.AssetCheckKey(event.asset_key, event.check_name))
            text = ": ".join(p for p in (failed_rows_text(event.metadata), what) if p)
            if text:
                event = event._replace(description=text)
        yield event
